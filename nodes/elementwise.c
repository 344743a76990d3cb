/* magnitude, power, phase: the element-wise family, one real value per
 * complex bin. Each is one line below; st_spectrum_map (spectral.c) does
 * the work on both cores. */
#include "../vm/node.h"
#include "spectral.h"

static const st_port spectrum_in[] = {{"in", ST_SPECTRUM}, {NULL}};
static const st_port array_out[] = {{"out", ST_ARRAY}, {NULL}};
static const st_param no_params[] = {{NULL}};

#define ELEMENTWISE(NAME, DOC, EXPR)                                                               \
    static float bin_##NAME(float complex z) { return EXPR; }                                      \
    static int NAME##_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p,          \
                          st_value **out)                                                          \
    {                                                                                              \
        (void)n_in, (void)p;                                                                       \
        return st_spectrum_map(ctx, in[0], bin_##NAME, out);                                       \
    }                                                                                              \
    const st_node_type st_node_##NAME = {                                                          \
        .name = #NAME,                                                                             \
        .doc = DOC " An array with axes (channel, time, freq).",                                   \
        .inputs = spectrum_in,                                                                     \
        .outputs = array_out,                                                                      \
        .params = no_params,                                                                       \
        .run = NAME##_run,                                                                         \
    };

ELEMENTWISE(magnitude, "Magnitude of each bin: |X|.", cabsf(z))
ELEMENTWISE(power, "Power of each bin: |X|^2.", crealf(z) * crealf(z) + cimagf(z) * cimagf(z))
ELEMENTWISE(phase, "Phase of each bin in radians, in (-pi, pi].", cargf(z))
