/* magnitude: Magnitude of each bin: |X|. */
#include "../vm/node.h"
#include "spectral.h"

static float bin_magnitude(float complex z) { return cabsf(z); }

static int magnitude_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p,
                         st_value **out)
{
    (void)n_in, (void)p;
    return st_spectrum_map(ctx, in[0], bin_magnitude, out);
}

const st_node_type st_node_magnitude = {
    .name = "magnitude",
    .doc = "Magnitude of each bin: |X|. An array with axes (channel, time, freq).",
    .inputs = (const st_port[]){{"in", ST_SPECTRUM}, {NULL}},
    .outputs = (const st_port[]){{"out", ST_ARRAY}, {NULL}},
    .params = (const st_param[]){{NULL}},
    .run = magnitude_run,
};
