/* mix: the sum of several audio values, or the first less the others. */
#include "../vm/node.h"
#include "../vm/parallel.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    st_value *const *in;
    int n_in;
    int subtract; /* inputs after the first are subtracted */
    st_audio *y;
} mix_job;

/* Samples [begin, end) of the output channels laid end to end: each sample
 * is the sum of the inputs in their order, as one loop over them would add.
 * Subtracting is exact: a - b is a + (-b) to the bit, so `a - b` gives what
 * `a + b * -1` gave, without the negated copy. */
static void mix_range(void *ctx, int64_t begin, int64_t end)
{
    const mix_job *job = ctx;
    const int64_t n = job->y->n_frames;
    for (int64_t i = begin; i < end;) {
        int c = (int)(i / n);
        int64_t t0 = i % n, t1 = t0 + (end - i) < n ? t0 + (end - i) : n;
        float *y = job->y->channel[c];
        for (int k = 0; k < job->n_in; k++) {
            const st_audio *a = &job->in[k]->u.audio;
            const float *x = a->channel[a->n_channels == 1 ? 0 : c];
            int64_t stop = t1 < a->n_frames ? t1 : a->n_frames;
            if (k == 0) /* written, not added to: no read of fresh pages (zero page, then a copy) */
                memcpy(y + t0, x + t0, (size_t)(stop > t0 ? stop - t0 : 0) * sizeof *y);
            else if (job->subtract)
                for (int64_t t = t0; t < stop; t++)
                    y[t] -= x[t];
            else
                for (int64_t t = t0; t < stop; t++)
                    y[t] += x[t];
        }
        i += t1 - t0;
    }
}

static int mix_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p, st_value **out)
{
    int n_channels = 1;
    int64_t n_frames = 0;
    double rate = in[0]->u.audio.rate_hz;
    for (int i = 0; i < n_in; i++) {
        const st_audio *a = &in[i]->u.audio;
        if (a->rate_hz != rate)
            return st_fail(ctx,
                           "input %d is at %g Hz, input 1 at %g Hz (resample with load's rate)",
                           i + 1, a->rate_hz, rate);
        if (a->n_channels != 1 && n_channels != 1 && a->n_channels != n_channels)
            return st_fail(ctx,
                           "input %d has %d channels, another %d (only mono mixes into any count)",
                           i + 1, a->n_channels, n_channels);
        if (a->n_channels > n_channels) n_channels = a->n_channels;
        if (a->n_frames > n_frames) n_frames = a->n_frames;
    }
    st_value *v = st_audio_new(n_channels, n_frames, rate);
    if (!v) return st_fail(ctx, "out of memory");
    mix_job job = {in, n_in, st_int(p, "subtract"), &v->u.audio};
    /* both cores: a song's samples are tens of MB of fresh pages */
    st_parallel_for(ctx->n_threads, (int64_t)n_channels * n_frames, mix_range, &job);
    *out = v;
    return ST_OK;
}

/* Owned by the program: which input channel feeds each output channel. */
typedef struct {
    int n_in, n_channels;
    int subtract;
    int in_channels[256];
} mix_state;

static int mix_open(st_ctx *ctx, st_open *o, void **state)
{
    if (st_open_audio_inputs(ctx, o)) return ST_ERR;
    if (o->n_in > 256) return st_fail(ctx, "at most 256 inputs in a stream");
    mix_state *m = calloc(1, sizeof *m);
    if (!m) return st_fail(ctx, "out of memory");
    m->n_in = o->n_in;
    m->subtract = st_int(o->params, "subtract");
    for (int i = 0; i < o->n_in; i++) {
        int n = o->in[i].n_channels;
        if (n != 1 && m->n_channels > 1 && n != m->n_channels) {
            int other = m->n_channels;
            free(m);
            return st_fail(ctx, "input %d has %d channels, another %d", i + 1, n, other);
        }
        m->in_channels[i] = n;
        if (n > m->n_channels) m->n_channels = n;
    }
    o->out[0].n_channels = m->n_channels;
    *state = m;
    return ST_OK;
}

/* Real-time safe. */
static void mix_process(void *state, const st_block *const *in, st_block *out, int n)
{
    const mix_state *m = state;
    for (int c = 0; c < m->n_channels; c++) {
        float *y = out->channel[c];
        memset(y, 0, (size_t)n * sizeof *y);
        for (int i = 0; i < m->n_in; i++) {
            const float *x = in[i]->channel[m->in_channels[i] == 1 ? 0 : c];
            if (i > 0 && m->subtract)
                for (int t = 0; t < n; t++)
                    y[t] -= x[t];
            else
                for (int t = 0; t < n; t++)
                    y[t] += x[t];
        }
    }
    out->n_frames = n;
}

const st_node_type st_node_mix = {
    .name = "mix",
    .doc = "Sum audio values sample by sample (or, with subtract, the first less the others). "
           "Rates must agree; a mono input is added to every channel; shorter inputs are padded "
           "with silence. `a + b` in a patch makes one, `a - b` one with subtract.",
    .inputs = (const st_port[]){{"in", ST_AUDIO}, {NULL}},
    .outputs = (const st_port[]){{"out", ST_AUDIO}, {NULL}},
    .params = (const st_param[]){{"subtract", ST_P_BOOL, .def = 0,
                                  .doc = "subtract the inputs after the first from it: exactly "
                                         "a + (-b), to the bit"},
                                 {NULL}},
    .variadic = 1,
    .run = mix_run,
    .open = mix_open,
    .process = mix_process,
    .close = free,
    .stream_latency = "0",
    .stream_notes = "as offline",
};
