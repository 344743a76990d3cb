/* Helpers for nodes that work on spectra: element-wise maps to arrays
 * (magnitude, power, phase) and masks that fit a spectrum. They speak the
 * node API (a context to fail through); the numerics are in nodes/dsp/. */
#ifndef ST_SPECTRAL_H
#define ST_SPECTRAL_H

#include "../vm/node.h"

typedef float (*st_bin_map)(float complex z);

/* An array (channel, time, freq) of map(bin) for every bin of spectrum. */
int st_spectrum_map(st_ctx *ctx, const st_value *spectrum, st_bin_map map, st_value **out);

/* A mask for a spectrum: an array (channel, time, freq) with the spectrum's
 * time and freq sizes and its channel count or 1 (shared by every channel),
 * or a 4-axis stack (mask, channel, time, freq) of which one is picked.
 * Returns the first element of the chosen mask and its channel count, or
 * NULL after st_fail. */
const float *st_mask_for(st_ctx *ctx, const st_array *m, int index, const st_spectrum *s,
                         int *n_channels);

/* out = s times mask, bin by bin; mask is one channel for all when shared,
 * else one per channel (as st_mask_for gives it). out has s's shape. */
void st_mask_apply(const st_spectrum *s, const float *mask, int shared, st_spectrum *out);

/* kept = mask X and rest = (1 - mask) X, bin by bin (a foreground/background
 * split that sums to X); mask as for st_mask_apply; both cores. */
void st_mask_split(const st_spectrum *s, const float *mask, int shared, float complex *kept,
                   float complex *rest, int n_threads);

#endif
