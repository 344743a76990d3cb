/* apply_mask: a spectrum times a real mask. */
#include "../vm/node.h"
#include "spectral.h"

static const st_param params[] = {
    {"index", ST_P_INT, .def = 0, .min = 0, .max = 4096,
     .doc = "which mask of a stack (hpss's masks: 0 harmonic, 1 percussive, 2 residual)"},
    {NULL}};

static int apply_mask_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p,
                          st_value **out)
{
    (void)n_in;
    const st_spectrum *s = &in[0]->u.spectrum;
    int mask_channels;
    const float *mask = st_mask_for(ctx, &in[1]->u.array, st_int(p, "index"), s, &mask_channels);
    if (!mask) return ST_ERR;
    st_value *v = st_spectrum_like(s);
    if (!v) return st_fail(ctx, "out of memory");
    st_mask_apply(s, mask, mask_channels == 1, &v->u.spectrum);
    *out = v;
    return ST_OK;
}

const st_node_type st_node_apply_mask = {
    .name = "apply_mask",
    .doc = "Multiply a spectrum by a real mask, bin by bin: (channel, time, freq) with the "
           "spectrum's channels or one channel shared by all, or one mask of a stack "
           "(mask, channel, time, freq) such as hpss's masks.",
    .inputs = (const st_port[]){{"in", ST_SPECTRUM}, {"mask", ST_ARRAY}, {NULL}},
    .outputs = (const st_port[]){{"out", ST_SPECTRUM}, {NULL}},
    .params = params,
    .run = apply_mask_run,
};
