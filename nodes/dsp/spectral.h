/* Element-wise maps from a spectrum to a real array with axes
 * (channel, time, freq), shared by magnitude, power and phase. */
#ifndef ST_SPECTRAL_H
#define ST_SPECTRAL_H

#include "../../vm/node.h"

typedef float (*st_bin_map)(float complex z);

int st_spectrum_map(st_ctx *ctx, const st_value *spectrum, st_bin_map map, st_value **out);

#endif
