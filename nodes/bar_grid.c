/* bar_grid: the bar grid of a loop-based song, checked against the song's own
 * repetition.
 *
 * A beat tracker can put the downbeat a beat late or double its tempo halfway
 * through; a song built from loops repeats at the bar. So the bar period is
 * chosen among the lengths the tracker's beats allow (3 or 4 of its beats, at
 * its tempo, half or double it) as the one the song repeats at best, and the
 * grid's phase among the tracker's beats as the one whose bar lines fall where
 * the arrangement changes. doc/unmix.md says why each step is what it is. */
#include "../vm/node.h"
#include "../vm/parallel.h"
#include "dsp/bar_rank.h"
#include "dsp/magnitude.h"
#include "dsp/repet.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const st_param params[] = {
    {"tolerance", ST_P_NUMBER, .def = 0.9, .min = 0.5, .max = 1,
     .doc = "bar lengths whose repetition score is at least this fraction of the best one's "
            "count as repeating as well; among them the tracker's own bar length is kept "
            "(else the shortest)"},
    {NULL}};

extern const st_node_type st_node_bar_grid;

enum { BAND = 8 }; /* bins summed per band */

/* r[l] for l in [0, n_lags): the autocorrelation coefficient of the
 * song's features (each bin's deviation from its mean over frames t0..t1)
 * at lag l frames, summed over bins; r[0] = 1. */
static int repetition(const float *y, int64_t t0, int64_t t1, int n_bins, int n_threads, double *r,
                      int64_t n_lags)
{
    const int64_t n = t1 - t0;
    float *c = malloc((size_t)n * n_bins * sizeof *c);
    double *mean = calloc((size_t)n_bins, sizeof *mean), *beat = malloc((size_t)n * sizeof *beat);
    int status = c && mean && beat ? ST_OK : ST_ERR;
    for (int64_t t = 0; status == ST_OK && t < n; t++)
        for (int k = 0; k < n_bins; k++)
            mean[k] += y[(t0 + t) * n_bins + k] / (double)n;
    for (int64_t t = 0; status == ST_OK && t < n; t++)
        for (int k = 0; k < n_bins; k++)
            c[t * n_bins + k] = (float)(y[(t0 + t) * n_bins + k] - mean[k]);
    if (status == ST_OK) status = st_beat_spectrum(c, 1, n, n_bins, n_threads, beat);
    for (int64_t l = 0; status == ST_OK && l < n_lags; l++)
        r[l] = l < n && beat[0] > 0 ? beat[l] / beat[0] : 0;
    free(c);
    free(mean);
    free(beat);
    return status;
}

/* r's largest value within 3 % of a lag: how well the song repeats after
 * that long */
static double peak(const double *r, int64_t n_lags, double lag)
{
    double best = -1;
    for (int64_t l = (int64_t)ceil(0.97 * lag); l <= (int64_t)floor(1.03 * lag); l++)
        if (l >= 1 && l < n_lags && r[l] > best) best = r[l];
    return best;
}

/* a ratio within 4 % of 2, 3/2, 4/3 or their inverses */
static int metrical(double ratio)
{
    static const double q[6] = {2, 0.5, 1.5, 2.0 / 3, 4.0 / 3, 0.75};
    for (int i = 0; i < 6; i++)
        if (fabs(log(ratio / q[i])) < log(1.04)) return 1;
    return 0;
}

/* The period to a fraction of a frame: each multiple j of p within max_lag,
 * in turn, moved to r's nearest peak (within 2 frames, its vertex by a
 * parabola through the peak and its neighbours), and p re-estimated after
 * each as the least-squares line through the origin, p = sum j x_j / sum j^2. Integer lags alone
 * would bias the period to whole frames, and a bar grid a tenth of a frame off drifts a frame in
 * ten bars. */
static double precise(const double *r, int64_t n_lags, double max_lag, double p)
{
    double num = 0, den = 0;
    for (int j = 1; j * p <= max_lag; j++) {
        int64_t c = (int64_t)llround(j * p), best = c;
        for (int64_t l = c - 2; l <= c + 2; l++)
            if (l >= 1 && l + 1 < n_lags && r[l] > r[best]) best = l;
        if (best < 1 || best + 1 >= n_lags) break;
        double a = r[best - 1], b = r[best], d = r[best + 1], curve = a - 2 * b + d;
        double x = (double)best + (curve < 0 ? 0.5 * (a - d) / curve : 0);
        num += j * x;
        den += (double)j * j;
        p = num / den; /* the next multiple is sought where this estimate puts it */
    }
    return p;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int64_t n)
{
    qsort(v, (size_t)n, sizeof *v, compare_doubles);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* A run of beats at one tempo: beats first..last (inclusive), the median
 * interval in frames and the tracker's beats per bar in it. */
typedef struct {
    int64_t first, last;
    double interval;
    int beats_per_bar;
} run;

/* Runs of the tracker's beats (times in frames): consecutive intervals
 * within 15 % of the one before. Returns the number of runs with at least
 * 4 intervals (into runs, sorted by time). */
static int64_t tempo_runs(const double *t, const int *label, int64_t n, run *runs, double *scratch)
{
    int64_t n_runs = 0, start = 0;
    for (int64_t i = 1; i <= n; i++) {
        int breaks = i == n || (i >= 2 && fabs((t[i] - t[i - 1]) - (t[i - 1] - t[i - 2])) >
                                              0.15 * (t[i - 1] - t[i - 2]));
        if (!breaks) continue;
        int64_t last = i - 1;
        if (last - start >= 4) {
            int most = 1;
            for (int64_t j = start; j <= last; j++)
                if (label[j] > most) most = label[j];
            for (int64_t j = start; j < last; j++)
                scratch[j - start] = t[j + 1] - t[j];
            runs[n_runs++] = (run){start, last, median(scratch, last - start),
                                   most >= 3 && most <= 4 ? most : 4};
        }
        start = i - 1;
    }
    return n_runs;
}

/* The features of frames begin..end (see bar_grid_run), frames split over
 * threads; |z| is cabsf's, without the call. */
typedef struct {
    const st_spectrum *s;
    float *y;
    int n_bands;
    int failed;
} features_job;

static void features(void *ctx, int64_t begin, int64_t end)
{
    features_job *j = ctx;
    const st_spectrum *s = j->s;
    const int64_t n_bins = s->n_bins;
    const size_t per_channel = (size_t)s->n_frames * n_bins;
    float *m = malloc(2 * (size_t)n_bins * sizeof *m), *mag = m + n_bins;
    if (!m) {
        __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
        return;
    }
    for (int64_t t = begin; t < end; t++) {
        st_channel_mean_magnitudes(s->data + (size_t)t * n_bins, per_channel, s->n_channels, n_bins,
                                   m, mag);
        for (int64_t k = 0; k < n_bins; k++)
            j->y[t * j->n_bands + k / BAND] += sqrtf(m[k]);
    }
    free(m);
}

static int bar_grid_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p,
                        st_value **out)
{
    (void)n_in;
    const st_spectrum *s = &in[0]->u.spectrum;
    const st_events *e = &in[1]->u.events;
    const double tolerance = st_num(p, "tolerance");
    const double frame_s = s->hop_samples / s->rate_hz,
                 offset_s = s->center ? 0 : s->n_fft / 2.0 / s->rate_hz;
    const int64_t n = s->n_frames, n_bins = s->n_bins, n_beats = e->n_events;
    const double duration_s = (double)s->length_samples / s->rate_hz;
    if (n_beats < 6)
        return st_fail(ctx, "%lld beats are too few to find the bars (at least 6)",
                       (long long)n_beats);
    for (int64_t i = 1; i < n_beats; i++)
        if (!(e->time_s[i] > e->time_s[i - 1]))
            return st_fail(ctx, "the beats are not sorted (%g s after %g s)", e->time_s[i],
                           e->time_s[i - 1]);
    const int64_t n_lags = n / 2 + 2;
    const int n_bands = (int)((n_bins + BAND - 1) / BAND);
    float *y = calloc((size_t)n * n_bands, sizeof *y);
    double *r = malloc((size_t)n_lags * sizeof *r);
    double *t = malloc((size_t)n_beats * 2 * sizeof *t), *scratch = t + n_beats;
    run *runs = malloc((size_t)n_beats * sizeof *runs);
    st_value *grid = NULL, *choice = NULL;
    int status = y && r && t && runs ? ST_OK : st_fail(ctx, "out of memory");
    /* the features: the magnitude's square root (mean over channels), so
     * that quiet parts count as well as loud ones, summed over bands of BAND
     * bins (the repetition is in time; a finer frequency axis only costs) */
    if (status == ST_OK) {
        features_job job = {s, y, n_bands, 0};
        st_parallel_for(ctx->n_threads, n, features, &job);
        if (job.failed) status = st_fail(ctx, "out of memory");
    }
    for (int64_t i = 0; status == ST_OK && i < n_beats; i++)
        t[i] = (e->time_s[i] - offset_s) / frame_s;
    int64_t n_runs = status == ST_OK ? tempo_runs(t, e->label, n_beats, runs, scratch) : 0;
    if (status == ST_OK && n_runs == 0)
        status = st_fail(ctx, "no steady run of 5 beats among the %lld beats", (long long)n_beats);
    if (status == ST_OK && repetition(y, 0, n, n_bands, ctx->n_threads, r, n_lags))
        status = st_fail(ctx, "out of memory");
    /* the bar: the tracker's in its first steady run (m of its beats). A
     * later run at another bar length is a tempo jump. In a metrical ratio
     * (2, 3/2, 4/3 or their inverses) it is the tracker's usual error (its
     * beat doubled or halved, its meter changed) or a double- or half-time
     * section, whose bar is the same: ignored. Otherwise it is supported when
     * the song repeats better at each run's own bar than at the other's
     * within that run's span; a supported jump leaves the tracker's grid as
     * it is (a rigid grid cannot follow it), one the repetition does not
     * support is ignored. */
    const double max_lag = n / 2.0;
    double beat = status == ST_OK ? runs[0].interval : 0;
    int m = status == ST_OK ? runs[0].beats_per_bar : 0, jump = 0;
    double *local_a = status == ST_OK ? malloc((size_t)n_lags * 2 * sizeof *local_a) : NULL,
           *local_b = local_a ? local_a + n_lags : NULL;
    if (status == ST_OK && !local_a) status = st_fail(ctx, "out of memory");
    for (int64_t u = 1; status == ST_OK && u < n_runs && !jump; u++) {
        double bar = m * beat, other = runs[u].beats_per_bar * runs[u].interval;
        if (fabs(log(other / bar)) < log(1.04) || metrical(other / bar)) continue;
        int64_t a0 = (int64_t)fmax(0, t[runs[0].first]), a1 = (int64_t)fmin(n, t[runs[u - 1].last]);
        int64_t b0 = (int64_t)fmax(0, t[runs[u].first]), b1 = (int64_t)fmin(n, t[runs[u].last]);
        double longest = fmax(bar, other);
        if (a1 - a0 < 3 * longest || b1 - b0 < 3 * longest) continue; /* too short to tell */
        if (repetition(y, a0, a1, n_bands, ctx->n_threads, local_a, n_lags) ||
            repetition(y, b0, b1, n_bands, ctx->n_threads, local_b, n_lags)) {
            status = st_fail(ctx, "out of memory");
            break;
        }
        jump = peak(local_a, n_lags, bar) > peak(local_a, n_lags, other) &&
               peak(local_b, n_lags, other) > peak(local_b, n_lags, bar);
    }
    free(local_a);
    /* the meter: 3 or 4 of those beats, the tracker's unless the song
     * repeats clearly better (1 / tolerance times) at the other */
    if (status == ST_OK && !jump) {
        int other = m == 4 ? 3 : 4;
        if (other * beat <= max_lag &&
            tolerance * peak(r, n_lags, other * beat) > peak(r, n_lags, m * beat))
            m = other;
    }
    if (status == ST_OK && !jump && m * beat > max_lag)
        status = st_fail(ctx, "the song (%.1f s) is shorter than two of its bars (%.2f s)",
                         duration_s, m * beat * frame_s);
    /* the phase: the tracker's beats, modulo the period, scored by the
     * effective rank of the bar slices they cut; the tracker's downbeats break
     * ties */
    double period = status == ST_OK && !jump ? precise(r, n_lags, max_lag, m * beat) : 0;
    /* never reached with finite audio, but a NaN cast to an integer below is undefined */
    if (status == ST_OK && !jump && !(isfinite(period) && period >= 1))
        status = st_fail(ctx, "the bar's period (%g frames) is not a number of frames", period);
    double phase = 0, phase_best = -1;
    if (status == ST_OK && !jump) {
        const int n_slices = (int)floor(n / period) - 2;
        st_bar_rank *z = n_slices >= 2 ? st_bar_rank_create(y, n, n_bands, n_slices) : NULL;
        char *tried = calloc((size_t)ceil(period) + 2, 1); /* 1: a beat, 2: a downbeat */
        double *phase_of = malloc(((size_t)ceil(period) + 2) * sizeof *phase_of);
        double *line = malloc(((size_t)(n_slices > 0 ? n_slices : 0) + 2) * sizeof *line);
        if (!tried || !phase_of || !line || (n_slices >= 2 && !z))
            status = st_fail(ctx, "out of memory");
        /* each phase once (to the nearest frame), remembering whether a
         * downbeat of the tracker's falls there */
        const int64_t n_keys = (int64_t)ceil(period) + 1;
        for (int64_t i = 0; status == ST_OK && i < n_beats; i++) {
            double ph = fmod(t[i], period);
            if (ph < 0) ph += period;
            if (!isfinite(ph)) continue; /* a beat time that is not a number */
            int64_t key = (int64_t)llround(ph);
            if (!tried[key]) tried[key] = 1, phase_of[key] = ph;
            if (e->label[i] == 1) tried[key] = 2;
        }
        /* the phase's score: the bar slices' effective rank (dsp/bar_rank.h)
         * on the two placements of n_slices bars from its first and second
         * line (both fit: n_slices is two fewer than the bars in the song) */
        for (int64_t key = 0; status == ST_OK && n_slices >= 2 && key < n_keys; key++) {
            double sc = 0;
            if (!tried[key]) continue;
            for (int j = 0; j < n_slices + 2; j++)
                line[j] = phase_of[key] + j * period;
            if (st_bar_rank_score(z, line, n_slices + 2, n_slices, &sc, NULL, NULL)) {
                status = st_fail(ctx, "the eigenvalues of the bars' Gram matrix did not converge");
                break;
            }
            if (phase_best < 0 || sc < phase_best * (1 - 1e-9) ||
                (sc <= phase_best * (1 + 1e-9) && tried[key] == 2))
                phase_best = sc, phase = phase_of[key];
        }
        st_bar_rank_destroy(z);
        free(tried);
        free(phase_of);
        free(line);
    }
    /* the grid: bar lines at phase + j period within the song, with the beats
     * between them; after a supported tempo jump, the tracker's beats */
    const double bar_s = period * frame_s;
    double first_s = 0;
    if (status == ST_OK && !jump) {
        const double start_s = phase * frame_s + offset_s;
        first_s = start_s - floor(start_s / bar_s) * bar_s; /* the first line at or after 0 */
        /* a line within half a frame of the song's start is at its start: the
         * cube places bar lines to the frame, and a bar of no frames helps no one */
        if (first_s > bar_s - frame_s / 2) first_s -= bar_s;
        if (first_s < frame_s / 2) first_s = 0;
        int64_t n_lines = (int64_t)floor((duration_s - first_s) / bar_s) + 1, k = 0;
        if (!(grid = st_events_new(n_lines * m))) status = st_fail(ctx, "out of memory");
        for (int64_t j = 0; status == ST_OK && j < n_lines; j++)
            for (int b = 0; b < m; b++) {
                double time = first_s + (j + (double)b / m) * bar_s;
                if (time >= duration_s) break;
                grid->u.events.time_s[k] = time;
                grid->u.events.label[k++] = b + 1;
            }
        if (grid) grid->u.events.n_events = k;
    } else if (status == ST_OK) {
        if (!(grid = st_events_new(n_beats))) status = st_fail(ctx, "out of memory");
        for (int64_t i = 0; status == ST_OK && i < n_beats; i++) {
            grid->u.events.time_s[i] = e->time_s[i];
            grid->u.events.label[i] = e->label[i];
        }
    }
    if (status == ST_OK) {
        static const char *const choice_axes[] = {"field"};
        int64_t choice_shape[1] = {5};
        if (!(choice = st_array_new(1, choice_shape, choice_axes)))
            status = st_fail(ctx, "out of memory");
    }
    if (status == ST_OK) {
        float *c = choice->u.array.data;
        c[0] = (float)bar_s;
        c[1] = (float)first_s;
        c[2] = jump ? 0 : (float)m;
        c[3] = (float)jump;
        c[4] = (float)(runs[0].beats_per_bar * runs[0].interval * frame_s);
        st_value *fields[2] = {grid, choice};
        if (!(*out = st_record_of_outputs(&st_node_bar_grid, fields)))
            status = st_fail(ctx, "out of memory");
    }
    st_value_unref(grid);
    st_value_unref(choice);
    free(y);
    free(r);
    free(t);
    free(runs);
    return status;
}

const st_node_type st_node_bar_grid = {
    .name = "bar_grid",
    .doc = "The bar grid of a song from a beat tracker's beats, checked against the song's "
           "repetition. The bar is m of the tracker's beats in its first steady run (m = 3 or "
           "4: the tracker's meter, unless the song repeats clearly better, by 1 / tolerance, "
           "at the other); a later run at another bar length (a tempo jump) counts only when "
           "the song repeats better at each run's own bar than at the other's within that run: "
           "a jump the repetition does not support (a tracker doubling its tempo halfway) is "
           "ignored; after one it supports, the tracker's beats are given back as they are. "
           "The bar length is then measured on the autocorrelation of the magnitudes' square "
           "roots (its peaks at every multiple of the bar, to a fraction of a frame), and the "
           "phase is chosen among the tracker's beats as the one whose bar slices have the "
           "lowest effective rank (slices cut at the bar lines are sums of the same few loops; "
           "a slice across a change, where a part enters or leaves, is not). A rigid grid: one "
           "bar length for the whole song. Outputs: downbeats (events, 1 = downbeat, with the "
           "beats between); choice (bar length s, first downbeat s, beats per bar, 1 when a "
           "supported jump kept the tracker's beats, the tracker's first bar length s).",
    .inputs = (const st_port[]){{"spectrum", ST_SPECTRUM}, {"beats", ST_EVENTS}, {NULL}},
    .outputs = (const st_port[]){{"downbeats", ST_EVENTS}, {"choice", ST_ARRAY}, {NULL}},
    .params = params,
    /* 2: the features summed in bands of 8 bins (the grid can move by a fraction of a frame) */
    .version = 2,
    .run = bar_grid_run,
};
