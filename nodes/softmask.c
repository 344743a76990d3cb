/* softmask: librosa.util.softmask of one array against another. */
#include "../vm/node.h"
#include "dsp/masks.h"

#include <math.h>

static const st_param params[] = {
    {"power", ST_P_NUMBER, .def = 2, .min = 0.01, .max = 1000,
     .doc = "exponent p of x^p / (x^p + ref^p)"},
    {"hard", ST_P_BOOL, .def = 0, .doc = "binary instead: x > ref (ties to the reference)"},
    {"split_zeros", ST_P_BOOL, .def = 0, .doc = "where both are zero the mask is 0.5 (else 0)"},
    {NULL}};

static int softmask_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p,
                        st_value **out)
{
    (void)n_in;
    const st_array *x = &in[0]->u.array, *r = &in[1]->u.array;
    if (x->n_elems != r->n_elems || x->n_axes != r->n_axes)
        return st_fail(ctx, "the arrays differ in shape (%lld and %lld elements)",
                       (long long)x->n_elems, (long long)r->n_elems);
    st_value *v = st_array_like(x);
    if (!v) return st_fail(ctx, "out of memory");
    float power = st_int(p, "hard") ? INFINITY : (float)st_num(p, "power");
    int split = st_int(p, "split_zeros");
    for (int64_t i = 0; i < x->n_elems; i++)
        v->u.array.data[i] = st_softmask(x->data[i], r->data[i], power, split);
    *out = v;
    return ST_OK;
}

const st_node_type st_node_softmask = {
    .name = "softmask",
    .doc = "A mask from two arrays as librosa.util.softmask: x^p / (x^p + ref^p), or x > ref when "
           "hard.",
    .inputs = (const st_port[]){{"in", ST_ARRAY}, {"reference", ST_ARRAY}, {NULL}},
    .outputs = (const st_port[]){{"out", ST_ARRAY}, {NULL}},
    .params = params,
    .run = softmask_run,
};
