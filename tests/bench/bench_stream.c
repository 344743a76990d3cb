/* Benchmarks of the stream engine (issue #3): the per-block cost of a chain of
 * 10 gain/mix steps on stereo 128-frame blocks, and a streaming STFT -> ISTFT
 * (n_fft 2048, hop 512) at 48 kHz with 128-frame blocks as a share of one
 * core. Prints a table and writes OUT_DIR/bench_stream.json. */
#include "../../vm/stream.h"
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BLOCK 128
#define RATE  48000.0

static st_graph *g;

static st_node *add(const char *type, st_node *a, st_node *b, const st_arg *args, int n_args)
{
    st_ref in[2] = {{a, -1}, {b, -1}};
    return bench_add_refs(type, in, a ? (b ? 2 : 1) : 0, args, n_args);
}

/* CPU seconds to process seconds_of_audio through the graph's program. */
static double run(double seconds_of_audio)
{
    char error[1024];
    st_program *p = st_program_compile(g, BLOCK, RATE, error, sizeof error);
    if (!p) {
        fprintf(stderr, "bench: %s\n", error);
        exit(1);
    }
    float buffers[8][BLOCK] = {{0}};
    const float *in[4] = {buffers[0], buffers[1], buffers[2], buffers[3]};
    float *out[4] = {buffers[4], buffers[5], buffers[6], buffers[7]};
    long n_blocks = (long)(seconds_of_audio * RATE / BLOCK);
    for (long b = 0; b < 100; b++)
        st_program_process(p, in, out, BLOCK); /* warm */
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
    /* 10 steps: 5 gains and 5 mixes, stereo, from jack_in to jack_out */
    g = bench_graph(1);
    st_node *x = add("jack_in", NULL, NULL, NULL, 0);
    st_arg half = {.name = "factor", .num = 0.5};
    for (int i = 0; i < 5; i++) {
        st_node *y = add("gain", x, NULL, &half, 1);
        x = add("mix", y, x, NULL, 0);
    }
    add("jack_out", x, NULL, NULL, 0);
    double seconds = 60;
    double chain_s = run(seconds);
    double blocks = seconds * RATE / BLOCK;
    double us_per_step = chain_s / blocks / 10 * 1e6;
    bench_graph_done();

    g = bench_graph(1);
    st_arg fft[] = {{.name = "n_fft", .num = 2048}, {.name = "hop", .num = 512}};
    st_node *in = add("jack_in", NULL, NULL, NULL, 0);
    add("jack_out", add("istft", add("stft", in, NULL, fft, 2), NULL, NULL, 0), NULL, NULL, 0);
    double stft_s = run(seconds);
    double stft_share = stft_s / seconds * 100;
    bench_graph_done();

    /* streaming HPSS, one channel: stft -> hpss -> two istfts */
    g = bench_graph(1);
    st_arg one = {.name = "channels", .num = 1};
    st_node *mono_in = add("jack_in", NULL, NULL, &one, 1);
    st_node *parts = add("hpss", add("stft", mono_in, NULL, fft, 2), NULL, NULL, 0);
    for (int port = 0; port < 2; port++) {
        st_ref r = {parts, port};
        st_node *back = st_graph_add(g, st_registry_find("istft"), &r, 1, NULL, 0, "bench");
        add("jack_out", back, NULL, NULL, 0);
    }
    double hpss_share = run(seconds) / seconds * 100;
    bench_graph_done();

    printf("%-52s %12s %12s\n", "stream benchmark (best of 5, 60 s of audio)", "measured",
           "target");
    printf("%-52s %9.3f us %12s\n", "10 gain/mix steps, stereo, 128-frame blocks: per step",
           us_per_step, "< 2 us");
    printf("%-52s %10.3f %% %12s\n", "stft -> istft stereo 2048/512, 48 kHz, 128: one core",
           stft_share, "< 1 %");
    printf("%-52s %10.3f %% %12s\n", "hpss (stft, hpss, 2 istfts), 1 channel: one core", hpss_share,
           "< 3 %");
    char path[4096];
    snprintf(path, sizeof path, "%s/bench_stream.json", out_dir);
    FILE *f = fopen(path, "w");
    if (f) {
        fprintf(f,
                "{\"chain_us_per_step_per_block\": %.4f, \"stft_istft_core_percent\": %.4f, "
                "\"hpss_core_percent_per_channel\": %.4f}\n",
                us_per_step, stft_share, hpss_share);
        fclose(f);
    }
    return 0;
}
