/* Benchmark of streaming NMF (issue 14): nmf_filter with 20 templates (two
 * sources of 10, learned offline from a generated song) on one channel at
 * 48 kHz in 256-frame blocks, stft -> nmf_filter -> istft, as a share of one
 * core (CPU time of the processing thread). Target < 3 %. Also the cost of
 * the stft -> istft pair alone, so the filter's own share can be read. */
#include "../../vm/stream.h"
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BLOCK 256
#define RATE  48000.0

static st_graph *g;

static st_node *add(const char *type, st_node *a, int port, st_node *b, const st_arg *args,
                    int n_args)
{
    st_ref in[3] = {{a, port}, {b, -1}};
    return bench_add_refs(type, in, a ? (b ? 2 : 1) : 0, args, n_args);
}

/* CPU seconds of the processing thread for `seconds` of noise, best of 5. */
static double run(double seconds)
{
    char error[1024];
    st_program *p = st_program_compile(g, BLOCK, RATE, error, sizeof error);
    if (!p) {
        fprintf(stderr, "bench: %s\n", error);
        exit(1);
    }
    static float noise[BLOCK], out_buf[4][BLOCK];
    uint32_t x = 1;
    for (int i = 0; i < BLOCK; i++) {
        x = x * 1664525u + 1013904223u;
        noise[i] = (float)x / 4294967296.0f - 0.5f;
    }
    const float *in[1] = {noise};
    float *out[4] = {out_buf[0], out_buf[1], out_buf[2], out_buf[3]};
    long n_blocks = (long)(seconds * RATE / BLOCK);
    for (long b = 0; b < 100; b++)
        st_program_process(p, in, out, BLOCK);
    double best = 1e9;
    for (int r = 0; r < 5; r++) {
        double t0 = bench_thread_cpu_s();
        for (long b = 0; b < n_blocks; b++)
            st_program_process(p, in, out, BLOCK);
        double t = bench_thread_cpu_s() - t0;
        if (t < best) best = t;
    }
    st_program_free(p);
    return best;
}

int main(int argc, char **argv)
{
    const char *out_dir = argc > 1 ? argv[1] : ".";
    const double seconds = 30;
    st_arg fft[] = {{.name = "n_fft", .num = 2048}, {.name = "hop", .num = 512}};
    st_arg one = {.name = "channels", .num = 1};

    g = bench_graph(1);
    add("jack_out",
        add("istft", add("stft", add("jack_in", NULL, -1, NULL, &one, 1), -1, NULL, fft, 2), -1,
            NULL, NULL, 0),
        -1, NULL, NULL, 0);
    double pair = run(seconds) / seconds * 100;
    bench_graph_done();

    g = bench_graph(1);
    st_arg song_args[] = {{.name = "bars", .num = 8}, {.name = "rate", .num = RATE}};
    st_node *song = add("testsong", NULL, -1, NULL, song_args, 2);
    st_arg nmf_args[] = {{.name = "rank", .num = 10}, {.name = "iterations", .num = 50}};
    st_node *drums =
        add("nmf",
            add("magnitude", add("stft", add("mono", song, 1, NULL, NULL, 0), -1, NULL, fft, 2), -1,
                NULL, NULL, 0),
            -1, NULL, nmf_args, 2);
    st_node *bass =
        add("nmf",
            add("magnitude", add("stft", add("mono", song, 2, NULL, NULL, 0), -1, NULL, fft, 2), -1,
                NULL, NULL, 0),
            -1, NULL, nmf_args, 2);
    st_node *spec = add("stft", add("jack_in", NULL, -1, NULL, &one, 1), -1, NULL, fft, 2);
    st_ref in3[3] = {{spec, -1}, {drums, -1}, {bass, -1}};
    st_node *parts = st_graph_add(g, st_registry_find("nmf_filter"), in3, 3, NULL, 0, "bench");
    if (!parts) {
        fprintf(stderr, "bench: %s\n", st_graph_error(g));
        return 1;
    }
    for (int port = 0; port < 2; port++)
        add("jack_out", add("istft", parts, port, NULL, NULL, 0), -1, NULL, NULL, 0);
    double filter = run(seconds) / seconds * 100;
    bench_graph_done();

    printf("%-60s %10s %8s\n", "streaming NMF, 48 kHz, 256-frame blocks, 1 channel", "one core",
           "target");
    printf("%-60s %8.3f %% %8s\n", "stft -> nmf_filter (20 templates, 10 updates) -> 2 istfts",
           filter, "< 3 %");
    printf("%-60s %8.3f %%\n", "  of which stft -> istft alone", pair);
    char path[4096];
    snprintf(path, sizeof path, "%s/bench_nmf_stream.json", out_dir);
    FILE *f = fopen(path, "w");
    if (f) {
        fprintf(f, "{\"nmf_filter_20_core_percent\": %.4f, \"stft_istft_core_percent\": %.4f}\n",
                filter, pair);
        fclose(f);
    }
    return 0;
}
