/* midside: a stereo pair as its middle and its sides. */
#include "../vm/node.h"

extern const st_node_type st_node_midside;

static int midside_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p,
                       st_value **out)
{
    (void)n_in, (void)p;
    const st_audio *a = &in[0]->u.audio;
    if (a->n_channels != 2) return st_fail(ctx, "needs 2 channels, got %d", a->n_channels);
    st_value *mid = st_audio_new(1, a->n_frames, a->rate_hz);
    st_value *side = st_audio_new(1, a->n_frames, a->rate_hz);
    st_value *record = NULL;
    if (mid && side) {
        for (int64_t t = 0; t < a->n_frames; t++) {
            mid->u.audio.channel[0][t] = 0.5f * (a->channel[0][t] + a->channel[1][t]);
            side->u.audio.channel[0][t] = 0.5f * (a->channel[0][t] - a->channel[1][t]);
        }
        st_value *fields[] = {mid, side};
        record = st_record_of_outputs(&st_node_midside, fields);
    }
    st_value_unref(mid);
    st_value_unref(side);
    if (!record) return st_fail(ctx, "out of memory");
    *out = record;
    return ST_OK;
}

const st_node_type st_node_midside = {
    .name = "midside",
    .doc = "Split stereo audio into mid = (left + right) / 2 and side = (left - right) / 2; "
           "left = mid + side and right = mid - side.",
    .inputs = (const st_port[]){{"in", ST_AUDIO}, {NULL}},
    .outputs = (const st_port[]){{"mid", ST_AUDIO}, {"side", ST_AUDIO}, {NULL}},
    .params = (const st_param[]){{NULL}},
    .run = midside_run,
};
