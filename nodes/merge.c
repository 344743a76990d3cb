/* merge: the channels of several audio values side by side. */
#include "../vm/node.h"

#include <string.h>

static int merge_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p, st_value **out)
{
    (void)p;
    int n_channels = 0;
    const st_audio *first = &in[0]->u.audio;
    for (int i = 0; i < n_in; i++) {
        const st_audio *a = &in[i]->u.audio;
        if (a->rate_hz != first->rate_hz || a->n_frames != first->n_frames)
            return st_fail(
                ctx, "input %d (%lld samples at %g Hz) differs from input 1 (%lld at %g Hz)", i + 1,
                (long long)a->n_frames, a->rate_hz, (long long)first->n_frames, first->rate_hz);
        n_channels += a->n_channels;
    }
    st_value *v = st_audio_new(n_channels, first->n_frames, first->rate_hz);
    if (!v) return st_fail(ctx, "out of memory");
    for (int i = 0, c = 0; i < n_in; i++)
        for (int k = 0; k < in[i]->u.audio.n_channels; k++, c++)
            memcpy(v->u.audio.channel[c], in[i]->u.audio.channel[k],
                   (size_t)first->n_frames * sizeof(float));
    *out = v;
    return ST_OK;
}

const st_node_type st_node_merge = {
    .name = "merge",
    .doc = "Put the channels of several audio values (same rate and length) side by side: "
           "`strata.merge { left, right }` makes a stereo pair.",
    .inputs = (const st_port[]){{"in", ST_AUDIO}, {NULL}},
    .outputs = (const st_port[]){{"out", ST_AUDIO}, {NULL}},
    .params = (const st_param[]){{NULL}},
    .variadic = 1,
    .run = merge_run,
};
