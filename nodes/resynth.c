/* resynth: masks applied to a mixture spectrum, each inverted with the mixture's phase. */
#include "../vm/node.h"
#include "spectral.h"
#include "dsp/stft.h"

static const st_param params[] = {
    {"shared", ST_P_BOOL, .def = 0,
     .doc = "use each mask's first channel (computed from the mono mix) for every channel"},
    {NULL}};

static int resynth_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p,
                       st_value **out)
{
    (void)n_in;
    const st_spectrum *s = &in[0]->u.spectrum;
    const st_value *masks = in[1];
    /* a list of masks, or one array (a stack gives one output per mask) */
    int n_masks = masks->type == ST_RECORD     ? masks->u.record.n_fields
                  : masks->u.array.n_axes == 4 ? (int)masks->u.array.shape[0]
                                               : 1;
    if (n_masks < 1 || n_masks > 256) return st_fail(ctx, "%d masks: 1 to 256", n_masks);
    st_value *audio[256] = {0};
    int status = ST_OK;
    for (int i = 0; status == ST_OK && i < n_masks; i++) {
        const st_value *m = masks->type == ST_RECORD ? masks->u.record.field[i] : masks;
        if (m->type != ST_ARRAY) {
            status = st_fail(ctx, "mask %d is a %s, not an array", i + 1, st_type_name(m->type));
            break;
        }
        int mask_channels;
        const float *mask =
            st_mask_for(ctx, &m->u.array, masks->type == ST_RECORD ? 0 : i, s, &mask_channels);
        if (!mask) {
            status = ST_ERR;
            break;
        }
        /* the mask is applied frame by frame inside the inverse: no masked
         * spectrum is made (a 180 s stereo one is 250 MB of fresh pages) */
        if (!(audio[i] = st_audio_new(s->n_channels, s->length_samples, s->rate_hz)) ||
            st_istft_masked(s, mask, st_int(p, "shared") || mask_channels == 1, &audio[i]->u.audio,
                            ctx->n_threads))
            status = st_fail(ctx, "out of memory");
        st_progress(ctx, (double)(i + 1) / n_masks);
    }
    if (status == ST_OK && !(*out = st_record_new(n_masks, NULL, audio)))
        status = st_fail(ctx, "out of memory");
    for (int i = 0; i < n_masks; i++)
        st_value_unref(audio[i]);
    return status;
}

const st_node_type st_node_resynth = {
    .name = "resynth",
    .doc = "Apply each mask to the mixture spectrum and invert it with the mixture's phase: a "
           "list of audio, one per mask (a list of masks, or a stack such as hpss's masks). "
           "Masks have the spectrum's channels or one channel shared by all.",
    .inputs = (const st_port[]){{"mixture", ST_SPECTRUM}, {"masks", ST_ANY}, {NULL}},
    .outputs = (const st_port[]){{"out", ST_RECORD}, {NULL}},
    .params = params,
    .run = resynth_run,
};
