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

#endif
