/* info: print what a value is, and pass it on. */
#include "../vm/node.h"

#include <stdio.h>

static const st_param params[] = {
    {"label", ST_P_STRING, .def_str = "", .doc = "printed before the description"}, {NULL}};

static int info_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p, st_value **out)
{
    (void)n_in;
    char line[512];
    st_value_describe(in[0], line, sizeof line);
    const char *label = st_str(p, "label");
    if (!ctx->quiet) printf("%s%s%s\n", label, label[0] ? ": " : "", line);
    *out = st_value_ref(in[0]);
    return ST_OK;
}

const st_node_type st_node_info = {
    .name = "info",
    .doc = "Print one line on standard output describing a value (type, shape, rate, duration) "
           "and pass the value through: `h:info()` prints when its patch line runs and returns a "
           "handle to the same value, so it can sit inside a chain "
           "(`x:stft():info():istft()`). Silent under --quiet.",
    .inputs = (const st_port[]){{"in", ST_ANY}, {NULL}},
    .outputs = (const st_port[]){{"out", ST_SAME}, {NULL}},
    .params = params,
    .sink = 1,
    .run = info_run,
};
