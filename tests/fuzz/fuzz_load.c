/* Audio through libsndfile into load, and on into stft, hpss, istft and
 * save: any bytes give a value or one error, never a crash. Inputs are
 * capped at 64 kB (-max_len), so the audio stays short. */
#include "../../vm/graph.h"
#include "common.h"

#include <string.h>

static st_node *add(st_graph *g, const char *type, st_node *input, int port, const st_arg *args,
                    int n_args)
{
    st_ref ref = {input, port};
    return st_graph_add(g, st_registry_find(type), &ref, input ? 1 : 0, args, n_args, "fuzz");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file("in.wav", data, size);
    char out[300];
    snprintf(out, sizeof out, "%s/out.wav", fuzz_dir());
    st_graph *g = st_graph_new();
    st_graph_config(g)->no_cache = 1;
    st_graph_config(g)->quiet = 1;
    st_graph_config(g)->n_threads = 1;
    st_arg load_args[2] = {{.name = "path", .is_string = 1, .str = path},
                           {.name = "duration", .num = 2}};
    st_arg stft_args[1] = {{.name = "n_fft", .num = 256}};
    st_arg hpss_args[1] = {{.name = "kernel", .num = 7}};
    st_node *load = add(g, "load", NULL, -1, load_args, 2);
    st_value *v = load ? st_graph_eval(g, (st_ref){load, -1}) : NULL;
    if (v) {
        st_node *spec = add(g, "stft", load, -1, stft_args, 1);
        st_node *parts = spec ? add(g, "hpss", spec, -1, hpss_args, 1) : NULL;
        st_node *back = parts ? add(g, "istft", parts, 0, NULL, 0) : NULL;
        st_arg save_args[1] = {{.name = "path", .is_string = 1, .str = out}};
        st_node *save = back ? add(g, "save", back, -1, save_args, 1) : NULL;
        (void)save; /* a sink: it ran when made */
    }
    st_value_unref(v);
    st_graph_free(g);
    return 0;
}
