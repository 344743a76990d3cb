/* gain: scale audio. */
#include "../vm/node.h"

#include <math.h>

static const st_param params[] = {
    {"db", ST_P_NUMBER, .def = 0, .min = -120, .max = 48, .doc = "gain in decibels"},
    {"factor", ST_P_NUMBER, .def = 1, .min = -1e6, .max = 1e6,
     .doc = "a linear factor applied as well (negative inverts)"},
    {NULL}};

static int gain_run(st_run *run, st_value *const *in, int n_in, const st_params *p, st_value **out)
{
    (void)n_in;
    const st_audio *a = &in[0]->u.audio;
    float scale = (float)(st_num(p, "factor") * pow(10.0, st_num(p, "db") / 20.0));
    st_value *v = st_audio_new(a->n_channels, a->n_frames, a->rate_hz);
    if (!v) return st_fail(run, "out of memory");
    for (int c = 0; c < a->n_channels; c++)
        for (int64_t t = 0; t < a->n_frames; t++)
            v->u.audio.channel[c][t] = a->channel[c][t] * scale;
    *out = v;
    return ST_OK;
}

const st_node_type st_node_gain = {
    .name = "gain",
    .doc =
        "Scale audio by a gain in decibels times a linear factor. `a * 0.5` in a patch makes one.",
    .inputs = (const st_port[]){{"in", ST_AUDIO}, {NULL}},
    .outputs = (const st_port[]){{"out", ST_AUDIO}, {NULL}},
    .params = params,
    .run = gain_run,
};
