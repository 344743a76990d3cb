/* power: Power of each bin: |X|^2. */
#include "../vm/node.h"
#include "spectral.h"

static float bin_power(float complex z) { return crealf(z) * crealf(z) + cimagf(z) * cimagf(z); }

static int power_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p, st_value **out)
{
    (void)n_in, (void)p;
    return st_spectrum_map(ctx, in[0], bin_power, out);
}

const st_node_type st_node_power = {
    .name = "power",
    .doc = "Power of each bin: |X|^2. An array with axes (channel, time, freq).",
    .inputs = (const st_port[]){{"in", ST_SPECTRUM}, {NULL}},
    .outputs = (const st_port[]){{"out", ST_ARRAY}, {NULL}},
    .params = (const st_param[]){{NULL}},
    .run = power_run,
};
