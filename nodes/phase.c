/* phase: Phase of each bin in radians, in (-pi, pi]. */
#include "../vm/node.h"
#include "spectral.h"

static float bin_phase(float complex z) { return cargf(z); }

static int phase_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p, st_value **out)
{
    (void)n_in, (void)p;
    return st_spectrum_map(ctx, in[0], bin_phase, out);
}

const st_node_type st_node_phase = {
    .name = "phase",
    .doc = "Phase of each bin in radians, in (-pi, pi]. An array with axes (channel, time, freq).",
    .inputs = (const st_port[]){{"in", ST_SPECTRUM}, {NULL}},
    .outputs = (const st_port[]){{"out", ST_ARRAY}, {NULL}},
    .params = (const st_param[]){{NULL}},
    .run = phase_run,
};
