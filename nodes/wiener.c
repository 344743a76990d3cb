/* wiener: masks across N source estimates that sum to one in every bin. */
#include "../vm/node.h"

#include <float.h>
#include <math.h>

static const st_param params[] = {
    {"power", ST_P_NUMBER, .def = 2, .min = 0.01, .max = 1000,
     .doc = "m_i = X_i^p / sum_j X_j^p (2: Wiener's power spectra)"},
    {"binary", ST_P_BOOL, .def = 0,
     .doc = "1 for the largest estimate in each bin (the first on ties), 0 elsewhere"},
    {NULL}};

static int wiener_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p,
                      st_value **out)
{
    const st_array *first = &in[0]->u.array;
    for (int i = 1; i < n_in; i++)
        if (in[i]->u.array.n_elems != first->n_elems)
            return st_fail(ctx, "estimate %d has %lld elements, estimate 1 %lld", i + 1,
                           (long long)in[i]->u.array.n_elems, (long long)first->n_elems);
    st_value *masks[256];
    if (n_in > 256) return st_fail(ctx, "at most 256 estimates");
    int status = ST_OK;
    for (int i = 0; i < n_in; i++)
        if (!(masks[i] = st_array_like(first))) status = st_fail(ctx, "out of memory");
    float power = (float)st_num(p, "power");
    int binary = st_int(p, "binary");
    for (int64_t k = 0; status == ST_OK && k < first->n_elems; k++) {
        if (binary) {
            int best = 0;
            for (int i = 1; i < n_in; i++)
                if (in[i]->u.array.data[k] > in[best]->u.array.data[k]) best = i;
            for (int i = 0; i < n_in; i++)
                masks[i]->u.array.data[k] = i == best;
            continue;
        }
        float total = 0;
        for (int i = 0; i < n_in; i++)
            total += powf(in[i]->u.array.data[k], power);
        for (int i = 0; i < n_in; i++)
            masks[i]->u.array.data[k] =
                total < FLT_MIN ? 1.0f / n_in : powf(in[i]->u.array.data[k], power) / total;
    }
    if (status == ST_OK && !(*out = st_record_new(n_in, NULL, masks)))
        status = st_fail(ctx, "out of memory");
    for (int i = 0; i < n_in; i++)
        st_value_unref(masks[i]);
    return status;
}

const st_node_type st_node_wiener = {
    .name = "wiener",
    .doc = "Masks for N source estimates (magnitude arrays) that sum to one in every bin: "
           "X_i^p / sum X_j^p (1/N where all are zero), or binary (argmax). A list, in the "
           "estimates' order.",
    .inputs = (const st_port[]){{"in", ST_ARRAY}, {NULL}},
    .outputs = (const st_port[]){{"out", ST_RECORD}, {NULL}},
    .params = params,
    .variadic = 1,
    .run = wiener_run,
};
