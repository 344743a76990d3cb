/* activations: beat and downbeat activations of audio from strata's TCN. */
#include "../vm/node.h"
#include "beat_activations.h"

#include <stdlib.h>

static const st_param params[] = {
    {"model", ST_P_STRING, .def_str = "", .flags = ST_FILE_IN,
     .doc = "a beat TCN weights file (safetensors); empty: the installed beats_tcn.safetensors"},
    {NULL}};

static int activations_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p,
                           st_value **out)
{
    (void)n_in;
    float *act;
    int64_t n_frames;
    if (st_beat_activations(ctx, "model", &in[0]->u.audio, st_str(p, "model"), &act, &n_frames,
                            NULL))
        return ST_ERR;
    int64_t shape[2] = {n_frames, 2};
    const char *axes[2] = {"time", "class"};
    st_value *v = st_array_new(2, shape, axes);
    if (v) {
        for (int64_t k = 0; k < 2 * n_frames; k++)
            v->u.array.data[k] = act[k];
        *out = v;
    }
    free(act);
    return v ? ST_OK : st_fail(ctx, "out of memory");
}

const st_node_type st_node_activations = {
    .name = "activations",
    .doc = "Beat and downbeat activations of audio, 100 frames per second: an array (time x 2) "
           "of the probabilities of a beat that is not a downbeat and of a downbeat, from strata's "
           "temporal convolutional network (trained on generated music, see doc/beats.md) on a "
           "log-filtered spectrogram of the channels' average at 44.1 kHz. The beats node decodes "
           "it.",
    .inputs = (const st_port[]){{"in", ST_AUDIO}, {NULL}},
    .outputs = (const st_port[]){{"out", ST_ARRAY}, {NULL}},
    .params = params,
    .slow = 1,
    .version = 3,
    .implicit_file = st_beat_shipped_model, /* a retrained default model changes the key */
    .run = activations_run,
};
