/* The short-time Fourier transform and its inverse, with librosa's framing:
 * frame t starts at sample t * hop - pad, where pad = n_fft / 2 when
 * centred (zeros outside the signal) and 0 otherwise. The inverse overlaps
 * and adds the windowed inverse FFTs and divides by the sum of squared
 * windows wherever that sum is not tiny, which makes it exact. */
#ifndef ST_STFT_H
#define ST_STFT_H

#include "../../vm/value.h"

int64_t st_stft_n_frames(int64_t length, int n_fft, int hop_samples, int center);

/* Fills s (already shaped) from the channels of a. ST_OK or ST_ERR (memory). */
int st_stft_compute(const st_audio *a, st_spectrum *s, int n_threads);

/* |X| of the frames st_stft_compute would make (the same bits as
 * st_magnitudes of them), for shape's framing (its data is not read), without
 * holding the complex frames, in blocks of `block` bins whose time series
 * are contiguous: bin k of frame t of channel c is blocks[c * n_blocks + k /
 * block][t * block + k % block], n_blocks = ceil(n_bins / block) (each block
 * n_frames x block floats; the last block's spare lanes are not written). */
int st_stft_magnitudes(const st_audio *a, const st_spectrum *shape, int block, float *const *blocks,
                       int n_threads);

/* Fills a (n_channels x s->length_samples) from s. */
int st_istft_compute(const st_spectrum *s, st_audio *a, int n_threads);

/* The same of s times a real mask, bin by bin (mask as st_mask_apply takes
 * it: one per channel, or one for all when shared), without making the
 * masked spectrum: the same samples as st_istft_compute of it. */
int st_istft_masked(const st_spectrum *s, const float *mask, int shared, st_audio *a,
                    int n_threads);

/* The same with the frames made on demand: frame(ctx, c, t, bins) writes
 * the n_bins values of frame t of channel c (c < a's channels) into bins.
 * It is called from several threads at once, once or twice per frame (a
 * frame that straddles two threads' spans is made by both); shape gives the
 * framing (its data is not read). For masks that are cheaper to make than
 * to hold (loop_stems makes each loop's from the loops' model). */
typedef void (*st_istft_frame_fn)(void *ctx, int channel, int64_t t, float _Complex *bins);
int st_istft_compute_frames(const st_spectrum *shape, st_istft_frame_fn frame, void *ctx,
                            st_audio *a, int n_threads);

/* The inverse of in's STFT filtered frame by frame, without holding the
 * spectrum: each frame is made again from in as st_stft_compute makes it (the
 * same bits), filter(ctx, c, t, bins, scratch) changes its n_bins values in
 * place (scratch: n_fft floats of its own to use), and the frames are
 * inverted as st_istft_compute inverts them; shape gives the framing and
 * length (its data is not read). Called from several threads, once or twice
 * per frame. rest (or NULL) gets in minus out, sample by sample. Two passes
 * over the song instead of a spectrum four times its size in memory. */
typedef void (*st_stft_filter_fn)(void *ctx, int channel, int64_t t, float _Complex *bins,
                                  float *scratch);
int st_istft_filtered(const st_spectrum *shape, const st_audio *in, st_stft_filter_fn filter,
                      void *ctx, st_audio *out, st_audio *rest, int n_threads);

#endif
