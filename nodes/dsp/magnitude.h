/* Magnitudes of complex values, as glibc's cabsf computes them (the root of
 * the sum of squares in double, rounded once to float), without its call:
 * to the bit for finite values; a non-finite value gives a non-finite
 * magnitude (cabsf's choice between NaN and infinity is not kept). */
#ifndef ST_MAGNITUDE_H
#define ST_MAGNITUDE_H

#include <stdint.h>

void st_magnitudes(const float _Complex *x, int64_t n, float *mag);

#endif
