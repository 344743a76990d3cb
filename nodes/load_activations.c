/* load_activations: beat and downbeat activations from a text file. */
#include "../vm/node.h"
#include "activations_file.h"

#include <stdlib.h>

static const st_param params[] = {
    {"path", ST_P_STRING, .flags = ST_FILE_IN,
     .doc = "one row per frame: beat (not downbeat) and downbeat activation in [0, 1]; "
            "# starts a comment (madmom's RNNDownBeatProcessor output as np.savetxt writes it)"},
    {NULL}};

static int load_activations_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p,
                                st_value **out)
{
    (void)in, (void)n_in;
    double *act;
    int64_t n_frames;
    if (st_activations_read(ctx, "path", st_str(p, "path"), &act, &n_frames) != ST_OK)
        return ST_ERR;
    int64_t shape[2] = {n_frames, 2};
    const char *axes[2] = {"time", "class"};
    st_value *v = st_array_new(2, shape, axes);
    if (!v) {
        free(act);
        return st_fail(ctx, "out of memory");
    }
    for (int64_t k = 0; k < 2 * n_frames; k++)
        v->u.array.data[k] = (float)act[k];
    free(act);
    *out = v;
    return ST_OK;
}

const st_node_type st_node_load_activations = {
    .name = "load_activations",
    .doc = "Read beat and downbeat activations from a text file: an array (time x 2) for the "
           "beats node. The values become float32; give the file to beats' `activations` "
           "parameter to decode it at full precision.",
    .inputs = (const st_port[]){{NULL}},
    .outputs = (const st_port[]){{"out", ST_ARRAY}, {NULL}},
    .params = params,
    .run = load_activations_run,
};
