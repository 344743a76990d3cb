/* threshold_mask: 1 where an array is above a threshold, else 0. */
#include "../vm/node.h"

static const st_param params[] = {{"threshold", ST_P_NUMBER, .def = 0.5, .min = -1e30, .max = 1e30,
                                   .doc = "the mask is 1 where the value is above this"},
                                  {NULL}};

static int threshold_mask_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p,
                              st_value **out)
{
    (void)n_in;
    const st_array *x = &in[0]->u.array;
    st_value *v = st_array_like(x);
    if (!v) return st_fail(ctx, "out of memory");
    float threshold = (float)st_num(p, "threshold");
    for (int64_t i = 0; i < x->n_elems; i++)
        v->u.array.data[i] = x->data[i] > threshold ? 1.0f : 0.0f;
    *out = v;
    return ST_OK;
}

const st_node_type st_node_threshold_mask = {
    .name = "threshold_mask",
    .doc =
        "A binary mask: 1 where the array (a soft mask, a magnitude) is above threshold, else 0.",
    .inputs = (const st_port[]){{"in", ST_ARRAY}, {NULL}},
    .outputs = (const st_port[]){{"out", ST_ARRAY}, {NULL}},
    .params = params,
    .run = threshold_mask_run,
};
