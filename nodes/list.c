/* list: several values as one ordered list (a record without names). */
#include "../vm/node.h"

static int list_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p, st_value **out)
{
    (void)p;
    *out = st_record_new(n_in, NULL, in);
    return *out ? ST_OK : st_fail(ctx, "out of memory");
}

const st_node_type st_node_list = {
    .name = "list",
    .doc = "Gather values into an ordered list, for nodes that take a list (bsseval's "
           "references and estimates). `strata.list { a, b, c }`.",
    .inputs = (const st_port[]){{"in", ST_ANY}, {NULL}},
    .outputs = (const st_port[]){{"out", ST_RECORD}, {NULL}},
    .params = (const st_param[]){{NULL}},
    .variadic = 1,
    .run = list_run,
};
