/* Masks with librosa's semantics (librosa.util.softmask). */
#ifndef ST_MASKS_H
#define ST_MASKS_H

#include <float.h>
#include <math.h>
#include <stddef.h>

/* Soft mask of x against x_ref: x^p / (x^p + x_ref^p), computed on values
 * divided by max(x, x_ref) as librosa does; where both are below FLT_MIN the
 * mask is 0.5 (split_zeros) or 0. power = INFINITY makes it hard: x > x_ref,
 * ties to the reference. */
static inline float st_softmask(float x, float x_ref, float power, int split_zeros)
{
    if (isinf(power)) return x > x_ref ? 1.0f : 0.0f;
    float z = x > x_ref ? x : x_ref;
    if (z < FLT_MIN) return split_zeros ? 0.5f : 0.0f;
    float inv = 1.0f / z, u = x * inv, v = x_ref * inv;
    float a = power == 2.0f ? u * u : powf(u, power), b = power == 2.0f ? v * v : powf(v, power);
    return a / (a + b);
}

/* A soft mask made hard in place: 1 where it is at least threshold, else 0
 * (the REPET family's `mask = "hard"`). */
static inline void st_mask_harden(float *mask, size_t n, float threshold)
{
    for (size_t i = 0; i < n; i++)
        mask[i] = mask[i] >= threshold ? 1.0f : 0.0f;
}

#endif
