/* mono: the mean of the channels. */
#include "../vm/node.h"

#include <stdint.h>

static int mono_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p, st_value **out)
{
    (void)n_in, (void)p;
    const st_audio *a = &in[0]->u.audio;
    st_value *v = st_audio_new(1, a->n_frames, a->rate_hz);
    if (!v) return st_fail(ctx, "out of memory");
    float *y = v->u.audio.channel[0];
    for (int c = 0; c < a->n_channels; c++)
        for (int64_t t = 0; t < a->n_frames; t++)
            y[t] += a->channel[c][t];
    for (int64_t t = 0; t < a->n_frames; t++)
        y[t] /= (float)a->n_channels;
    *out = v;
    return ST_OK;
}

static int mono_open(st_ctx *ctx, st_open *o, void **state)
{
    if (st_open_audio_inputs(ctx, o)) return ST_ERR;
    *state = (void *)(intptr_t)o->out[0].n_channels; /* all the state there is */
    o->out[0].n_channels = 1;
    return ST_OK;
}

/* Real-time safe; sums in the offline order so both forms agree exactly. */
static void mono_process(void *state, const st_block *const *in, st_block *out, int n)
{
    int n_channels = (int)(intptr_t)state;
    float *y = out->channel[0];
    for (int t = 0; t < n; t++)
        y[t] = 0;
    for (int c = 0; c < n_channels; c++)
        for (int t = 0; t < n; t++)
            y[t] += in[0]->channel[c][t];
    for (int t = 0; t < n; t++)
        y[t] /= (float)n_channels;
    out->n_frames = n;
}

const st_node_type st_node_mono = {
    .name = "mono",
    .doc = "Mix all channels down to one: their mean, as librosa's to_mono.",
    .inputs = (const st_port[]){{"in", ST_AUDIO}, {NULL}},
    .outputs = (const st_port[]){{"out", ST_AUDIO}, {NULL}},
    .params = (const st_param[]){{NULL}},
    .run = mono_run,
    .open = mono_open,
    .process = mono_process,
    .stream_latency = "0",
    .stream_notes = "as offline",
};
