/* item: one value of a list (or record) by position. */
#include "../vm/node.h"

static const st_param params[] = {
    {"index", ST_P_INT, .def = 1, .min = 1, .max = 1e9, .doc = "position, from 1 (as Lua counts)"},
    {NULL}};

static int item_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p, st_value **out)
{
    (void)n_in;
    const st_record *r = &in[0]->u.record;
    int i = st_int(p, "index");
    if (i > r->n_fields) return st_fail(ctx, "index %d: the list holds %d values", i, r->n_fields);
    *out = st_value_ref(r->field[i - 1]);
    return ST_OK;
}

const st_node_type st_node_item = {
    .name = "item",
    .doc = "One value of a list by position (from 1). In a patch, `list[i]` makes one.",
    .inputs = (const st_port[]){{"in", ST_RECORD}, {NULL}},
    .outputs = (const st_port[]){{"out", ST_ANY}, {NULL}},
    .params = params,
    .run = item_run,
};
