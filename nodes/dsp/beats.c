#include "beats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const st_beat_options st_beat_defaults = {0.07, 0.04, 0.35, 0.2, 0.2, 0.2, 0.175, 0.175, 41};

int st_beat_times_check(const double *t, int n, char *why, size_t why_size)
{
    for (int i = 0; i < n; i++) {
        if (!isfinite(t[i]) || t[i] < 0) {
            snprintf(why, why_size, "beat %d is at %g s (times must be finite and not negative)",
                     i + 1, t[i]);
            return -1;
        }
        if (t[i] > ST_BEAT_MAX_TIME_S) {
            snprintf(why, why_size, "beat %d is at %g s, past %g s (are the times in seconds?)",
                     i + 1, t[i], ST_BEAT_MAX_TIME_S);
            return -1;
        }
        if (i > 0 && t[i] <= t[i - 1]) {
            snprintf(why, why_size, "beat %d (%g s) %s beat %d", i + 1, t[i],
                     t[i] == t[i - 1] ? "repeats" : "comes before", i);
            return -1;
        }
    }
    return 0;
}

/* Python's a[i] with negative i counting from the end, as mir_eval relies on. */
static double at(const double *a, int n, int i) { return a[i < 0 ? i + n : i]; }

/* ---- F-measure: maximum bipartite matching (Kuhn's augmenting paths) ---- */

typedef struct {
    const double *ref, *est;
    int n_ref, n_est;
    double window;
    int *match_of_ref; /* est index matched to each reference, or -1 */
    char *seen;
} matcher;

static int augment(matcher *m, int e)
{
    for (int r = 0; r < m->n_ref; r++) {
        if (m->seen[r] || fabs(m->ref[r] - m->est[e]) > m->window) continue;
        m->seen[r] = 1;
        if (m->match_of_ref[r] < 0 || augment(m, m->match_of_ref[r])) {
            m->match_of_ref[r] = e;
            return 1;
        }
    }
    return 0;
}

double st_beat_f_measure(const double *ref, int n_ref, const double *est, int n_est, double window)
{
    if (n_ref == 0 || n_est == 0) return 0;
    matcher m = {
        ref, est, n_ref, n_est, window, malloc((size_t)n_ref * sizeof(int)), malloc((size_t)n_ref)};
    if (!m.match_of_ref || !m.seen) {
        free(m.match_of_ref);
        free(m.seen);
        return NAN;
    }
    for (int r = 0; r < n_ref; r++)
        m.match_of_ref[r] = -1;
    int matched = 0;
    for (int e = 0; e < n_est; e++) {
        memset(m.seen, 0, (size_t)n_ref);
        matched += augment(&m, e);
    }
    free(m.match_of_ref);
    free(m.seen);
    double precision = (double)matched / n_est, recall = (double)matched / n_ref;
    if (precision == 0 && recall == 0) return 0;
    return 2 * precision * recall / (precision + recall);
}

/* ---- metrical variations: original, off-beat, double, half odd, half even ---- */

typedef struct {
    double *beats;
    int n;
} beat_list;

static int variations(const double *ref, int n, beat_list v[5])
{
    int n_double = n > 0 ? 2 * n - 1 : 0;
    double *d = malloc(((size_t)n_double + 1) * sizeof *d);
    if (!d) return -1;
    for (int k = 0; k < n_double; k++)
        d[k] = k % 2 ? 0.5 * (ref[k / 2] + ref[k / 2 + 1]) : ref[k / 2];
    v[0] = (beat_list){(double *)ref, n};
    v[1] = (beat_list){malloc(((size_t)n + 1) * sizeof(double)), 0};
    v[2] = (beat_list){d, n_double};
    v[3] = (beat_list){malloc(((size_t)n + 1) * sizeof(double)), 0};
    v[4] = (beat_list){malloc(((size_t)n + 1) * sizeof(double)), 0};
    if (!v[1].beats || !v[3].beats || !v[4].beats) return -1;
    for (int k = 1; k < n_double; k += 2)
        v[1].beats[v[1].n++] = d[k];
    for (int k = 0; k < n; k += 2)
        v[3].beats[v[3].n++] = ref[k];
    for (int k = 1; k < n; k += 2)
        v[4].beats[v[4].n++] = ref[k];
    return 0;
}

static void free_variations(beat_list v[5])
{
    for (int i = 1; i < 5; i++)
        free(v[i].beats);
}

static int nearest(const double *a, int n, double x)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (fabs(x - a[i]) < fabs(x - a[best])) best = i;
    return best;
}

static double cemgil_one(const beat_list *v, const double *est, int n_est, double sigma)
{
    double accuracy = 0;
    for (int i = 0; i < v->n; i++) {
        double d = fabs(v->beats[i] - est[nearest(est, n_est, v->beats[i])]);
        accuracy += exp(-(d * d) / (2.0 * sigma * sigma));
    }
    return accuracy / (0.5 * (n_est + v->n));
}

static double goto_score(const double *ref, int n, const double *est, int n_est,
                         const st_beat_options *o)
{
    double *error = malloc((size_t)n * sizeof *error);
    int *wrong = malloc((size_t)n * sizeof *wrong), n_wrong = 0;
    double score = 0;
    if (!error || !wrong) goto done;
    for (int i = 0; i < n; i++)
        error[i] = 1;
    for (int i = 1; i < n - 1; i++) {
        double previous = 0.5 * (ref[i] - ref[i - 1]), next = 0.5 * (ref[i + 1] - ref[i]);
        double lo = ref[i] - previous, hi = ref[i] + next;
        int count = 0, which = -1;
        for (int e = 0; e < n_est; e++)
            if (est[e] >= lo && est[e] < hi) count++, which = e;
        if (count == 1) {
            double offset = est[which] - ref[i];
            error[i] = offset < 0 ? offset / previous : offset / next;
        }
    }
    for (int i = 0; i < n; i++)
        if (fabs(error[i]) > o->goto_threshold) wrong[n_wrong++] = i;
    int start = 0, end = 0, have_track = 0; /* track = error[start, end) */
    if (n_wrong < 3) {
        start = wrong[0] + 1;
        end = wrong[n_wrong - 1] - 1;
        have_track = 1;
    } else {
        int longest = 0, first = 0;
        for (int k = 0; k + 1 < n_wrong; k++)
            if (wrong[k + 1] - wrong[k] > longest) longest = wrong[k + 1] - wrong[k], first = k;
        if (longest - 1 > 0.25 * (n - 2)) {
            start = wrong[first];
            end = wrong[first + 1] + 1;
            have_track = 1;
        }
    }
    if (have_track && end - start > 0) { /* an empty track (Python's empty slice) fails */
        int m = end - start;
        double mean_abs = 0, mean = 0, var = 0;
        for (int i = start; i < end; i++)
            mean_abs += fabs(error[i]), mean += error[i];
        mean_abs /= m, mean /= m; /* an empty track gives NaN, which fails the tests below */
        for (int i = start; i < end; i++)
            var += (error[i] - mean) * (error[i] - mean);
        double std = sqrt(var / (m - 1));
        if (mean_abs < o->goto_mu && std < o->goto_sigma) score = 1;
    }
done:
    free(error);
    free(wrong);
    return score;
}

static int compare_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorted unique 10 ms cells of beats shifted by offset. */
static int cells(const double *beats, int n, double offset, long *out)
{
    for (int i = 0; i < n; i++) { /* times are checked; the clamp keeps the cast defined */
        double cell = ceil((beats[i] - offset) * 100);
        out[i] = cell >= 1e15 ? (long)1e15 : cell <= -1e15 ? (long)-1e15 : (long)cell;
    }
    qsort(out, (size_t)n, sizeof *out, compare_long);
    int m = 0;
    for (int i = 0; i < n; i++)
        if (m == 0 || out[i] != out[m - 1]) out[m++] = out[i];
    return m;
}

static double p_score(const double *ref, int n_ref, const double *est, int n_est, double threshold)
{
    if (n_ref <= 1 || n_est <= 1) return 0;
    double offset = fmin(ref[0], est[0]);
    for (int i = 0; i < n_ref; i++)
        offset = fmin(offset, ref[i]);
    for (int i = 0; i < n_est; i++)
        offset = fmin(offset, est[i]);
    long *r = malloc((size_t)n_ref * sizeof *r), *e = malloc((size_t)n_est * sizeof *e);
    double *gaps = malloc((size_t)n_ref * sizeof *gaps);
    double score = NAN;
    if (r && e && gaps) {
        int nr = cells(ref, n_ref, offset, r), ne = cells(est, n_est, offset, e);
        for (int i = 0; i + 1 < nr; i++)
            gaps[i] = (double)(r[i + 1] - r[i]);
        qsort(gaps, (size_t)(nr - 1), sizeof *gaps, compare_double);
        double median = nr - 1 == 0    ? NAN
                        : (nr - 1) % 2 ? gaps[(nr - 1) / 2]
                                       : 0.5 * (gaps[(nr - 1) / 2 - 1] + gaps[(nr - 1) / 2]);
        if (!(median >= 0 && median < 1e15)) { /* mir_eval raises here: repeated beats only */
            free(r), free(e), free(gaps);
            return 0;
        }
        long window = (long)nearbyint(threshold * median); /* numpy rounds half to even */
        long pairs = 0;
        for (int i = 0, lo = 0; i < nr; i++) { /* (ref cell, est cell) pairs within the window */
            while (lo < ne && e[lo] < r[i] - window)
                lo++;
            for (int j = lo; j < ne && e[j] <= r[i] + window; j++)
                pairs++;
        }
        score = (double)pairs / (n_est > n_ref ? n_est : n_ref);
    }
    free(r);
    free(e);
    free(gaps);
    return score;
}

/* Continuity on one variation: continuous and total accuracy. */
static int continuity_one(const beat_list *v, const double *est, int n_est,
                          const st_beat_options *o, double *continuous, double *total)
{
    const double *ref = v->beats;
    int n_ref = v->n, n = n_ref > n_est ? n_ref : n_est;
    char *used = calloc((size_t)n + 1, 1), *success = calloc((size_t)n + 2, 1);
    if (!used || !success) {
        free(used);
        free(success);
        return -1;
    }
    for (int m = 0; m < n_est && n_ref > 0; m++) {
        int k = nearest(ref, n_ref, est[m]);
        double diff = fabs(est[m] - ref[k]), phase, period, ref_interval, est_interval;
        if (used[k]) continue;
        if (m == 0 || k == 0) {
            ref_interval = k + 1 < n_ref ? ref[k + 1] - ref[k] : ref[k] - at(ref, n_ref, k - 1);
            phase = ref_interval == 0 ? (diff == 0 ? 1 : INFINITY) : fabs(diff / ref_interval);
            est_interval = m + 1 < n_est ? est[m + 1] - est[m] : est[m] - at(est, n_est, m - 1);
            period = ref_interval == 0 ? (est_interval == 0 ? 0 : INFINITY)
                                       : fabs(1 - est_interval / ref_interval);
        } else {
            ref_interval = ref[k] - ref[k - 1];
            phase = fabs(diff / ref_interval);
            est_interval = est[m] - est[m - 1];
            period = fabs(1 - est_interval / ref_interval);
        }
        if (phase < o->continuity_phase && period < o->continuity_period) {
            used[k] = 1;
            success[m + 1] = 1; /* success[0] and success[n + 1] stay 0: the sentinels */
        }
    }
    int longest = 0, last_failure = 0, hits = 0;
    for (int i = 1; i <= n + 1; i++) {
        if (i <= n) hits += success[i];
        if (!success[i]) {
            if (i - last_failure - 1 > longest) longest = i - last_failure - 1;
            last_failure = i;
        }
    }
    *continuous = (double)longest / n;
    *total = (double)hits / n;
    free(used);
    free(success);
    return 0;
}

static double entropy(const double *ref, int n_ref, const double *est, int n_est, int bins)
{
    double *edges = malloc(((size_t)bins + 1) * sizeof *edges);
    double *count = calloc((size_t)bins, sizeof *count);
    double h = NAN;
    if (!edges || !count) goto done;
    double step = 1.0 / bins; /* numpy.linspace(-0.5, 0.5, bins + 1) */
    for (int i = 0; i <= bins; i++)
        edges[i] = -0.5 + i * step;
    edges[bins] = 0.5;
    double total = 0;
    for (int i = 0; i < n_est; i++) {
        int c = 0;
        for (int r = 1; r < n_ref; r++)
            if (fabs(est[i] - ref[r]) < fabs(est[i] - ref[c])) c = r;
        double error = est[i] - ref[c], interval = 0;
        if (c == 0) interval = 0.5 * (ref[1] - ref[0]);
        if (c == n_ref - 1)
            interval = 0.5 * (ref[n_ref - 1] - ref[n_ref - 2]);
        else if (error < 0)
            interval = 0.5 * (ref[c] - at(ref, n_ref, c - 1));
        else
            interval = 0.5 * (ref[c + 1] - ref[c]);
        double x = 0.5 * error / interval;
        x = x + 0.5;
        x = x - (-1.0) * floor(x / -1.0) + 0.5; /* numpy.mod(x + .5, -1) + .5 */
        if (!(x >= edges[0] && x <= edges[bins])) continue;
        int lo = 0, hi = bins; /* the bin [edges[lo], edges[lo + 1]); the last one closed */
        while (hi - lo > 1) {
            int mid = (lo + hi) / 2;
            if (x >= edges[mid])
                lo = mid;
            else
                hi = mid;
        }
        count[lo] += 1;
        total += 1;
    }
    h = 0;
    for (int i = 0; i < bins; i++) {
        double p = count[i] / total;
        if (p == 0) p = 1;
        h -= p * log2(p);
    }
done:
    free(edges);
    free(count);
    return h;
}

int st_beat_scores_compute(const double *ref, int n_ref, const double *est, int n_est,
                           const st_beat_options *o, st_beat_scores *out)
{
    memset(out, 0, sizeof *out);
    out->f_measure = st_beat_f_measure(ref, n_ref, est, n_est, o->f_measure_window);
    if (n_ref == 0 || n_est == 0) return 0;
    beat_list v[5] = {{0}};
    if (variations(ref, n_ref, v)) {
        free_variations(v);
        return -1;
    }
    out->cemgil_best = -INFINITY;
    for (int i = 0; i < 5; i++) {
        double a = cemgil_one(&v[i], est, n_est, o->cemgil_sigma);
        if (i == 0) out->cemgil = a;
        if (a > out->cemgil_best) out->cemgil_best = a;
    }
    out->goto_score = goto_score(ref, n_ref, est, n_est, o);
    out->p_score = p_score(ref, n_ref, est, n_est, o->p_score_threshold);
    if (n_ref > 1 && n_est > 1) {
        out->amlc = out->amlt = -INFINITY;
        for (int i = 0; i < 5; i++) {
            double c, t;
            if (continuity_one(&v[i], est, n_est, o, &c, &t)) {
                free_variations(v);
                return -1;
            }
            if (i == 0) out->cmlc = c, out->cmlt = t;
            if (c > out->amlc) out->amlc = c;
            if (t > out->amlt) out->amlt = t;
        }
        double norm = log2(o->information_bins);
        double forward = entropy(ref, n_ref, est, n_est, o->information_bins);
        double backward = entropy(est, n_est, ref, n_ref, o->information_bins);
        out->information_gain = (norm - (forward > backward ? forward : backward)) / norm;
    }
    free_variations(v);
    return 0;
}
