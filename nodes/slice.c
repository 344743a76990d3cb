/* slice: a stretch of audio in time. */
#include "../vm/node.h"

#include <math.h>
#include <string.h>

static const st_param params[] = {
    {"start", ST_P_NUMBER, .def = 0, .min = 0, .max = 1e6, .doc = "seconds from the beginning"},
    {"duration", ST_P_NUMBER, .def = 0, .min = 0, .max = 1e6,
     .doc = "seconds to keep; 0 keeps the rest"},
    {NULL}};

static int slice_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p, st_value **out)
{
    (void)n_in;
    const st_audio *a = &in[0]->u.audio;
    int64_t first = (int64_t)llround(st_num(p, "start") * a->rate_hz);
    if (first >= a->n_frames)
        return st_fail(ctx, "start = %g s is past the end of the audio (%.3f s)",
                       st_num(p, "start"), (double)a->n_frames / a->rate_hz);
    int64_t n = a->n_frames - first;
    if (st_num(p, "duration") > 0) {
        int64_t want = (int64_t)llround(st_num(p, "duration") * a->rate_hz);
        if (want < n) n = want;
    }
    if (n < 1) return st_fail(ctx, "duration = %g s holds no sample", st_num(p, "duration"));
    st_value *v = st_audio_new(a->n_channels, n, a->rate_hz);
    if (!v) return st_fail(ctx, "out of memory");
    for (int c = 0; c < a->n_channels; c++)
        memcpy(v->u.audio.channel[c], a->channel[c] + first, (size_t)n * sizeof(float));
    *out = v;
    return ST_OK;
}

const st_node_type st_node_slice = {
    .name = "slice",
    .doc = "Cut a stretch out of audio: from start, for duration seconds.",
    .inputs = (const st_port[]){{"in", ST_AUDIO}, {NULL}},
    .outputs = (const st_port[]){{"out", ST_AUDIO}, {NULL}},
    .params = params,
    .run = slice_run,
};
