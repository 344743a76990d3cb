/* Beat files: load_beats, then beat_metrics with the file as the reference
 * and as the estimate against a fixed list; any bytes give scores or one
 * error. */
#include "../../vm/graph.h"
#include "common.h"

static st_node *add(st_graph *g, const char *type, const st_ref *in, int n_in, const st_arg *args,
                    int n_args)
{
    return st_graph_add(g, st_registry_find(type), in, n_in, args, n_args, "fuzz");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char fixed[] = "0.5 1\n1.0 2\n1.5 3\n2.0 4\n2.5 1\n3.0 2\n3.5 3\n";
    const char *fixed_path = fuzz_file("fixed.txt", (const uint8_t *)fixed, sizeof fixed - 1);
    char fixed_copy[256];
    snprintf(fixed_copy, sizeof fixed_copy, "%s", fixed_path);
    const char *path = fuzz_file("beats.txt", data, size);
    st_graph *g = st_graph_new();
    st_graph_config(g)->no_cache = 1;
    st_graph_config(g)->quiet = 1;
    st_arg a1 = {.name = "path", .is_string = 1, .str = path};
    st_arg a2 = {.name = "path", .is_string = 1, .str = fixed_copy};
    st_node *mine = add(g, "load_beats", NULL, 0, &a1, 1);
    st_node *ref = add(g, "load_beats", NULL, 0, &a2, 1);
    st_value *v = mine ? st_graph_eval(g, (st_ref){mine, -1}) : NULL;
    if (v && ref) {
        for (int trim = 0; trim < 2; trim++) {
            st_arg t = {.name = "trim", .num = trim};
            st_ref as_ref[2] = {{mine, -1}, {ref, -1}}, as_est[2] = {{ref, -1}, {mine, -1}};
            st_node *m1 = add(g, "beat_metrics", as_ref, 2, &t, 1);
            st_node *m2 = add(g, "beat_metrics", as_est, 2, &t, 1);
            st_value_unref(m1 ? st_graph_eval(g, (st_ref){m1, -1}) : NULL);
            st_value_unref(m2 ? st_graph_eval(g, (st_ref){m2, -1}) : NULL);
        }
    }
    st_value_unref(v);
    st_graph_free(g);
    return 0;
}
