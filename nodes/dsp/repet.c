#include "repet.h"
#include "median.h"
#include "fft.h"
#include "magnitude.h"

#include "../../vm/alloc.h"
#include "../../vm/parallel.h"
#include "../../vm/simd.h"
#include "lapack.h"

#include <cblas.h>

#include <complex.h>
#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- beat spectrum ----
 * The autocorrelations of all bins are summed before the one inverse FFT
 * (the inverse is linear), so the cost is one forward FFT per bin. Double
 * precision: the far lags average few frame pairs and a float transform's
 * error, spread over all lags, would swamp them. */

/* Double-precision plans are made once per size, under a lock (FFTW's
 * planner is not thread safe: the one planner lock of fft.h), with FFTW_ESTIMATE: they run once per
 * bin. */
#define MAX_PLANS  16
#define BLOCK      16 /* bins gathered together (see beat_range) */
#define AHEAD      8  /* frames prefetched ahead when gathering a block's bins */
#define STRIDE_PAD 8  /* doubles (64 bytes: the FFT's input keeps its alignment) */
#define GATHER     8  /* frames gathered together: a cache line of each series */
static struct {
    int n;
    fftw_plan forward, inverse;
} plans[MAX_PLANS];
static int n_plans;

static int get_plans(int n, fftw_plan *forward, fftw_plan *inverse)
{
    int found = 0;
    st_fft_planner_lock();
    for (int i = 0; i < n_plans && !found; i++)
        if (plans[i].n == n) {
            *forward = plans[i].forward;
            *inverse = plans[i].inverse;
            found = 1;
        }
    if (!found && n_plans < MAX_PLANS) {
        double *real = fftw_alloc_real((size_t)n);
        fftw_complex *spec = fftw_alloc_complex((size_t)n / 2 + 1);
        if (real && spec) {
            *forward = fftw_plan_dft_r2c_1d(n, real, spec, FFTW_ESTIMATE);
            *inverse = fftw_plan_dft_c2r_1d(n, spec, real, FFTW_ESTIMATE);
            if (*forward && *inverse) {
                plans[n_plans].n = n;
                plans[n_plans].forward = *forward;
                plans[n_plans].inverse = *inverse;
                n_plans++;
                found = 1;
            }
        }
        fftw_free(real);
        fftw_free(spec);
    }
    st_fft_planner_unlock();
    return found ? 0 : -1;
}

/* The power of two at least n: FFTW_ESTIMATE plans are as fast as measured
 * ones at these sizes, and there are few of them. */
static int fft_size_at_least(int64_t n)
{
    int64_t m = 1;
    while (m < n)
        m *= 2;
    return (int)m;
}

typedef struct {
    const float *power;           /* or NULL */
    const float _Complex *frames; /* or NULL */
    const float *const *blocks;   /* or NULL: magnitudes in blocks of BLOCK bins
                                   * (ST_REPET_BLOCK), the power their square */
    int n_channels, n_bins, n_fft;
    int64_t n_frames;
    fftw_plan forward;
    double *sums; /* per thread: n_fft / 2 + 1 summed |FFT|^2 */
    int n_items, failed;
} beat_job;

/* Bins are taken BLOCK at a time so that gathering their time series reads
 * each frame's memory once per block, not once per bin. */

static void beat_range(void *ctx, int64_t begin, int64_t end)
{
    beat_job *job = ctx;
    /* items are thread slots: slot i takes bins [i * n_bins / n_items, ...) */
    const int n_half = job->n_fft / 2 + 1;
    const int64_t n_frames = job->n_frames;
    const size_t plane = (size_t)n_frames * (size_t)job->n_bins;
    /* magnitudes' blocks: each bin's series STRIDE_PAD doubles longer than the
     * FFT, since 16 series exactly n_fft doubles apart share cache sets */
    const size_t stride = (size_t)job->n_fft + (job->blocks ? STRIDE_PAD : 0);
    double *x = fftw_alloc_real(stride * BLOCK);
    fftw_complex *y = fftw_alloc_complex((size_t)n_half);
    if (!x || !y) {
        job->failed = 1;
        goto done;
    }
    for (int64_t item = begin; item < end; item++) {
        double *sum = job->sums + (size_t)item * (size_t)n_half;
        int k0 = (int)((int64_t)job->n_bins * item / job->n_items);
        int k1 = (int)((int64_t)job->n_bins * (item + 1) / job->n_items);
        if (job->blocks) { /* whole blocks of the layout */
            const int64_t n_blocks = (job->n_bins + BLOCK - 1) / BLOCK;
            k0 = (int)(BLOCK * (n_blocks * item / job->n_items));
            k1 = (int)(BLOCK * (n_blocks * (item + 1) / job->n_items));
            k1 = k1 < job->n_bins ? k1 : job->n_bins;
        }
        for (int kb = k0; kb < k1; kb += BLOCK) {
            int nb = k1 - kb < BLOCK ? k1 - kb : BLOCK;
            if (job->blocks) { /* each block's series is contiguous: read in order */
                const int n_blocks = (job->n_bins + BLOCK - 1) / BLOCK;
                /* GATHER frames at a time, so that each series is written a
                 * whole cache line (GATHER doubles) at once, not a double at a
                 * time into BLOCK streams */
                for (int64_t t0 = 0; t0 < n_frames; t0 += GATHER) {
                    const int n_t = n_frames - t0 < GATHER ? (int)(n_frames - t0) : GATHER;
                    double p[GATHER][BLOCK];
                    for (int u = 0; u < n_t; u++)
                        for (int c = 0; c < job->n_channels; c++) {
                            const float *m =
                                job->blocks[c * n_blocks + kb / BLOCK] + (size_t)(t0 + u) * BLOCK;
                            for (int b = 0; b < BLOCK; b++) { /* past nb: unused padding bins */
                                double v = (double)m[b] * m[b];
                                p[u][b] = c ? p[u][b] + v : v; /* 0 + v is v */
                            }
                        }
                    if (job->n_channels > 1)
                        for (int u = 0; u < n_t; u++)
                            for (int b = 0; b < BLOCK; b++)
                                p[u][b] /= job->n_channels;
                    for (int b = 0; b < nb; b++)
                        for (int u = 0; u < n_t; u++)
                            x[(size_t)b * stride + (size_t)(t0 + u)] = p[u][b];
                }
                goto transform;
            }
            for (int64_t t = 0; t < n_frames; t++) {
                double p[BLOCK] = {0};
                for (int c = 0; c < job->n_channels; c++) {
                    size_t at = (size_t)c * plane + (size_t)t * (size_t)job->n_bins + (size_t)kb;
                    /* a frame apart is a page apart: no hardware prefetch */
                    if (t + AHEAD < n_frames) {
                        size_t next = at + AHEAD * (size_t)job->n_bins;
                        if (job->power) {
                            __builtin_prefetch(job->power + next);
                            __builtin_prefetch(job->power + next + BLOCK - 1);
                        } else {
                            __builtin_prefetch(job->frames + next);
                            __builtin_prefetch(job->frames + next + BLOCK - 1);
                        }
                    }
                    if (job->power) {
                        for (int b = 0; b < nb; b++)
                            p[b] += job->power[at + b];
                    } else {
                        for (int b = 0; b < nb; b++) {
                            double re = crealf(job->frames[at + b]),
                                   im = cimagf(job->frames[at + b]);
                            p[b] += re * re + im * im;
                        }
                    }
                }
                for (int b = 0; b < nb; b++)
                    x[(size_t)b * job->n_fft + t] = p[b] / job->n_channels;
            }
        transform:
            for (int b = 0; b < nb; b++) {
                double *xb = x + (size_t)b * stride;
                memset(xb + n_frames, 0, (size_t)(job->n_fft - n_frames) * sizeof *xb);
                fftw_execute_dft_r2c(job->forward, xb, y);
                for (int f = 0; f < n_half; f++)
                    sum[f] += creal(y[f]) * creal(y[f]) + cimag(y[f]) * cimag(y[f]);
            }
        }
    }
done:
    fftw_free(x);
    fftw_free(y);
}

/* Lags [0, n_lags): through FFTs of the power of two at least n_frames +
 * n_lags - 1 (2 n_frames for all lags, as nussl), where the circular
 * autocorrelation of the zero-padded series is the linear one at those lags
 * (its wrapped part starts at lag n_fft - n_frames + 1). */
static int beat_spectrum(beat_job *job, int64_t n_lags, int n_threads, double *beat)
{
    const int64_t n = job->n_frames;
    if (n < 1 || n_lags < 1) return 0;
    if (n_lags > n) n_lags = n;
    job->n_fft = fft_size_at_least(n_lags == n ? 2 * n : n + n_lags - 1);
    fftw_plan inverse;
    if (get_plans(job->n_fft, &job->forward, &inverse)) return -1;
    const int n_half = job->n_fft / 2 + 1;
    job->n_items = n_threads < 1 ? 1 : n_threads;
    if (job->n_items > job->n_bins) job->n_items = job->n_bins;
    job->sums = calloc((size_t)job->n_items * (size_t)n_half, sizeof *job->sums);
    double *acf = fftw_alloc_real((size_t)job->n_fft);
    fftw_complex *total = fftw_alloc_complex((size_t)n_half);
    int status = -1;
    if (!job->sums || !acf || !total) goto done;
    st_parallel_for(job->n_items, job->n_items, beat_range, job);
    if (job->failed) goto done;
    for (int f = 0; f < n_half; f++) {
        double s = 0;
        for (int i = 0; i < job->n_items; i++)
            s += job->sums[(size_t)i * (size_t)n_half + (size_t)f];
        total[f] = s;
    }
    fftw_execute_dft_c2r(inverse, total, acf);
    for (int64_t l = 0; l < n_lags; l++)
        beat[l] = acf[l] / job->n_fft / (double)(n - l) / job->n_bins;
    status = 0;
done:
    free(job->sums);
    fftw_free(acf);
    fftw_free(total);
    return status;
}

int st_beat_spectrum(const float *power, int n_channels, int64_t n_frames, int n_bins,
                     int n_threads, double *beat)
{
    beat_job job = {
        .power = power, .n_channels = n_channels, .n_bins = n_bins, .n_frames = n_frames};
    return beat_spectrum(&job, n_frames, n_threads, beat);
}

int st_beat_spectrum_of_spectrum(const float _Complex *x, int n_channels, int64_t n_frames,
                                 int n_bins, int64_t n_lags, int n_threads, double *beat)
{
    beat_job job = {.frames = x, .n_channels = n_channels, .n_bins = n_bins, .n_frames = n_frames};
    return beat_spectrum(&job, n_lags, n_threads, beat);
}

_Static_assert(BLOCK == ST_REPET_BLOCK, "the beat spectrum gathers the layout's blocks");

int st_beat_spectrum_of_magnitudes(const float *const *blocks, int n_channels, int64_t n_frames,
                                   int n_bins, int64_t n_lags, int n_threads, double *beat)
{
    beat_job job = {
        .blocks = blocks, .n_channels = n_channels, .n_bins = n_bins, .n_frames = n_frames};
    return beat_spectrum(&job, n_lags, n_threads, beat);
}

int64_t st_repeating_period(const double *beat, int64_t n_lags, int64_t min_lag, int64_t max_lag)
{
    if (min_lag < 1) min_lag = 1; /* lag 0 is no period */
    if (max_lag > n_lags - 1) max_lag = n_lags - 1;
    int64_t best = -1;
    for (int64_t l = min_lag; l <= max_lag; l++)
        if (best < 0 || beat[l] > beat[best]) best = l;
    return best;
}

/* ---- medians ---- */

float st_repet_median(float *v, int n)
{
    int half = n / 2;
    st_select_kth(v, n, half); /* and the lower half before it */
    if (n % 2) return v[half];
    float below = v[0]; /* the largest of the lower half */
    for (int i = 1; i < half; i++)
        if (v[i] > below) below = v[i];
    return (below + v[half]) * 0.5f;
}

/* numpy's linear quantile of v[0..n) (reorders v). */
static float quantile_of(float *v, int n, double q)
{
    if (q == 0.5) return st_repet_median(v, n);
    double pos = q * (n - 1);
    int lo = (int)floor(pos), hi = lo + 1 < n ? lo + 1 : lo;
    st_select_kth(v, n, lo);
    float a = v[lo], b = a;
    if (hi > lo) { /* the next order statistic: the smallest of those after lo */
        b = v[lo + 1];
        for (int i = lo + 2; i < n; i++)
            b = v[i] < b ? v[i] : b;
    }
    return a + (b - a) * (float)(pos - lo);
}

/* ---- medians across rows ----
 * Batcher's odd-even merge sort as a network (comparators reaching past n
 * dropped, as if padded with +inf), pruned to the comparators that the
 * middle outputs depend on, applied to vectors of LANES floats: that many
 * bins are sorted in step, with no branch on the data. About a thousand
 * min/max per LANES medians of 100 values, many times fewer cycles than a
 * quickselect. */
#define LANES ST_REPET_LANES /* one cache line of floats: one AVX-512 step */
typedef float vf __attribute__((vector_size(4 * LANES)));
typedef int vi __attribute__((vector_size(4 * LANES)));
#define SELECT(mask, a, b) ((vf)(((vi)(a) & (mask)) | ((vi)(b) & ~(mask))))

/* Owns its buffers. */
struct st_rows_median {
    int max_rows, n; /* the network in pairs is for n rows */
    int n_pairs;
    uint16_t (*pairs)[2]; /* comparators, in order */
    char *needed;         /* max_rows flags, for pruning */
    double quantile;      /* 0.5: the median */
    int lo, hi;           /* the order statistics it reads, for n rows */
    float frac;
    vf *v;
};

/* Writes the comparators of the network for n in order (when pairs is not
 * NULL); returns their count. */
static int network(int n, uint16_t (*pairs)[2])
{
    int count = 0;
    for (int p = 1; p < n; p += p)
        for (int k = p; k > 0; k /= 2)
            for (int j = k % p; j + k < n; j += k + k)
                for (int i = 0; i < k && i + j + k < n; i++)
                    if ((i + j) / (p + p) == (i + j + k) / (p + p)) {
                        if (pairs) {
                            pairs[count][0] = (uint16_t)(i + j);
                            pairs[count][1] = (uint16_t)(i + j + k);
                        }
                        count++;
                    }
    return count;
}

st_rows_median *st_rows_median_new(int max_rows)
{
    if (max_rows < 1 || max_rows > 65535) return NULL;
    st_rows_median *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->max_rows = max_rows;
    m->quantile = 0.5;
    m->pairs = malloc(((size_t)network(max_rows, NULL) + 1) * sizeof *m->pairs);
    m->needed = malloc((size_t)max_rows);
    m->v = aligned_alloc(sizeof *m->v, (size_t)max_rows * sizeof *m->v);
    if (!m->pairs || !m->needed || !m->v) {
        st_rows_median_free(m);
        return NULL;
    }
    return m;
}

void st_rows_median_set_quantile(st_rows_median *m, double q)
{
    m->quantile = q;
    m->n = 0; /* plan again */
}

void st_rows_median_free(st_rows_median *m)
{
    if (!m) return;
    free(m->pairs);
    free(m->needed);
    free(m->v);
    free(m);
}

/* The network for n, keeping only comparators whose outputs reach the middle. */
static void plan(st_rows_median *m, int n)
{
    int total = network(n, m->pairs);
    char *needed = m->needed;
    memset(needed, 0, (size_t)n);
    /* numpy's linear quantile: between order statistics floor and ceil of q (n - 1) */
    double pos = m->quantile * (n - 1);
    m->lo = (int)floor(pos);
    m->hi = m->lo + 1 < n ? m->lo + 1 : m->lo;
    m->frac = (float)(pos - m->lo);
    needed[m->lo] = needed[m->hi] = 1;
    int kept = total;
    for (int c = total - 1; c >= 0; c--) {
        int a = m->pairs[c][0], b = m->pairs[c][1];
        if (needed[a] || needed[b]) {
            needed[a] = needed[b] = 1;
            m->pairs[--kept][0] = (uint16_t)a;
            m->pairs[kept][1] = (uint16_t)b;
        }
    }
    memmove(m->pairs, m->pairs + kept, (size_t)(total - kept) * sizeof *m->pairs);
    m->n_pairs = total - kept;
    m->n = n;
}

ST_CLONES_AVX512_AVX2 static void apply_network(vf *v, const uint16_t (*pairs)[2], int n_pairs)
{
    for (int c = 0; c < n_pairs; c++) {
        vf a = v[pairs[c][0]], b = v[pairs[c][1]];
        vi less = a < b;
        v[pairs[c][0]] = SELECT(less, a, b);
        v[pairs[c][1]] = SELECT(less, b, a);
    }
}

#define PREFETCH_AHEAD 4 /* groups of LANES bins */

void st_rows_median_run(st_rows_median *m, const float *const *rows, int n_rows, int n_bins,
                        float *out)
{
    if (n_rows != m->n) plan(m, n_rows);
    vf *v = m->v;
    for (int k = 0; k < n_bins; k += LANES) {
        int lanes = n_bins - k < LANES ? n_bins - k : LANES;
        for (int i = 0; i < n_rows; i++) {
            /* rows are far apart and too many for the hardware to follow */
            if (k + PREFETCH_AHEAD * LANES < n_bins)
                __builtin_prefetch(rows[i] + k + PREFETCH_AHEAD * LANES);
            if (lanes == LANES) {
                memcpy(&v[i], rows[i] + k, sizeof v[i]);
            } else {
                vf x = {0};
                for (int l = 0; l < lanes; l++)
                    x[l] = rows[i][k + l];
                v[i] = x;
            }
        }
        apply_network(v, (const uint16_t(*)[2])m->pairs, m->n_pairs);
        vf med;
        if (m->quantile == 0.5) /* numpy's median, to the last bit */
            med = n_rows % 2 ? v[n_rows / 2] : (v[n_rows / 2 - 1] + v[n_rows / 2]) * 0.5f;
        else
            med = v[m->lo] + (v[m->hi] - v[m->lo]) * m->frac;
        for (int l = 0; l < lanes; l++)
            out[k + l] = med[l];
    }
}

/* ---- repeating models ---- */

typedef struct {
    const float *mag;
    const float *const *blocks; /* period_blocks_range's magnitudes */
    int64_t n_frames;
    int n_bins;
    int64_t period;
    const int64_t *periods; /* adaptive: one per frame */
    int order;
    double quantile;
    float *model;
    int failed;
} model_job;

/* One thread's scratch for the quantile over the segments at one position
 * of the period: their rows, for the lane medians, or a quickselect per bin
 * when there are too many segments for a network. */
typedef struct {
    const float **rows;
    float *v;
    st_rows_median *median; /* NULL: quickselect */
} segment_scratch;

static int segment_scratch_new(segment_scratch *s, int64_t n_segments, double quantile)
{
    s->rows = malloc((size_t)n_segments * sizeof *s->rows);
    s->v = malloc((size_t)n_segments * sizeof *s->v);
    s->median = n_segments <= 4096 ? st_rows_median_new((int)n_segments) : NULL;
    if (!s->rows || !s->v || (n_segments <= 4096 && !s->median)) return -1;
    if (s->median) st_rows_median_set_quantile(s->median, quantile);
    return 0;
}

static void segment_scratch_free(segment_scratch *s)
{
    free(s->rows);
    free(s->v);
    st_rows_median_free(s->median);
}

/* out[b] = the quantile of rows[0..n)[b], for b < width */
static void rows_quantile(segment_scratch *s, int n, int width, double quantile, float *out)
{
    if (s->median) {
        st_rows_median_run(s->median, s->rows, n, width, out);
        return;
    }
    for (int b = 0; b < width; b++) {
        for (int i = 0; i < n; i++)
            s->v[i] = s->rows[i][b];
        out[b] = quantile_of(s->v, n, quantile);
    }
}

/* REPET: items are positions j in the period; the segments' frames at j
 * give each bin's values. */
static void period_range(void *ctx, int64_t begin, int64_t end)
{
    model_job *job = ctx;
    segment_scratch s;
    if (segment_scratch_new(&s, (job->n_frames + job->period - 1) / job->period, job->quantile))
        job->failed = 1;
    else
        for (int64_t j = begin; j < end; j++) {
            int n = 0;
            for (int64_t t = j; t < job->n_frames; t += job->period)
                s.rows[n++] = job->mag + (size_t)t * (size_t)job->n_bins;
            rows_quantile(&s, n, job->n_bins, job->quantile,
                          job->model + (size_t)j * (size_t)job->n_bins);
        }
    segment_scratch_free(&s);
}

int st_repet_period_model(const float *mag, int64_t n_frames, int n_bins, int64_t period,
                          double quantile, int n_threads, float *model)
{
    model_job job = {mag, NULL, n_frames, n_bins, period, NULL, 0, quantile, model, 0};
    int64_t n_items = period < n_frames ? period : n_frames;
    st_parallel_for(n_threads, n_items, period_range, &job);
    return job.failed ? -1 : 0;
}

/* The same from magnitudes in blocks of ST_REPET_BLOCK bins: items are
 * blocks, and each block's frames at j + s period, for every j in turn, are
 * read from one contiguous stretch (the segments' streams in order). */
static void period_blocks_range(void *ctx, int64_t begin, int64_t end)
{
    model_job *job = ctx;
    const int64_t rows_made = job->period < job->n_frames ? job->period : job->n_frames;
    segment_scratch s;
    if (segment_scratch_new(&s, (job->n_frames + job->period - 1) / job->period, job->quantile))
        job->failed = 1;
    else
        for (int64_t kb = begin; kb < end; kb++) {
            const float *block = job->blocks[kb];
            const int k0 = (int)kb * ST_REPET_BLOCK;
            const int width = job->n_bins - k0 < ST_REPET_BLOCK ? job->n_bins - k0 : ST_REPET_BLOCK;
            for (int64_t j = 0; j < rows_made; j++) {
                int n = 0;
                for (int64_t t = j; t < job->n_frames; t += job->period)
                    s.rows[n++] = block + (size_t)t * ST_REPET_BLOCK;
                rows_quantile(&s, n, width, job->quantile,
                              job->model + (size_t)j * (size_t)job->n_bins + (size_t)k0);
            }
        }
    segment_scratch_free(&s);
}

int st_repet_period_model_blocks(const float *const *blocks, int64_t n_frames, int n_bins,
                                 int64_t period, double quantile, int n_threads, float *model)
{
    _Static_assert(ST_REPET_BLOCK == ST_REPET_LANES, "a block is one pass of the lane medians");
    model_job job = {NULL, blocks, n_frames, n_bins, period, NULL, 0, quantile, model, 0};
    st_parallel_for(n_threads, (n_bins + ST_REPET_BLOCK - 1) / ST_REPET_BLOCK, period_blocks_range,
                    &job);
    return job.failed ? -1 : 0;
}

static void adaptive_range(void *ctx, int64_t begin, int64_t end)
{
    model_job *job = ctx;
    float *v = malloc((size_t)job->order * sizeof *v);
    int64_t *frames = malloc((size_t)job->order * sizeof *frames);
    if (!v || !frames) {
        job->failed = 1;
        goto done;
    }
    for (int64_t t = begin; t < end; t++) {
        int n = 0;
        for (int i = 0; i < job->order; i++) {
            int64_t u = t + (int64_t)(i - (job->order - 1) / 2) * job->periods[t];
            if (u >= 0 && u < job->n_frames) frames[n++] = u;
        }
        for (int k = 0; k < job->n_bins; k++) {
            for (int i = 0; i < n; i++)
                v[i] = job->mag[(size_t)frames[i] * (size_t)job->n_bins + (size_t)k];
            job->model[(size_t)t * (size_t)job->n_bins + (size_t)k] = st_repet_median(v, n);
        }
    }
done:
    free(v);
    free(frames);
}

int st_repet_adaptive_model(const float *mag, int64_t n_frames, int n_bins, const int64_t *period,
                            int order, int n_threads, float *model)
{
    model_job job = {mag, NULL, n_frames, n_bins, 0, period, order, 0.5, model, 0};
    st_parallel_for(n_threads, n_frames, adaptive_range, &job);
    return job.failed ? -1 : 0;
}

typedef struct {
    const float *model, *mag;
    int64_t model_rows;
    int n_bins, cutoff_bin;
    float eps;
    float *mask;
} soft_job;

static void soft_range(void *ctx, int64_t begin, int64_t end)
{
    soft_job *job = ctx;
    const size_t n_bins = (size_t)job->n_bins;
    for (int64_t t = begin; t < end; t++)
        st_repet_soft_mask_row(job->model + (size_t)(t % job->model_rows) * n_bins,
                               job->mag + (size_t)t * n_bins, job->n_bins, job->eps,
                               job->cutoff_bin, job->mask + (size_t)t * n_bins);
}

void st_repet_soft_mask(const float *model, int64_t model_rows, const float *mag, int64_t n_frames,
                        int n_bins, float eps, int cutoff_bin, int n_threads, float *mask)
{
    soft_job job = {model, mag, model_rows, n_bins, cutoff_bin, eps, mask};
    st_parallel_for(n_threads, n_frames, soft_range, &job);
}

typedef struct {
    const float _Complex *x;
    int n_channels, shared;
    size_t plane;
    float *mag;
} mag_job;

static void mag_range(void *ctx, int64_t begin, int64_t end)
{
    mag_job *job = ctx;
    if (!job->shared) {
        for (int c = 0; c < job->n_channels; c++) {
            size_t at = (size_t)c * job->plane + (size_t)begin;
            st_magnitudes(job->x + at, end - begin, job->mag + at);
        }
        return;
    }
    for (int64_t i = begin; i < end; i++) {
        double p = 0;
        for (int c = 0; c < job->n_channels; c++) {
            float _Complex z = job->x[(size_t)c * job->plane + (size_t)i];
            p += (double)crealf(z) * crealf(z) + (double)cimagf(z) * cimagf(z);
        }
        job->mag[i] = (float)sqrt(p / job->n_channels);
    }
}

void st_repet_magnitudes(const float _Complex *x, int n_channels, size_t plane, int shared,
                         int n_threads, float *mag)
{
    mag_job job = {x, n_channels, shared, plane, mag};
    st_parallel_for(n_threads, (int64_t)plane, mag_range, &job);
}

int st_repet_cutoff_bin(double hz, double rate_hz, int n_fft)
{
    int best = 0, n_bins = n_fft / 2 + 1;
    for (int k = 1; k < n_bins; k++)
        if (fabs(k * rate_hz / n_fft - hz) < fabs(best * rate_hz / n_fft - hz)) best = k;
    return best;
}

/* ---- REPET-SIM's similar frames ---- */

/* nussl's find_peak_indices on one row of similarities, rescaled to [0, 1]
 * and cut at threshold: repeatedly the largest value left (the first of
 * equals), its surroundings [int(i - d), int(i + d + 1)) then zeroed, up to
 * n_peaks times or until nothing is left. The row is rewritten. The chunk
 * maxima keep each pick to a scan of N / 64 values. Returns the count. */
#define CHUNK 64

/* r[0..n) rescaled to [0, 1] (minus lo, over hi - lo) and cut at threshold,
 * in place, each CHUNK's maximum kept; LANES at a time (the min, max and
 * arithmetic are exact, so the order does not change a bit). Returns 0 for a
 * row of equal values (a silent frame: nothing resembles it). */
ST_CLONES_AVX512_AVX2 static int rescale_row(float *r, int64_t n, float threshold, float *chunk_max)
{
    const int64_t n_whole = n / CHUNK * CHUNK;
    vf lo_v, hi_v;
    for (int l = 0; l < LANES; l++)
        lo_v[l] = hi_v[l] = r[0];
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES) {
        vf x;
        memcpy(&x, r + i, sizeof x);
        lo_v = SELECT(x < lo_v, x, lo_v);
        hi_v = SELECT(x > hi_v, x, hi_v);
    }
    float lo = lo_v[0], hi = hi_v[0];
    for (int l = 1; l < LANES; l++) {
        lo = lo_v[l] < lo ? lo_v[l] : lo;
        hi = hi_v[l] > hi ? hi_v[l] : hi;
    }
    for (; i < n; i++) {
        lo = r[i] < lo ? r[i] : lo;
        hi = r[i] > hi ? r[i] : hi;
    }
    if (!(hi > lo)) return 0;
    const float span = hi - lo;
    const vf zero = {0};
    for (int64_t c = 0; c * CHUNK < n_whole; c++) {
        vf m = zero;
        for (int64_t j = c * CHUNK; j < (c + 1) * CHUNK; j += LANES) {
            vf x;
            memcpy(&x, r + j, sizeof x);
            x = (x - lo) / span;
            x = SELECT(x >= threshold, x, zero);
            memcpy(r + j, &x, sizeof x);
            m = SELECT(x > m, x, m);
        }
        float best = 0;
        for (int l = 0; l < LANES; l++)
            best = m[l] > best ? m[l] : best;
        chunk_max[c] = best;
    }
    if (n_whole < n) {
        float best = 0;
        for (int64_t j = n_whole; j < n; j++) {
            float x = (r[j] - lo) / span;
            r[j] = x >= threshold ? x : 0.0f;
            best = r[j] > best ? r[j] : best;
        }
        chunk_max[n_whole / CHUNK] = best;
    }
    return 1;
}

/* The first chunk holding the largest maximum (maxima are >= +0). */
ST_CLONES_AVX512_AVX2 static int64_t best_chunk(const float *chunk_max, int64_t n_chunks)
{
    vf best_v = {0};
    int64_t c = 0;
    for (; c + LANES <= n_chunks; c += LANES) {
        vf x;
        memcpy(&x, chunk_max + c, sizeof x);
        best_v = SELECT(x > best_v, x, best_v);
    }
    float best = 0;
    for (int l = 0; l < LANES; l++)
        best = best_v[l] > best ? best_v[l] : best;
    for (; c < n_chunks; c++)
        best = chunk_max[c] > best ? chunk_max[c] : best;
    c = 0;
    while (chunk_max[c] != best)
        c++;
    return c;
}

static int find_peaks(float *r, int64_t n, double d, float threshold, int n_peaks, float *chunk_max,
                      int32_t *peaks)
{
    if (!rescale_row(r, n, threshold, chunk_max)) return 0;
    const int64_t n_chunks = (n + CHUNK - 1) / CHUNK;
    int count = 0;
    while (count < n_peaks) {
        int64_t best_c = best_chunk(chunk_max, n_chunks);
        if (!(chunk_max[best_c] > 0)) break;
        int64_t at = best_c * CHUNK;
        for (int64_t i = at + 1; i < n && i < (best_c + 1) * CHUNK; i++)
            if (r[i] > r[at]) at = i;
        peaks[count++] = (int32_t)at;
        /* numpy: lower = i - d, upper = i + d + 1, clipped, then int() (toward zero) */
        double lower = (double)at - d, upper = (double)at + d + 1;
        int64_t z0 = lower < 0 ? 0 : (int64_t)lower;
        int64_t z1 = upper >= (double)n ? n : (int64_t)upper;
        for (int64_t i = z0; i < z1; i++)
            r[i] = 0;
        for (int64_t c = z0 / CHUNK; c <= (z1 - 1) / CHUNK && c < n_chunks; c++) {
            float m = 0;
            for (int64_t i = c * CHUNK; i < n && i < (c + 1) * CHUNK; i++)
                m = r[i] > m ? r[i] : m;
            chunk_max[c] = m;
        }
    }
    return count;
}

typedef struct {
    const float *unit; /* n_frames x n_bins, rows of norm 1 (or 0) */
    int64_t n_frames;
    int n_bins, n_peaks, block;
    double min_distance;
    float threshold;
    int32_t *neighbours; /* n_frames x (n_peaks - 1) */
    int *n_neighbours;
    float **upper; /* symmetric path: row block I's similarities with frames from I's first */
    int failed;
} sim_job;

/* The frames of row block b: [*t0, *t0 + return). */
static int block_rows(const sim_job *job, int64_t b, int64_t *t0)
{
    *t0 = b * job->block;
    return (int)(job->n_frames - *t0 < job->block ? job->n_frames - *t0 : job->block);
}

/* Picks the repeating frames of the m rows of similarities from frame t0. */
static void pick_rows(sim_job *job, float *rows, int64_t t0, int m, float *chunk_max,
                      int32_t *peaks)
{
    const int64_t n = job->n_frames;
    const int width = job->n_peaks - 1 > 0 ? job->n_peaks - 1 : 0;
    for (int i = 0; i < m; i++) {
        int count = find_peaks(rows + (size_t)i * (size_t)n, n, job->min_distance, job->threshold,
                               job->n_peaks, chunk_max, peaks);
        /* the first peak is the frame itself (or its twin): dropped */
        int kept = count > 1 ? count - 1 : 0;
        int32_t *out = job->neighbours + (size_t)(t0 + i) * (size_t)width;
        for (int j = 0; j < width; j++)
            out[j] = j < kept ? peaks[j + 1] : -1;
        job->n_neighbours[t0 + i] = kept;
    }
}

/* Symmetric path, first half: row block I's similarities with frames from its
 * own first frame on (the upper triangle, block-wise), one sgemm each. Items
 * are ordered 0, last, 1, last - 1, ... so that each thread's contiguous range
 * of items has about the same number of columns. */
static int64_t zigzag(int64_t item, int64_t n_blocks)
{
    return item % 2 == 0 ? item / 2 : n_blocks - 1 - item / 2;
}

static void upper_range(void *ctx, int64_t begin, int64_t end)
{
    sim_job *job = ctx;
    const int64_t n = job->n_frames, n_blocks = (n + job->block - 1) / job->block;
    for (int64_t item = begin; item < end; item++) {
        int64_t b = zigzag(item, n_blocks), t0;
        int m = block_rows(job, b, &t0);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, (int)(n - t0), job->n_bins, 1.0f,
                    job->unit + (size_t)t0 * (size_t)job->n_bins, job->n_bins,
                    job->unit + (size_t)t0 * (size_t)job->n_bins, job->n_bins, 0.0f, job->upper[b],
                    (int)(n - t0));
    }
}

#define TILE 32 /* floats: a square of them is 4 kB */

/* The m whole rows of similarities of row block b (frames from t0): one
 * sgemm with every frame, or, on the symmetric path, the block's own upper
 * rows and, before them, the earlier blocks' tiles transposed (S[i][j] =
 * S[j][i] but for OpenBLAS's rounding, which depends on where a product sits
 * in its tiles either way). */
static void block_similarities(const sim_job *job, int64_t b, int64_t t0, int m, float *rows)
{
    const int64_t n = job->n_frames;
    if (!job->upper) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, (int)n, job->n_bins, 1.0f,
                    job->unit + (size_t)t0 * (size_t)job->n_bins, job->n_bins, job->unit,
                    job->n_bins, 0.0f, rows, (int)n);
        return;
    }
    for (int64_t e = 0; e < b; e++) {
        int64_t u0;
        int me = block_rows(job, e, &u0);
        const float *tile = job->upper[e] + (t0 - u0);
        const size_t stride = (size_t)(n - u0);
        /* by squares of TILE x TILE through a buffer in L1: a plain
         * transpose reads or writes a row apart at every step */
        for (int i0 = 0; i0 < m; i0 += TILE)
            for (int r0 = 0; r0 < me; r0 += TILE) {
                int ni = m - i0 < TILE ? m - i0 : TILE, nr = me - r0 < TILE ? me - r0 : TILE;
                float square[TILE][TILE];
                for (int r = 0; r < nr; r++)
                    memcpy(square[r], tile + (size_t)(r0 + r) * stride + (size_t)i0,
                           (size_t)ni * sizeof **square);
                for (int i = 0; i < ni; i++) {
                    float *out = rows + (size_t)(i0 + i) * (size_t)n + (size_t)(u0 + r0);
                    for (int r = 0; r < nr; r++)
                        out[r] = square[r][i];
                }
            }
    }
    for (int i = 0; i < m; i++)
        memcpy(rows + (size_t)i * (size_t)n + t0, job->upper[b] + (size_t)i * (size_t)(n - t0),
               (size_t)(n - t0) * sizeof *rows);
}

/* Row blocks [begin, end): their whole rows of similarities, then their picks. */
static void rows_range(void *ctx, int64_t begin, int64_t end)
{
    sim_job *job = ctx;
    const int64_t n = job->n_frames;
    float *rows = st_zalloc((size_t)job->block * (size_t)n * sizeof *rows);
    float *chunk_max = malloc((size_t)(n / CHUNK + 1) * sizeof *chunk_max);
    int32_t *peaks = malloc((size_t)job->n_peaks * sizeof *peaks);
    if (!rows || !chunk_max || !peaks) {
        job->failed = 1;
        goto done;
    }
    for (int64_t b = begin; b < end; b++) {
        int64_t t0;
        int m = block_rows(job, b, &t0);
        block_similarities(job, b, t0, m, rows);
        pick_rows(job, rows, t0, m, chunk_max, peaks);
    }
done:
    st_zfree(rows);
    free(chunk_max);
    free(peaks);
}

int st_repet_sim_neighbours(const float *unit, int64_t n_frames, int n_bins, double min_distance,
                            float threshold, int n_peaks, int n_threads, double upper_bytes,
                            const st_repet_spare *spare, int32_t *neighbours, int *n_neighbours)
{
    sim_job job = {unit,      n_frames,   n_bins,       n_peaks, 256, min_distance,
                   threshold, neighbours, n_neighbours, NULL,    0};
    /* the threads here each run OpenBLAS on their own rows */
    openblas_set_num_threads(1);
    const int64_t n_upper = (n_frames + 255) / 256;
    double need = 0; /* the upper triangle, by blocks of 256 rows */
    for (int64_t b = 0; b < n_upper; b++)
        need += (double)256 * (double)(n_frames - b * 256) * sizeof(float);
    /* The blocks go into the memory lent while it lasts (outputs not written
     * yet: their pages are faulted in once, not twice), the rest into one
     * block of huge pages (in 4 kB pages, faulting 500 MB in costs more than
     * the products that fill it). */
    float *triangle = NULL;
    if (n_upper >= 2 && need <= upper_bytes &&
        (job.upper = calloc((size_t)n_upper, sizeof *job.upper))) {
        size_t rest = 0, used[2] = {0, 0};
        for (int64_t b = 0; b < n_upper; b++) {
            int64_t t0;
            size_t size = (size_t)block_rows(&job, b, &t0) * (size_t)(n_frames - t0);
            int region = 0; /* the first with room */
            while (spare && region < 2 && used[region] + size > spare->n_floats[region])
                region++;
            if (spare && region < 2) {
                job.upper[b] = spare->at[region] + used[region];
                used[region] += size;
            } else {
                rest += size;
            }
        }
        if (rest == 0 || (triangle = st_zalloc(rest * sizeof(float)))) {
            float *at = triangle;
            for (int64_t b = 0; b < n_upper; b++)
                if (!job.upper[b]) {
                    int64_t t0;
                    job.upper[b] = at;
                    at += (size_t)block_rows(&job, b, &t0) * (size_t)(n_frames - t0);
                }
            st_parallel_for(n_threads, n_upper, upper_range, &job);
            st_parallel_for(n_threads, n_upper, rows_range, &job);
            st_zfree(triangle);
            free(job.upper);
            return job.failed ? -1 : 0;
        }
    }
    free(job.upper); /* no memory for it: by blocks of whole rows */
    job.upper = NULL;
    /* Each call packs the whole matrix again: the fewer calls the better, up to
     * 64 MB of similarities per thread (1024 rows of a 180 s song). */
    int64_t rows = ((int64_t)1 << 24) / (n_frames > 0 ? n_frames : 1);
    job.block = (int)(rows < 64 ? 64 : rows > 1024 ? 1024 : rows);
    /* balance: at least two blocks per thread when the song allows */
    while (job.block > 64 && (n_frames + job.block - 1) / job.block < 2 * (int64_t)n_threads)
        job.block /= 2;
    int64_t n_blocks = (n_frames + job.block - 1) / job.block;
    st_parallel_for(n_threads, n_blocks, rows_range, &job);
    return job.failed ? -1 : 0;
}

/* ---- kernel backfitting (Liutkus et al. 2014): REPET as a kernel additive model ---- */

typedef struct {
    const float *x;
    float *y;
    int64_t n_frames;
    int n_bins, kernel, failed;
} time_median_job;

static void time_median_range(void *ctx, int64_t begin, int64_t end)
{
    time_median_job *job = ctx;
    st_median *m = st_median_new((int)job->n_frames, job->kernel);
    if (!m) {
        job->failed = 1;
        return;
    }
    for (int64_t item = begin; item < end; item++) {
        int k = (int)item * 8, lanes = job->n_bins - k < 8 ? job->n_bins - k : 8;
        st_median_lanes(m, job->x + k, job->n_bins, 1, (int)job->n_frames, lanes, job->y + k);
    }
    st_median_free(m);
}

int st_repet_backfit(const float *mag, int64_t n_frames, int n_bins, int64_t period, int iterations,
                     int fg_kernel, int cutoff_bin, int n_threads, float *mask)
{
    const size_t plane = (size_t)n_frames * (size_t)n_bins;
    float *b = malloc(plane * sizeof *b), *f = malloc(plane * sizeof *f);
    const int64_t rows = period < n_frames ? period : n_frames;
    float *model = malloc((size_t)rows * (size_t)n_bins * sizeof *model);
    int status = -1;
    if (!b || !f || !model) goto done;
    for (int it = 0; it < iterations; it++) {
        for (size_t i = 0; i < plane; i++) {
            b[i] = mask[i] * mag[i];
            f[i] = mag[i] - b[i];
        }
        if (st_repet_period_model(b, n_frames, n_bins, period, 0.5, n_threads, model)) goto done;
        time_median_job job = {f, b, n_frames, n_bins, fg_kernel, 0};
        st_parallel_for(n_threads, (n_bins + 7) / 8, time_median_range, &job);
        if (job.failed) goto done;
        for (size_t t = 0; t < (size_t)n_frames; t++)
            for (int k = 0; k < n_bins; k++) {
                size_t i = t * (size_t)n_bins + (size_t)k;
                const float bm = model[(t % (size_t)period) * (size_t)n_bins + (size_t)k];
                float pb = bm * bm, pf = b[i] * b[i];
                mask[i] = k < cutoff_bin ? 1.0f : pb + pf > 0 ? pb / (pb + pf) : 1.0f;
            }
    }
    status = 0;
done:
    free(b);
    free(f);
    free(model);
    return status;
}
