/* Magnitudes of complex values, as glibc's cabsf computes them (the root of
 * the sum of squares in double, rounded once to float), without its call:
 * to the bit for finite values; a non-finite value gives a non-finite
 * magnitude (cabsf's choice between NaN and infinity is not kept). */
#ifndef ST_MAGNITUDE_H
#define ST_MAGNITUDE_H

#include <stddef.h>
#include <stdint.h>

void st_magnitudes(const float _Complex *x, int64_t n, float *mag);

/* The mean over channels of one frame's magnitudes: x holds channel 0's
 * n_bins values, each other channel's channel_stride values further on;
 * scratch holds n_bins floats. Summed in channel order, then divided. */
void st_channel_mean_magnitudes(const float _Complex *x, size_t channel_stride, int n_channels,
                                int64_t n_bins, float *mean, float *scratch);

/* The paths st_magnitudes chooses among (the widest the CPU has), one by
 * one for the tests: 0, or -1 when this CPU lacks the path (mag untouched). */
enum { ST_MAGNITUDES_PLAIN, ST_MAGNITUDES_AVX, ST_MAGNITUDES_AVX512 };
int st_magnitudes_path(int path, const float _Complex *x, int64_t n, float *mag);

#endif
