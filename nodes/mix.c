/* mix: the sum of several audio values. */
#include "../vm/node.h"

static int mix_run(st_run *run, st_value *const *in, int n_in, const st_params *p, st_value **out)
{
    (void)p;
    int n_channels = 1;
    int64_t n_frames = 0;
    double rate = in[0]->u.audio.rate_hz;
    for (int i = 0; i < n_in; i++) {
        const st_audio *a = &in[i]->u.audio;
        if (a->rate_hz != rate)
            return st_fail(run,
                           "input %d is at %g Hz, input 1 at %g Hz (resample with load's rate)",
                           i + 1, a->rate_hz, rate);
        if (a->n_channels != 1 && n_channels != 1 && a->n_channels != n_channels)
            return st_fail(run,
                           "input %d has %d channels, another %d (only mono mixes into any count)",
                           i + 1, a->n_channels, n_channels);
        if (a->n_channels > n_channels) n_channels = a->n_channels;
        if (a->n_frames > n_frames) n_frames = a->n_frames;
    }
    st_value *v = st_audio_new(n_channels, n_frames, rate);
    if (!v) return st_fail(run, "out of memory");
    for (int i = 0; i < n_in; i++) {
        const st_audio *a = &in[i]->u.audio;
        for (int c = 0; c < n_channels; c++) {
            const float *x = a->channel[a->n_channels == 1 ? 0 : c];
            float *y = v->u.audio.channel[c];
            for (int64_t t = 0; t < a->n_frames; t++)
                y[t] += x[t];
        }
    }
    *out = v;
    return ST_OK;
}

const st_node_type st_node_mix = {
    .name = "mix",
    .doc = "Sum audio values sample by sample. Rates must agree; a mono input is added to every "
           "channel; shorter inputs are padded with silence. `a + b` in a patch makes one.",
    .inputs = (const st_port[]){{"in", ST_AUDIO}, {NULL}},
    .outputs = (const st_port[]){{"out", ST_AUDIO}, {NULL}},
    .params = (const st_param[]){{NULL}},
    .variadic = 1,
    .run = mix_run,
};
