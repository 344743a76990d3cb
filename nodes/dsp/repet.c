#include "repet.h"
#include "fft.h"

#include "../../vm/parallel.h"

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
#define MAX_PLANS 16
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
    int n_channels, n_bins, n_fft;
    int64_t n_frames;
    fftw_plan forward;
    double *sums; /* per thread: n_fft / 2 + 1 summed |FFT|^2 */
    int n_items, failed;
} beat_job;

/* Bins are taken BLOCK at a time so that gathering their time series reads
 * each frame's memory once per block, not once per bin. */
#define BLOCK 16

static void beat_range(void *ctx, int64_t begin, int64_t end)
{
    beat_job *job = ctx;
    /* items are thread slots: slot i takes bins [i * n_bins / n_items, ...) */
    const int n_half = job->n_fft / 2 + 1;
    const int64_t n_frames = job->n_frames;
    const size_t plane = (size_t)n_frames * (size_t)job->n_bins;
    double *x = fftw_alloc_real((size_t)job->n_fft * BLOCK);
    fftw_complex *y = fftw_alloc_complex((size_t)n_half);
    if (!x || !y) {
        job->failed = 1;
        goto done;
    }
    for (int64_t item = begin; item < end; item++) {
        double *sum = job->sums + (size_t)item * (size_t)n_half;
        int k0 = (int)((int64_t)job->n_bins * item / job->n_items);
        int k1 = (int)((int64_t)job->n_bins * (item + 1) / job->n_items);
        for (int kb = k0; kb < k1; kb += BLOCK) {
            int nb = k1 - kb < BLOCK ? k1 - kb : BLOCK;
            for (int64_t t = 0; t < n_frames; t++) {
                double p[BLOCK] = {0};
                for (int c = 0; c < job->n_channels; c++) {
                    size_t at = (size_t)c * plane + (size_t)t * (size_t)job->n_bins + (size_t)kb;
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
            for (int b = 0; b < nb; b++) {
                double *xb = x + (size_t)b * job->n_fft;
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

static int beat_spectrum(beat_job *job, int n_threads, double *beat)
{
    const int64_t n = job->n_frames;
    if (n < 1) return 0;
    job->n_fft = fft_size_at_least(2 * n);
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
    for (int64_t l = 0; l < n; l++)
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
    return beat_spectrum(&job, n_threads, beat);
}

int st_beat_spectrum_of_spectrum(const float _Complex *x, int n_channels, int64_t n_frames,
                                 int n_bins, int n_threads, double *beat)
{
    beat_job job = {.frames = x, .n_channels = n_channels, .n_bins = n_bins, .n_frames = n_frames};
    return beat_spectrum(&job, n_threads, beat);
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

/* Moves the k-th smallest of v[0..n) to v[k], smaller ones before it. */
static void select_kth(float *v, int n, int k)
{
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        float a = v[lo], b = v[(lo + hi) / 2], c = v[hi]; /* median of three as pivot */
        float pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
        int i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                float t = v[i];
                v[i++] = v[j];
                v[j--] = t;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return;
    }
}

float st_repet_median(float *v, int n)
{
    int half = n / 2;
    select_kth(v, n, half);
    if (n % 2) return v[half];
    float below = v[0]; /* the largest of the lower half */
    for (int i = 1; i < half; i++)
        if (v[i] > below) below = v[i];
    return (below + v[half]) * 0.5f;
}

/* ---- repeating models ---- */

typedef struct {
    const float *mag;
    int64_t n_frames;
    int n_bins;
    int64_t period;
    const int64_t *periods; /* adaptive: one per frame */
    int order;
    float *model;
    int failed;
} model_job;

/* REPET: items are positions j in the period; the segments' frames at j
 * give each bin's values. */
static void period_range(void *ctx, int64_t begin, int64_t end)
{
    model_job *job = ctx;
    const int64_t n_segments = (job->n_frames + job->period - 1) / job->period;
    const int n_bins = job->n_bins;
    /* the segments' frames at j, copied whole (rows are contiguous), then
     * each bin's values gathered from that copy */
    float *rows = malloc((size_t)n_segments * (size_t)n_bins * sizeof *rows);
    float *v = malloc((size_t)n_segments * sizeof *v);
    if (!rows || !v) {
        job->failed = 1;
        goto done;
    }
    for (int64_t j = begin; j < end; j++) {
        int n = 0;
        for (int64_t t = j; t < job->n_frames; t += job->period)
            memcpy(rows + (size_t)n++ * (size_t)n_bins, job->mag + (size_t)t * (size_t)n_bins,
                   (size_t)n_bins * sizeof *rows);
        float *out = job->model + (size_t)j * (size_t)n_bins;
        for (int k = 0; k < n_bins; k++) {
            for (int i = 0; i < n; i++)
                v[i] = rows[(size_t)i * (size_t)n_bins + (size_t)k];
            out[k] = st_repet_median(v, n);
        }
        for (int64_t t = j + job->period; t < job->n_frames; t += job->period)
            memcpy(job->model + (size_t)t * (size_t)n_bins, out, (size_t)n_bins * sizeof *out);
    }
done:
    free(rows);
    free(v);
}

int st_repet_period_model(const float *mag, int64_t n_frames, int n_bins, int64_t period,
                          int n_threads, float *model)
{
    model_job job = {mag, n_frames, n_bins, period, NULL, 0, model, 0};
    int64_t n_items = period < n_frames ? period : n_frames;
    st_parallel_for(n_threads, n_items, period_range, &job);
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
    model_job job = {mag, n_frames, n_bins, 0, period, order, model, 0};
    st_parallel_for(n_threads, n_frames, adaptive_range, &job);
    return job.failed ? -1 : 0;
}

void st_repet_soft_mask(float *model, const float *mag, size_t n_frames, int n_bins, float eps,
                        int cutoff_bin)
{
    for (size_t t = 0; t < n_frames; t++) {
        float *m = model + t * (size_t)n_bins;
        const float *x = mag + t * (size_t)n_bins;
        int k = 0;
        for (; k < cutoff_bin && k < n_bins; k++)
            m[k] = 1.0f;
        for (; k < n_bins; k++)
            m[k] = ((m[k] < x[k] ? m[k] : x[k]) + eps) / (x[k] + eps);
    }
}

int st_repet_cutoff_bin(double hz, double rate_hz, int n_fft)
{
    int best = 0, n_bins = n_fft / 2 + 1;
    for (int k = 1; k < n_bins; k++)
        if (fabs(k * rate_hz / n_fft - hz) < fabs(best * rate_hz / n_fft - hz)) best = k;
    return best;
}
