#include "spectral.h"

#include "../../vm/parallel.h"

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
