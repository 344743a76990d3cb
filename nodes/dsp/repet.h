/* Numerics of the REPET family (Rafii & Pardo), shared by the beat_spectrum,
 * repet, repet_sim and repet_online nodes. Spectrograms here are frames of
 * n_bins contiguous values (time, freq), as st_array (channel, time, freq)
 * lays out one channel. */
#ifndef ST_REPET_H
#define ST_REPET_H

#include <stddef.h>
#include <stdint.h>

/* The beat spectrum of a power spectrogram: for each lag l in [0, n_frames),
 * the mean over bins of sum_t P[t][k] P[t + l][k] / (n_frames - l), the
 * autocorrelation of each bin along time (through FFTs of at least
 * 2 n_frames, in double) as nussl's Repet.compute_beat_spectrum. power holds
 * n_channels spectrograms one after the other; their mean is used. ST_OK or
 * ST_ERR (memory). */
int st_beat_spectrum(const float *power, int n_channels, int64_t n_frames, int n_bins,
                     int n_threads, double *beat);

/* The same from complex frames (bin k of frame t of channel c at
 * ((c * n_frames) + t) * n_bins + k): the power is |X|^2 averaged over
 * channels. Only lags [0, n_lags) are made (n_lags = n_frames: all, the
 * numbers of st_beat_spectrum): a shorter FFT, of at least n_frames + n_lags
 * - 1 points, gives them; they differ from the whole spectrum's by rounding. */
int st_beat_spectrum_of_spectrum(const float _Complex *x, int n_channels, int64_t n_frames,
                                 int n_bins, int64_t n_lags, int n_threads, double *beat);

/* Magnitudes in blocks of ST_REPET_BLOCK bins, each block's time series
 * contiguous (what st_stft_magnitudes writes with that block): bin k of frame
 * t of channel c is blocks[c * n_blocks + k / B][t * B + k % B], with
 * n_blocks = ceil(n_bins / B). The beat spectrum and REPET's model read
 * them in order instead of a frame (a page) apart. */
#define ST_REPET_BLOCK 16

/* The beat spectrum (lags [0, n_lags), as st_beat_spectrum_of_spectrum) from
 * such blocks, the power their square in double: |X|^2 to float rounding of
 * |X|, so within about 1e-7 relative of the values from the complex frames. */
int st_beat_spectrum_of_magnitudes(const float *const *blocks, int n_channels, int64_t n_frames,
                                   int n_bins, int64_t n_lags, int n_threads, double *beat);

/* The lag in [min_lag, max_lag] (clipped to the spectrum) where beat is
 * largest, the first of equals; -1 when the range holds no lag. */
int64_t st_repeating_period(const double *beat, int64_t n_lags, int64_t min_lag, int64_t max_lag);

/* The median along numpy's rules (the mean of the two middle values for an
 * even count) of v[0..n), n >= 1; reorders v. */
float st_repet_median(float *v, int n);

/* Medians of each bin over a few rows (frames of n_bins values),
 * ST_REPET_LANES bins at a time: out[k] = median of rows[i][k]. Scratch for
 * one thread: create once for at most max_rows rows (<= 65535; may fail),
 * reuse, free. A change of n_rows plans the network again (no allocation). */
#define ST_REPET_LANES 16
typedef struct st_rows_median st_rows_median;
st_rows_median *st_rows_median_new(int max_rows);
void st_rows_median_free(st_rows_median *m);
/* Another quantile than the median (0.5), interpolated as numpy's default. */
void st_rows_median_set_quantile(st_rows_median *m, double q);
void st_rows_median_run(st_rows_median *m, const float *const *rows, int n_rows, int n_bins,
                        float *out);

/* REPET-SIM's repeating frames, as nussl's RepetSim: for each frame, the
 * cosine similarities with every frame (unit: rows of norm 1, or 0 for
 * silence; by blocks of rows with cblas_sgemm, never the whole matrix),
 * rescaled to [0, 1] and cut at threshold, then up to n_peaks peaks taken
 * greedily (the largest left, its surroundings within min_distance frames
 * zeroed); the first (the frame itself) dropped. neighbours: n_frames x
 * (n_peaks - 1), -1 past each frame's count in n_neighbours. When the upper
 * triangle of the similarities (by blocks of 256 rows) fits in upper_bytes,
 * it is computed and kept, and each similarity is computed once instead of
 * twice. The two paths agree but for OpenBLAS's rounding (S[i][j] and S[j][i]
 * are not summed in the same order), so near-ties may pick other neighbours
 * when upper_bytes (the memory budget) changes which path runs. spare (or
 * NULL): up to two stretches of memory the caller lends for the triangle
 * (outputs not written yet); what does not fit is allocated. */
typedef struct {
    float *at[2];
    size_t n_floats[2];
} st_repet_spare;
int st_repet_sim_neighbours(const float *unit, int64_t n_frames, int n_bins, double min_distance,
                            float threshold, int n_peaks, int n_threads, double upper_bytes,
                            const st_repet_spare *spare, int32_t *neighbours, int *n_neighbours);

/* The repeating model of REPET over one period: model[j][k] = the median of
 * mag[s * period + j][k] over the segments s that exist (the last segment may
 * be short), for j < min(period, n_frames); frame t's model is row t mod
 * period. mag is n_frames x n_bins. quantile 0.5 is the median; above it the
 * model holds more of the mixture. */
int st_repet_period_model(const float *mag, int64_t n_frames, int n_bins, int64_t period,
                          double quantile, int n_threads, float *model);

/* The same from magnitudes in blocks (ST_REPET_BLOCK above; one channel's
 * n_blocks), model frame-major as above: the same values, bit for bit. */
int st_repet_period_model_blocks(const float *const *blocks, int64_t n_frames, int n_bins,
                                 int64_t period, double quantile, int n_threads, float *model);

/* The adaptive model: frame t takes the median of the frames t + i * period[t]
 * for i in [-(order-1)/2, order/2] that exist (REPET-Python's adaptive REPET). */
int st_repet_adaptive_model(const float *mag, int64_t n_frames, int n_bins, const int64_t *period,
                            int order, int n_threads, float *model);

/* Kernel backfitting (Liutkus et al. 2014) from a background mask: the
 * background model is the period median of the current background estimate,
 * the foreground model the median over fg_kernel frames (along time) of the
 * current foreground estimate, and the mask their Wiener ratio of powers;
 * `iterations` times, in place. Bins below cutoff_bin stay background. */
int st_repet_backfit(const float *mag, int64_t n_frames, int n_bins, int64_t period, int iterations,
                     int fg_kernel, int cutoff_bin, int n_threads, float *mask);

/* The soft background mask of REPET for one frame: (min(model, |X|) + eps) /
 * (|X| + eps), bins below cutoff_bin 1. mask may be model or mag (in place). */
static inline void st_repet_soft_mask_row(const float *model, const float *mag, int n_bins,
                                          float eps, int cutoff_bin, float *mask)
{
    int k = 0;
    for (; k < cutoff_bin && k < n_bins; k++)
        mask[k] = 1.0f;
    for (; k < n_bins; k++)
        mask[k] = ((model[k] < mag[k] ? model[k] : mag[k]) + eps) / (mag[k] + eps);
}

/* The same for every frame, frame t from model row t mod model_rows (a
 * period's model, or a whole one with model_rows >= n_frames), both threads. */
void st_repet_soft_mask(const float *model, int64_t model_rows, const float *mag, int64_t n_frames,
                        int n_bins, float eps, int cutoff_bin, int n_threads, float *mask);

/* |X| of each channel's frames (plane = n_frames x n_bins values a channel),
 * or with shared the root of the channels' mean power (one plane); both
 * threads. */
void st_repet_magnitudes(const float _Complex *x, int n_channels, size_t plane, int shared,
                         int n_threads, float *mag);

/* The bin nearest to hz (the first of two equally near), as nussl's high-pass. */
int st_repet_cutoff_bin(double hz, double rate_hz, int n_fft);

#endif
