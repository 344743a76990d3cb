/* Log-filtered spectrogram: FFTW frames spread over threads, the filterbank
 * kept sparse (each band is a short run of bins). */
#include "logspec.h"

#include "../../vm/parallel.h"
#include "../../vm/simd.h"
#include "fft.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FMIN_HZ          30.0
#define FMAX_HZ          17000.0
#define BANDS_PER_OCTAVE 12
#define N_BINS           (ST_LOGSPEC_N_FFT / 2 + 1)

/* Owns its arrays; the FFT plans belong to fft.c. */
struct st_logspec {
    const st_fft *fft;
    float window[ST_LOGSPEC_N_FFT];
    int n_bands;
    int *first_bin, *n_taps; /* per band */
    int *centre_bin;         /* per band */
    float *taps;             /* band b's weights at taps + b * max_taps */
    int max_taps;
};

st_logspec *st_logspec_create(void)
{
    st_logspec *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->fft = st_fft_get(ST_LOGSPEC_N_FFT);
    for (int n = 0; n < ST_LOGSPEC_N_FFT; n++)
        s->window[n] = (float)(0.5 - 0.5 * cos(2.0 * M_PI * n / ST_LOGSPEC_N_FFT));
    /* centre bins: 440 * 2^(k/12) within [FMIN, FMAX], nearest bin, unique */
    int k_lo = (int)floor(BANDS_PER_OCTAVE * log2(FMIN_HZ / 440.0));
    int k_hi = (int)ceil(BANDS_PER_OCTAVE * log2(FMAX_HZ / 440.0));
    int bins[256], n = 0;
    for (int k = k_lo; k <= k_hi && n < 256; k++) {
        double f = 440.0 * pow(2.0, (double)k / BANDS_PER_OCTAVE);
        if (f < FMIN_HZ || f > FMAX_HZ) continue;
        int b = (int)floor(f * ST_LOGSPEC_N_FFT / ST_LOGSPEC_RATE_HZ + 0.5);
        if (b < N_BINS && (n == 0 || b != bins[n - 1])) bins[n++] = b;
    }
    s->n_bands = n - 2;
    s->max_taps = 0;
    for (int j = 0; j < s->n_bands; j++)
        if (bins[j + 2] - bins[j] > s->max_taps) s->max_taps = bins[j + 2] - bins[j];
    s->first_bin = malloc((size_t)s->n_bands * sizeof *s->first_bin);
    s->n_taps = malloc((size_t)s->n_bands * sizeof *s->n_taps);
    s->centre_bin = malloc((size_t)s->n_bands * sizeof *s->centre_bin);
    s->taps = calloc((size_t)s->n_bands * s->max_taps, sizeof *s->taps);
    if (!s->fft || !s->first_bin || !s->n_taps || !s->centre_bin || !s->taps) {
        st_logspec_destroy(s);
        return NULL;
    }
    for (int j = 0; j < s->n_bands; j++) {
        int start = bins[j], centre = bins[j + 1], stop = bins[j + 2];
        float *w = s->taps + (size_t)j * s->max_taps;
        s->first_bin[j] = start;
        s->centre_bin[j] = centre;
        if (stop - start < 2) { /* too narrow for a triangle: one bin */
            s->n_taps[j] = 1;
            w[0] = 1.0f;
            continue;
        }
        double v[256], sum = 0.0;
        for (int b = start; b < stop; b++) {
            v[b - start] = b < centre ? (double)(b - start) / (centre - start)
                                      : (double)(stop - b) / (stop - centre);
            sum += v[b - start];
        }
        s->n_taps[j] = stop - start;
        for (int b = 0; b < stop - start; b++)
            w[b] = (float)(v[b] / sum);
    }
    return s;
}

void st_logspec_destroy(st_logspec *s)
{
    if (!s) return;
    free(s->first_bin);
    free(s->n_taps);
    free(s->centre_bin);
    free(s->taps);
    free(s);
}

int st_logspec_n_bands(const st_logspec *s) { return s->n_bands; }

double st_logspec_band_hz(const st_logspec *s, int band)
{
    return (double)s->centre_bin[band] * ST_LOGSPEC_RATE_HZ / ST_LOGSPEC_N_FFT;
}

int64_t st_logspec_n_frames(int64_t n_samples)
{
    return (n_samples + ST_LOGSPEC_HOP - 1) / ST_LOGSPEC_HOP;
}

typedef struct {
    const st_logspec *s;
    const float *x;
    int64_t n;
    float *out;
    int n_bins_used; /* bins below the last filter's end */
    int failed;
} job;

typedef float floats16 __attribute__((vector_size(64)));

ST_CLONES_AVX512_AVX2 static void frames(void *ctx, int64_t begin, int64_t end)
{
    job *j = ctx;
    const st_logspec *s = j->s;
    float *frame = st_fft_alloc(ST_LOGSPEC_N_FFT * sizeof *frame);
    float complex *spec = st_fft_alloc(N_BINS * sizeof *spec);
    float mag[N_BINS];
    if (!frame || !spec) {
        j->failed = 1;
        st_fft_free(frame);
        st_fft_free(spec);
        return;
    }
    for (int64_t t = begin; t < end; t++) {
        int64_t first = t * ST_LOGSPEC_HOP - ST_LOGSPEC_N_FFT / 2;
        if (first >= 0 && first + ST_LOGSPEC_N_FFT <= j->n) { /* inside: no checks, in vectors */
            for (int k = 0; k < ST_LOGSPEC_N_FFT; k += 16) {
                floats16 x, w;
                memcpy(&x, j->x + first + k, sizeof x);
                memcpy(&w, s->window + k, sizeof w);
                x = x * 32768.0f * w;
                memcpy(frame + k, &x, sizeof x);
            }
        } else {
            for (int k = 0; k < ST_LOGSPEC_N_FFT; k++) {
                int64_t at = first + k;
                float v = at >= 0 && at < j->n ? j->x[at] * 32768.0f : 0.0f;
                frame[k] = v * s->window[k];
            }
        }
        st_fft_forward(s->fft, frame, spec);
        /* |z| as glibc's hypotf computes it (in double, rounded once), for the bins the
         * filters read */
        for (int k = 0; k < j->n_bins_used; k++) {
            double re = crealf(spec[k]), im = cimagf(spec[k]);
            mag[k] = (float)sqrt(re * re + im * im);
        }
        float *row = j->out + (size_t)t * s->n_bands;
        for (int b = 0; b < s->n_bands; b++) {
            const float *w = s->taps + (size_t)b * s->max_taps;
            const float *m = mag + s->first_bin[b];
            float sum = 0.0f;
            for (int k = 0; k < s->n_taps[b]; k++)
                sum += w[k] * m[k];
            row[b] = log10f(1.0f + sum);
        }
    }
    st_fft_free(frame);
    st_fft_free(spec);
}

int st_logspec_compute(const st_logspec *s, const float *mono, int64_t n_samples, float *out,
                       int n_threads)
{
    job j = {s, mono, n_samples, out, 0, 0};
    for (int b = 0; b < s->n_bands; b++)
        if (s->first_bin[b] + s->n_taps[b] > j.n_bins_used)
            j.n_bins_used = s->first_bin[b] + s->n_taps[b];
    int64_t n_frames = st_logspec_n_frames(n_samples);
    st_parallel_for(n_threads, n_frames, frames, &j);
    return j.failed ? -1 : 0;
}
