/* Masks with librosa's semantics (librosa.util.softmask). */
#ifndef ST_MASKS_H
#define ST_MASKS_H

#include <float.h>
#include <math.h>

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

#endif

#include "../../vm/node.h"

/* A mask for a spectrum: an array (channel, time, freq) with the spectrum's
 * time and freq sizes and its channel count or 1 (shared by every channel),
 * or a 4-axis stack (mask, channel, time, freq) of which one is picked.
 * Returns the first element of the chosen mask and its channel count, or
 * NULL with a message. */
static inline const float *st_mask_for(st_ctx *ctx, const st_array *m, int index,
                                       const st_spectrum *s, int *n_channels)
{
    int stacked = m->n_axes == 4, axis0 = stacked ? 1 : 0;
    if (m->n_axes != 3 + stacked) {
        st_fail(ctx,
                "a mask must have axes (channel, time, freq), or (mask, channel, time, freq); this "
                "one has %d",
                m->n_axes);
        return NULL;
    }
    if (m->shape[axis0 + 1] != s->n_frames || m->shape[axis0 + 2] != s->n_bins) {
        st_fail(ctx, "the mask is %lld frames x %lld bins, the spectrum %lld x %d",
                (long long)m->shape[axis0 + 1], (long long)m->shape[axis0 + 2],
                (long long)s->n_frames, s->n_bins);
        return NULL;
    }
    if (m->shape[axis0] != 1 && m->shape[axis0] != s->n_channels) {
        st_fail(ctx, "the mask has %lld channels, the spectrum %d (a mask of 1 channel serves all)",
                (long long)m->shape[axis0], s->n_channels);
        return NULL;
    }
    if (stacked && (index < 0 || index >= m->shape[0])) {
        st_fail(ctx, "mask index %d: the stack holds %lld masks", index, (long long)m->shape[0]);
        return NULL;
    }
    *n_channels = (int)m->shape[axis0];
    return m->data + (stacked ? (size_t)index * (size_t)(m->n_elems / m->shape[0]) : 0);
}
