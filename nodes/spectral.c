#include "spectral.h"

#include "../vm/parallel.h"

typedef struct {
    const float complex *in;
    float *out;
    st_bin_map map;
} map_job;

static void map_range(void *ctx, int64_t begin, int64_t end)
{
    map_job *job = ctx;
    for (int64_t i = begin; i < end; i++)
        job->out[i] = job->map(job->in[i]);
}

int st_spectrum_map(st_ctx *ctx, const st_value *spectrum, st_bin_map map, st_value **out)
{
    const st_spectrum *s = &spectrum->u.spectrum;
    static const char *const axes[] = {"channel", "time", "freq"};
    int64_t shape[3] = {s->n_channels, s->n_frames, s->n_bins};
    st_value *v = st_array_new(3, shape, axes);
    if (!v) return st_fail(ctx, "out of memory");
    map_job job = {s->data, v->u.array.data, map};
    st_parallel_for(ctx->n_threads, v->u.array.n_elems, map_range, &job);
    *out = v;
    return ST_OK;
}

const float *st_mask_for(st_ctx *ctx, const st_array *m, int index, const st_spectrum *s,
                         int *n_channels)
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

void st_mask_apply(const st_spectrum *s, const float *mask, int shared, st_spectrum *out)
{
    size_t per_channel = (size_t)s->n_frames * (size_t)s->n_bins;
    for (int c = 0; c < s->n_channels; c++) {
        const float *m = mask + (shared ? 0 : (size_t)c * per_channel);
        const float complex *x = s->data + (size_t)c * per_channel;
        float complex *y = out->data + (size_t)c * per_channel;
        for (size_t i = 0; i < per_channel; i++)
            y[i] = x[i] * m[i];
    }
}

/* Items are (channel, frame) rows of n_bins. */
typedef struct {
    const st_spectrum *s;
    const float *mask;
    int shared;
    float complex *kept, *rest;
} split_job;

static void split_rows(void *ctx, int64_t begin, int64_t end)
{
    split_job *job = ctx;
    const int64_t n_frames = job->s->n_frames;
    const size_t n_bins = (size_t)job->s->n_bins;
    for (int64_t item = begin; item < end; item++) {
        size_t at = (size_t)item * n_bins;
        const float *m = job->mask + (job->shared ? (size_t)(item % n_frames) * n_bins : at);
        const float complex *x = job->s->data + at;
        float complex *k = job->kept + at, *r = job->rest + at;
        for (size_t i = 0; i < n_bins; i++) {
            k[i] = m[i] * x[i];
            r[i] = (1.0f - m[i]) * x[i];
        }
    }
}

void st_mask_split(const st_spectrum *s, const float *mask, int shared, float complex *kept,
                   float complex *rest, int n_threads)
{
    split_job job = {s, mask, shared, kept, rest};
    st_parallel_for(n_threads, (int64_t)s->n_channels * s->n_frames, split_rows, &job);
}
