/* madmom's bar-pointer DBN: state space, transition and observation models,
 * Viterbi decoding and the downbeat processor's threshold and correction,
 * each step in madmom's arithmetic and order (so that paths, not only
 * scores, come out identical). */
#include "dbn.h"

#include "../../vm/alloc.h"
#include "../../vm/parallel.h"
#include "../../vm/simd.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const st_dbn_config st_dbn_defaults = {
    .beats_per_bar = 4,
    .min_bpm = 55.0,
    .max_bpm = 215.0,
    .n_tempi = 60,
    .transition_lambda = 100.0,
    .observation_lambda = 16.0,
    .fps = 100.0,
};

#define MAX_INTERVALS 65535 /* back-pointers are uint16_t */

/* Owns every array. Transitions into the first state of tempo i (the same
 * for every beat, since one lambda serves all) come from the last state of
 * tempo j of the previous beat, j = lo[i] .. hi[i] (the non-zero
 * probabilities of a row form one run, as they fall with |ratio - 1|), with
 * log-probability log_p[into[i] + j - lo[i]]; a zero inside a run would be
 * -inf, which never wins, as in madmom, where it is absent. */
struct st_dbn {
    int n_beats, n_int, n_states, beat_states; /* beat_states: S, one beat's states */
    int *interval, *offset;                    /* n_int each */
    int *n_region;                             /* n_beats x n_int: phases in the beat region */
    int *into, *lo, *hi;                       /* n_int + 1, n_int, n_int */
    double *log_p;
    double observation_lambda;
    /* the same transitions by source, for the vector loops: row j holds
     * log p(j -> i) for i = 0 .. n_pad - 1 (-inf where none), and reaches
     * the blocks of eight destinations first_block[j] .. end_block[j] - 1 */
    int n_pad, *first_block, *end_block;
    double *by_source;
    /* for the vector shifts: bit j of region_bits[b * n_chunks + q] says whether state
     * 1 + 8 q + j of beat b lies in its beat region (its predecessor's score gets the region's
     * observation); the first state of each tempo, shifted into as well, is overwritten */
    int n_chunks;
    uint8_t *region_bits;
    int vector; /* the AVX-512 loops (same results, chosen at run time) */
};

/* Above this many tempi the by-source table (n_int x n_pad doubles) is not made. */
#define MAX_VECTOR_INTERVALS 512

const char *st_dbn_config_error(const st_dbn_config *c)
{
    if (c->beats_per_bar < 1 || c->beats_per_bar > 64) return "beats per bar must be 1 to 64";
    if (!(c->fps > 0) || !(c->min_bpm > 0) || !(c->max_bpm >= c->min_bpm))
        return "the tempo range must be positive and ordered";
    double longest = 60.0 * c->fps / c->min_bpm;
    if (round(60.0 * c->fps / c->max_bpm) < 1 || longest > 1e5)
        return "the tempo range gives beat intervals shorter than a frame or absurdly long";
    if (c->n_tempi < 0 || c->n_tempi > MAX_INTERVALS) return "the number of tempi is out of range";
    if (!(c->transition_lambda > 0)) return "transition lambda must be positive";
    if (!(c->observation_lambda > 1)) return "observation lambda must be above 1";
    return NULL;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* BeatStateSpace's intervals: every integer between the rounded bounds, or,
 * when fewer tempi are asked for, the unique rounded points of a log2-spaced
 * grid, its size grown until enough distinct intervals remain. Writes at
 * most cap intervals; returns their number, or -1 when memory is short. */
static int beat_intervals(const st_dbn_config *c, int *out, int cap)
{
    double min_interval = 60.0 * c->fps / c->max_bpm, max_interval = 60.0 * c->fps / c->min_bpm;
    int lo = (int)nearbyint(min_interval), hi = (int)nearbyint(max_interval);
    int n_all = hi - lo + 1;
    if (c->n_tempi == 0 || c->n_tempi >= n_all) {
        if (n_all > cap) n_all = cap;
        for (int i = 0; i < n_all; i++)
            out[i] = lo + i;
        return n_all;
    }
    int n = 0;
    double a = log2(min_interval), b = log2(max_interval);
    for (int num = c->n_tempi; n < c->n_tempi; num++) {
        /* np.logspace = 2 ** np.linspace(a, b, num): arange * step + start, last = stop */
        double *v = malloc((size_t)num * sizeof *v);
        if (!v) return -1;
        double step = (b - a) / (num - 1);
        for (int k = 0; k < num; k++)
            v[k] = nearbyint(pow(2.0, k * step + a));
        v[num - 1] = nearbyint(pow(2.0, b));
        qsort(v, (size_t)num, sizeof *v, compare_double);
        n = 0;
        for (int k = 0; k < num; k++)
            if (n == 0 || v[k] != out[n - 1]) {
                if (n == cap) break;
                out[n++] = (int)v[k];
            }
        free(v);
        if (num > MAX_INTERVALS) break;
    }
    return n;
}

/* numpy's pairwise sum for a short contiguous row (up to 128 values): eight
 * running sums combined as a tree, then the remainder in order. */
static double numpy_sum(const double *x, int n)
{
    if (n < 8) {
        double s = 0.0;
        for (int i = 0; i < n; i++)
            s += x[i];
        return s;
    }
    double r[8];
    for (int j = 0; j < 8; j++)
        r[j] = x[j];
    int i;
    for (i = 8; i < n - (n % 8); i += 8)
        for (int j = 0; j < 8; j++)
            r[j] += x[i + j];
    double s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++)
        s += x[i];
    return s;
}

/* exponential_transition: p(j -> i) = exp(-lambda |tau_i / tau_j - 1|),
 * values at or below machine epsilon zeroed, each row (from j) normalised.
 * Stored by destination i, sources ascending (scipy's CSR order), as logs. */
static int make_transitions(st_dbn *m, double lambda)
{
    int n = m->n_int;
    double *prob = malloc((size_t)n * n * sizeof *prob);
    m->into = calloc((size_t)n + 1, sizeof *m->into);
    if (!prob || !m->into) {
        free(prob);
        return -1;
    }
    for (int j = 0; j < n; j++) {
        double *row = prob + (size_t)j * n;
        for (int i = 0; i < n; i++) {
            double ratio = (double)m->interval[i] / (double)m->interval[j];
            row[i] = exp(-lambda * fabs(ratio - 1.0));
            if (row[i] <= DBL_EPSILON) row[i] = 0.0;
        }
        double sum = numpy_sum(row, n);
        /* numpy_sum is exact to numpy only up to 128 values; beyond that it is a plain normaliser
         */
        for (int i = 0; i < n; i++)
            row[i] /= sum;
    }
    m->lo = malloc((size_t)n * sizeof *m->lo);
    m->hi = malloc((size_t)n * sizeof *m->hi);
    if (!m->lo || !m->hi) {
        free(prob);
        return -1;
    }
    int n_taps = 0;
    for (int i = 0; i < n; i++) {
        m->lo[i] = n, m->hi[i] = -1;
        for (int j = 0; j < n; j++)
            if (prob[(size_t)j * n + i] != 0.0) {
                if (j < m->lo[i]) m->lo[i] = j;
                m->hi[i] = j;
            }
        if (m->hi[i] < m->lo[i]) m->lo[i] = 0, m->hi[i] = -1; /* unreachable tempo */
        n_taps += m->hi[i] - m->lo[i] + 1;
    }
    m->log_p = malloc((size_t)(n_taps ? n_taps : 1) * sizeof *m->log_p);
    if (!m->log_p) {
        free(prob);
        return -1;
    }
    int p = 0;
    for (int i = 0; i < n; i++) {
        m->into[i] = p;
        for (int j = m->lo[i]; j <= m->hi[i]; j++) {
            double v = prob[(size_t)j * n + i];
            m->log_p[p++] = v != 0.0 ? log(v) : -INFINITY;
        }
    }
    m->into[n] = p;
    free(prob);
    if (n > MAX_VECTOR_INTERVALS) return 0;
    m->n_pad = (n + 7) / 8 * 8;
    m->first_block = malloc((size_t)n * sizeof *m->first_block);
    m->end_block = malloc((size_t)n * sizeof *m->end_block);
    m->by_source = aligned_alloc(64, (size_t)n * m->n_pad * sizeof *m->by_source);
    if (!m->first_block || !m->end_block || !m->by_source) return -1;
    for (int j = 0; j < n; j++) {
        int first = m->n_pad, last = -1;
        for (int i = 0; i < m->n_pad; i++) {
            int reaches = i < n && m->lo[i] <= j && j <= m->hi[i];
            m->by_source[(size_t)j * m->n_pad + i] =
                reaches ? m->log_p[m->into[i] + j - m->lo[i]] : -INFINITY;
            if (reaches) {
                if (i < first) first = i;
                last = i;
            }
        }
        m->first_block[j] = last < 0 ? 0 : first / 8;
        m->end_block[j] = last < 0 ? 0 : last / 8 + 1;
    }
    return 0;
}

st_dbn *st_dbn_create(const st_dbn_config *c)
{
    if (st_dbn_config_error(c)) return NULL;
    st_dbn *m = calloc(1, sizeof *m);
    int cap = (int)nearbyint(60.0 * c->fps / c->min_bpm) + 2;
    if (cap > MAX_INTERVALS) cap = MAX_INTERVALS;
    if (!m || !(m->interval = malloc((size_t)cap * sizeof *m->interval))) goto fail;
    m->n_int = beat_intervals(c, m->interval, cap);
    if (m->n_int <= 0) goto fail;
    m->n_beats = c->beats_per_bar;
    m->observation_lambda = c->observation_lambda;
    m->offset = malloc((size_t)m->n_int * sizeof *m->offset);
    m->n_region = malloc((size_t)m->n_beats * m->n_int * sizeof *m->n_region);
    if (!m->offset || !m->n_region) goto fail;
    int64_t total = 0;
    for (int i = 0; i < m->n_int; i++) {
        m->offset[i] = (int)total;
        total += m->interval[i];
    }
    if (total * m->n_beats > INT32_MAX / 2) goto fail;
    m->beat_states = (int)total;
    m->n_states = (int)total * m->n_beats;
    /* RNNDownBeatTrackingObservationModel: position = b + k * (1 / interval)
     * (np.linspace without endpoint); beat region where position % 1 < 1 / lambda */
    double border = 1.0 / c->observation_lambda;
    for (int b = 0; b < m->n_beats; b++)
        for (int i = 0; i < m->n_int; i++) {
            double step = 1.0 / m->interval[i];
            int r = 0;
            for (int k = 0; k < m->interval[i]; k++)
                r += fmod(k * step + 0.0 + b, 1.0) < border;
            m->n_region[b * m->n_int + i] = r;
        }
    if (make_transitions(m, c->transition_lambda)) goto fail;
    if (m->by_source) {
        m->n_chunks = (m->beat_states - 1 + 7) / 8;
        m->region_bits = calloc((size_t)m->n_beats * m->n_chunks + 1, 1);
        if (!m->region_bits) goto fail;
        for (int b = 0; b < m->n_beats; b++)
            for (int i = 0; i < m->n_int; i++) {
                int r = m->n_region[b * m->n_int + i];
                for (int k = 1; k < (r < 1 ? 1 : r); k++) {
                    int q = (m->offset[i] + k - 1) / 8, j = (m->offset[i] + k - 1) % 8;
                    m->region_bits[b * m->n_chunks + q] |= (uint8_t)(1u << j);
                }
            }
    }
    st_dbn_use_vector(m, 1);
    return m;
fail:
    st_dbn_destroy(m);
    return NULL;
}

void st_dbn_destroy(st_dbn *m)
{
    if (!m) return;
    free(m->interval);
    free(m->offset);
    free(m->n_region);
    free(m->into);
    free(m->lo);
    free(m->hi);
    free(m->log_p);
    free(m->first_block);
    free(m->end_block);
    free(m->by_source);
    free(m->region_bits);
    free(m);
}

int st_dbn_n_states(const st_dbn *m) { return m->n_states; }
int st_dbn_n_intervals(const st_dbn *m) { return m->n_int; }
int st_dbn_interval(const st_dbn *m, int i) { return m->interval[i]; }
int st_dbn_beats_per_bar(const st_dbn *m) { return m->n_beats; }

/* Beat, tempo and phase of a state. */
static void locate(const st_dbn *m, uint32_t state, int *b, int *i, int *k)
{
    *b = (int)(state / (uint32_t)m->beat_states);
    int r = (int)(state % (uint32_t)m->beat_states), lo = 0, hi = m->n_int - 1;
    while (lo < hi) { /* last offset <= r */
        int mid = (lo + hi + 1) / 2;
        if (m->offset[mid] <= r)
            lo = mid;
        else
            hi = mid - 1;
    }
    *i = lo;
    *k = r - m->offset[lo];
}

int st_dbn_region(const st_dbn *m, uint32_t state)
{
    int b, i, k;
    locate(m, state, &b, &i, &k);
    if (k >= m->n_region[b * m->n_int + i]) return 0;
    return b == 0 ? 2 : 1; /* position < 1 / lambda, not only its fraction */
}

int st_dbn_beat_number(const st_dbn *m, uint32_t state)
{
    return (int)(state / (uint32_t)m->beat_states) + 1;
}

int st_dbn_state_interval(const st_dbn *m, uint32_t state)
{
    int b, i, k;
    locate(m, state, &b, &i, &k);
    return m->interval[i];
}

/* to[k] = from[k] + d, two at a time (the same sums as one at a time). */
typedef double pair __attribute__((vector_size(16)));
static void shift_add(double *to, const double *from, int n, double d)
{
    pair dd = {d, d};
    int k = 0;
    for (; k + 2 <= n; k += 2) {
        pair x;
        memcpy(&x, from + k, sizeof x);
        x += dd;
        memcpy(to + k, &x, sizeof x);
    }
    for (; k < n; k++)
        to[k] = from[k] + d;
}

/* The largest last[j] + lp[j] + d over j = lo .. hi and the first j that
 * gives it (a strict > scan from lo, as madmom's; branch-free); -inf and 0
 * when no sum exceeds -inf. */
static double first_max(const double *last, const double *lp, double d, int lo, int hi, int *arg)
{
    double best = -INFINITY;
    int at = 0;
    for (int j = lo; j <= hi; j++) {
        double v = last[j] + lp[j] + d;
        at = v > best ? j : at;
        best = v > best ? v : best;
    }
    *arg = at;
    return best;
}

#if defined(__x86_64__)
#include <immintrin.h>
/* The same two loops eight lanes at a time. Each sum is the scalar one; lane
 * k keeps the first strict maximum of the sources j = lo + k (mod 8), and the
 * first maximum of all is the smallest source among the lanes that hold the
 * largest value. */
/* Every state of beat b but the first of the beat follows its predecessor:
 * cur[s + 1] = prev[s] + the observation of s + 1 (in_region or log_none, by
 * region_bits), eight at a time over the whole beat. The sums are the plain
 * loops'; the first states of the tempi get a value here that the ways in
 * then replace. */
__attribute__((target("avx512f"))) static void shift_beat_avx512(const st_dbn *m, int b,
                                                                 const double *prev, double *cur,
                                                                 double in_region, double log_none)
{
    __m512d region = _mm512_set1_pd(in_region), none = _mm512_set1_pd(log_none);
    const double *from = prev + (size_t)b * m->beat_states;
    double *to = cur + (size_t)b * m->beat_states + 1;
    const uint8_t *bits = m->region_bits + (size_t)b * m->n_chunks;
    int n = m->beat_states - 1, k = 0;
    for (int q = 0; k + 8 <= n; q++, k += 8)
        _mm512_storeu_pd(to + k, _mm512_add_pd(_mm512_loadu_pd(from + k),
                                               _mm512_mask_blend_pd(bits[q], none, region)));
    if (k < n) {
        __mmask8 tail = (__mmask8)((1u << (n - k)) - 1);
        __m512d obs = _mm512_mask_blend_pd(bits[k / 8], none, region);
        _mm512_mask_storeu_pd(to + k, tail,
                              _mm512_add_pd(_mm512_maskz_loadu_pd(tail, from + k), obs));
    }
}

/* The best way into the first state of every tempo i: the largest
 * last[j] + log p(j -> i) + d and the first source j that gives it, for
 * eight destinations at a time. The sources are taken in ascending order and
 * a lane moves only on a strict >, so each lane keeps the scalar scan's first
 * maximum; each sum is the scalar one. best and arg hold n_pad values. */
__attribute__((target("avx512f"))) static void entries_avx512(const st_dbn *m, const double *last,
                                                              double d, double *best, int64_t *arg)
{
    __m512d dd = _mm512_set1_pd(d);
    for (int i = 0; i < m->n_pad; i += 8) {
        _mm512_store_pd(best + i, _mm512_set1_pd(-INFINITY));
        _mm512_store_si512((void *)(arg + i), _mm512_setzero_si512());
    }
    for (int j = 0; j < m->n_int; j++) {
        __m512d from = _mm512_set1_pd(last[j]);
        __m512i source = _mm512_set1_epi64(j);
        const double *row = m->by_source + (size_t)j * m->n_pad;
        for (int k = m->first_block[j]; k < m->end_block[j]; k++) {
            __m512d v = _mm512_add_pd(_mm512_add_pd(from, _mm512_load_pd(row + 8 * k)), dd);
            __m512d held = _mm512_load_pd(best + 8 * k);
            __mmask8 greater = _mm512_cmp_pd_mask(v, held, _CMP_GT_OQ);
            _mm512_store_pd(best + 8 * k, _mm512_mask_mov_pd(held, greater, v));
            _mm512_store_si512((void *)(arg + 8 * k),
                               _mm512_mask_mov_epi64(_mm512_load_si512((const void *)(arg + 8 * k)),
                                                     greater, source));
        }
    }
}
#endif

/* The same by the plain loop, one destination at a time. */
static void entries_plain(const st_dbn *m, const double *last, double d, double *best, int64_t *arg)
{
    for (int i = 0; i < m->n_int; i++) {
        int at;
        best[i] = first_max(last, m->log_p + m->into[i] - m->lo[i], d, m->lo[i], m->hi[i], &at);
        arg[i] = at;
    }
}

double st_dbn_log_transition(const st_dbn *m, int from, int to)
{
    if (from < m->lo[to] || from > m->hi[to]) return -INFINITY;
    return m->log_p[m->into[to] + from - m->lo[to]];
}

int st_dbn_entry_paths(st_dbn *m, const double *last, double d, double *best, int64_t *arg)
{
    int n = m->n_int, was = m->vector, vector = st_dbn_use_vector(m, 1);
    entries_plain(m, last, d, best, arg);
    double *vb = aligned_alloc(64, (size_t)(m->n_pad ? m->n_pad : 8) * sizeof *vb);
    int64_t *va = aligned_alloc(64, (size_t)(m->n_pad ? m->n_pad : 8) * sizeof *va);
    if (!vb || !va) vector = -1;
#if defined(__x86_64__)
    if (vector == 1) entries_avx512(m, last, d, vb, va);
#endif
    for (int i = 0; i < n; i++) {
        best[n + i] = vector == 1 ? vb[i] : best[i];
        arg[n + i] = vector == 1 ? va[i] : arg[i];
    }
    free(vb), free(va);
    m->vector = was;
    return vector;
}

int st_dbn_use_vector(st_dbn *m, int on)
{
#if defined(__x86_64__)
    m->vector = on && m->by_source && st_simd_allows(ST_SIMD_AVX512);
#else
    (void)on;
    m->vector = 0;
#endif
    return m->vector;
}

/* The ways into the first states: plain or vector. */
typedef void entries_fn(const st_dbn *, const double *, double, double *, int64_t *);

int st_dbn_viterbi(const st_dbn *m, const double *act, int64_t n_frames, uint32_t *path,
                   int64_t *n_path, double *log_prob)
{
    int n_states = m->n_states, n_int = m->n_int, n_first = m->n_beats * m->n_int;
    double *prev = malloc((size_t)n_states * sizeof *prev);
    double *cur = malloc((size_t)n_states * sizeof *cur);
    /* the back-pointers are the one large block (10 minutes: 29 MB): huge pages */
    uint16_t *back = st_zalloc((size_t)(n_frames > 0 ? n_frames : 1) * n_first * sizeof *back);
    if (!prev || !cur || !back) {
        free(prev), free(cur), st_zfree(back);
        return -1;
    }
    double start = log(1.0 / n_states);
    for (int s = 0; s < n_states; s++)
        prev[s] = start;
    double other_scale = m->observation_lambda - 1.0;
    size_t n_entries = (size_t)(n_int + 7) / 8 * 8; /* aligned_alloc: a multiple of 64 bytes */
    double *last = malloc((size_t)n_int * sizeof *last);
    double *entry = aligned_alloc(64, n_entries * sizeof *entry);
    int64_t *source = aligned_alloc(64, n_entries * sizeof *source);
    if (!last || !entry || !source) {
        free(prev), free(cur), st_zfree(back), free(last), free(entry), free(source);
        return -1;
    }
    entries_fn *entries = entries_plain;
#if defined(__x86_64__)
    if (m->vector) entries = entries_avx512;
#endif
    for (int64_t t = 0; t < n_frames; t++) {
        double beat = act[2 * t], down = act[2 * t + 1];
        double log_none, log_beat, log_down;
        if (m->n_beats == 1) { /* RNNBeatTrackingObservationModel: one column */
            log_none = log((1.0 - down) / other_scale);
            log_down = log_beat = log(down);
        } else {
            log_none = log((1.0 - (beat + down)) / other_scale);
            log_beat = log(beat);
            log_down = log(down);
        }
        uint16_t *bp = back + (size_t)t * n_first;
        for (int b = 0; b < m->n_beats; b++) {
            double in_region = b == 0 ? log_down : log_beat;
            const double *before =
                prev + (size_t)((b + m->n_beats - 1) % m->n_beats) * m->beat_states;
            for (int j = 0; j < n_int; j++)
                last[j] = before[m->offset[j] + m->interval[j] - 1];
            /* the first states: the best way in from the previous beat's last states
             * (sources ascending, the first of equals kept, as madmom) */
            entries(m, last, in_region, entry, source);
#if defined(__x86_64__)
            if (m->vector) shift_beat_avx512(m, b, prev, cur, in_region, log_none);
#endif
            for (int i = 0; i < n_int; i++) {
                int s0 = b * m->beat_states + m->offset[i], len = m->interval[i];
                cur[s0] = entry[i];
                bp[b * n_int + i] = (uint16_t)source[i];
                if (m->vector) continue; /* shifted above */
                /* the others follow their one predecessor with probability 1 (log 0) */
                int r = m->n_region[b * n_int + i];
                if (r < 1) r = 1;
                shift_add(cur + s0 + 1, prev + s0, r - 1, in_region);
                shift_add(cur + s0 + r, prev + s0 + r - 1, len - r, log_none);
            }
        }
        double *swap = prev;
        prev = cur, cur = swap;
    }
    int best = 0;
    for (int s = 1; s < n_states; s++)
        if (prev[s] > prev[best]) best = s;
    *log_prob = n_frames > 0 ? prev[best] : 0.0;
    *n_path = 0;
    if (n_frames > 0 && !isinf(*log_prob) && !isnan(*log_prob)) {
        int b, i, k;
        locate(m, (uint32_t)best, &b, &i, &k);
        for (int64_t t = n_frames - 1; t >= 0; t--) {
            path[t] = (uint32_t)(b * m->beat_states + m->offset[i] + k);
            if (k > 0) {
                k--;
            } else {
                i = back[(size_t)t * n_first + b * n_int + i];
                b = (b + m->n_beats - 1) % m->n_beats;
                k = m->interval[i] - 1;
            }
        }
        *n_path = n_frames;
    }
    free(prev), free(cur), st_zfree(back), free(last), free(entry), free(source);
    return 0;
}

/* ---- the processor ---- */

typedef struct {
    st_dbn *const *models;
    const double *act;
    int64_t n_frames;
    uint32_t **paths;
    int64_t *n_path;
    double *log_prob;
    int failed;
} decode_job;

static void decode_models(void *ctx, int64_t begin, int64_t end)
{
    decode_job *j = ctx;
    for (int64_t k = begin; k < end; k++)
        if (st_dbn_viterbi(j->models[k], j->act, j->n_frames, j->paths[k], &j->n_path[k],
                           &j->log_prob[k]))
            j->failed = 1;
}

/* Appends a beat; 0, or -1 when memory is short. */
static int push_beat(st_dbn_result *r, int64_t *cap, int64_t frame, int number, double evidence)
{
    if (r->n_beats == *cap) {
        int64_t n = *cap ? 2 * *cap : 64;
        int64_t *f = realloc(r->frame, (size_t)n * sizeof *f);
        if (f) r->frame = f;
        int *b = realloc(r->beat_number, (size_t)n * sizeof *b);
        if (b) r->beat_number = b;
        double *e = realloc(r->downbeat_evidence, (size_t)n * sizeof *e);
        if (e) r->downbeat_evidence = e;
        if (!f || !b || !e) return -1;
        *cap = n;
    }
    r->frame[r->n_beats] = frame;
    r->downbeat_evidence[r->n_beats] = evidence;
    r->beat_number[r->n_beats++] = number;
    return 0;
}

/* log(downbeat) - log(beat) summed over frames [from, to) of a. */
static double downbeat_evidence(const double *a, int64_t from, int64_t to)
{
    double sum = 0.0;
    for (int64_t t = from; t < to; t++)
        sum += log(fmax(a[2 * t + 1], 1e-30)) - log(fmax(a[2 * t], 1e-30));
    return sum;
}

int st_dbn_decode(st_dbn *const *models, int n_models, const double *act, int64_t n_frames,
                  double threshold, int correct, int n_threads, st_dbn_result *out)
{
    memset(out, 0, sizeof *out);
    out->winner = -1;
    out->log_prob = malloc((size_t)(n_models > 0 ? n_models : 1) * sizeof *out->log_prob);
    if (!out->log_prob) return -1;
    for (int k = 0; k < n_models; k++)
        out->log_prob[k] = -INFINITY;
    /* threshold_activations: rows [first, last] with any value >= threshold;
     * as madmom's `idx.any()`, a lone row 0 counts as none */
    int64_t first = 0, last = n_frames;
    if (threshold != 0.0) {
        int64_t lo = -1, hi = -1;
        for (int64_t t = 0; t < n_frames; t++)
            if (act[2 * t] >= threshold || act[2 * t + 1] >= threshold) {
                if (lo < 0) lo = t;
                hi = t;
            }
        if (hi > 0)
            first = lo, last = hi + 1;
        else
            first = last = 0;
    }
    out->first_frame = first;
    int64_t n = last - first;
    const double *a = act + 2 * first;
    int any = 0;
    for (int64_t t = 0; t < 2 * n && !any; t++)
        any = a[t] != 0.0;
    if (!any || n_models == 0) return 0;

    uint32_t **paths = calloc((size_t)n_models, sizeof *paths);
    int64_t *n_path = calloc((size_t)n_models, sizeof *n_path);
    int status = paths && n_path ? 0 : -1;
    for (int k = 0; k < n_models && !status; k++)
        if (!(paths[k] = malloc((size_t)n * sizeof **paths))) status = -1;
    if (!status) {
        decode_job job = {models, a, n, paths, n_path, out->log_prob, 0};
        st_parallel_for(n_threads < n_models ? n_threads : n_models, n_models, decode_models, &job);
        if (job.failed) status = -1;
    }
    int best = 0;
    for (int k = 1; k < n_models && !status; k++)
        if (out->log_prob[k] > out->log_prob[best]) best = k;
    if (!status && n_path[best] == n) {
        const st_dbn *m = models[best];
        const uint32_t *path = paths[best];
        int64_t cap = 0;
        out->winner = best;
        if (correct) {
            /* each run of beat-region frames: the frame of the largest activation
             * (np.argmax over the flattened rows: the first maximum, either column) */
            for (int64_t t = 0; t < n && !status;) {
                if (!st_dbn_region(m, path[t])) {
                    t++;
                    continue;
                }
                int64_t left = t;
                while (t < n && st_dbn_region(m, path[t]))
                    t++;
                int64_t peak = left;
                if (m->n_beats == 1) {
                    for (int64_t u = left + 1; u < t; u++)
                        if (a[2 * u + 1] > a[2 * peak + 1]) peak = u;
                } else {
                    int64_t arg = 2 * left;
                    for (int64_t u = 2 * left + 1; u < 2 * t; u++)
                        if (a[u] > a[arg]) arg = u;
                    peak = arg / 2;
                }
                status = push_beat(out, &cap, peak + first, st_dbn_beat_number(m, path[peak]),
                                   downbeat_evidence(a, left, t));
            }
        } else {
            for (int64_t t = 1; t < n && !status; t++)
                if (st_dbn_beat_number(m, path[t]) != st_dbn_beat_number(m, path[t - 1])) {
                    int64_t end = t; /* the beat region that starts the beat */
                    while (end < n && st_dbn_region(m, path[end]))
                        end++;
                    status = push_beat(out, &cap, t + first, st_dbn_beat_number(m, path[t]),
                                       downbeat_evidence(a, t, end));
                }
        }
    }
    for (int k = 0; paths && k < n_models; k++)
        free(paths[k]);
    free(paths);
    free(n_path);
    if (status) st_dbn_result_free(out);
    return status;
}

void st_dbn_result_free(st_dbn_result *r)
{
    free(r->frame);
    free(r->beat_number);
    free(r->downbeat_evidence);
    free(r->log_prob);
    memset(r, 0, sizeof *r);
    r->winner = -1;
}
