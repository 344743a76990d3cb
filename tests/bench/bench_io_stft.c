/* Benchmarks of the runtime's first issue: STFT + ISTFT of 180 s of 44.1 kHz
 * stereo (n_fft 2048, hop 512, hann, centred) and loading a 180 s stereo
 * FLAC. Prints a table and writes OUT_DIR/bench_io_stft.json.
 * Reference: librosa 0.11 takes 0.81 s for the STFT + ISTFT on a 2-core
 * machine of this kind (issue #2). */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define REPEATS 5

/* Best of REPEATS: each repeat uses a fresh graph so nothing is memoized. */
static double time_stft_istft(void)
{
    double best = 1e9;
    st_arg sig[] = {{.name = "kind", .is_string = 1, .str = "noise"},
                    {.name = "seconds", .num = 180},
                    {.name = "channels", .num = 2}};
    st_arg stft_args[] = {{.name = "n_fft", .num = 2048}, {.name = "hop", .num = 512}};
    for (int r = 0; r < REPEATS; r++) {
        bench_graph(1);
        st_node *x = bench_add("signal", NULL, -1, sig, 3);
        st_value_unref(bench_eval(x));
        st_node *s = bench_add("stft", x, -1, stft_args, 2);
        st_node *y = bench_add("istft", s, -1, NULL, 0);
        double t0 = bench_now_s();
        st_value_unref(bench_eval(y));
        double t = bench_now_s() - t0;
        if (t < best) best = t;
        bench_graph_done();
    }
    return best;
}

static double time_flac_load(const char *path)
{
    bench_graph(1);
    st_arg sig[] = {{.name = "kind", .is_string = 1, .str = "chirp"},
                    {.name = "seconds", .num = 180},
                    {.name = "channels", .num = 2}};
    st_arg save_args[] = {{.name = "path", .is_string = 1, .str = path}};
    st_node *x = bench_add("signal", NULL, -1, sig, 3);
    st_value_unref(bench_eval(bench_add("save", x, -1, save_args, 1)));
    bench_graph_done();
    double best = 1e9;
    st_arg load_args[] = {{.name = "path", .is_string = 1, .str = path}};
    for (int r = 0; r < REPEATS; r++) {
        bench_graph(1);
        st_node *l = bench_add("load", NULL, -1, load_args, 1);
        double t0 = bench_now_s();
        st_value_unref(bench_eval(l));
        double t = bench_now_s() - t0;
        if (t < best) best = t;
        bench_graph_done();
    }
    return best;
}

int main(int argc, char **argv)
{
    const char *out_dir = argc > 1 ? argv[1] : ".";
    char flac[4096], json[4096];
    snprintf(flac, sizeof flac, "%s/bench-180s.flac", out_dir);
    snprintf(json, sizeof json, "%s/bench_io_stft.json", out_dir);

    double stft_s = time_stft_istft();
    double stft_mb = bench_peak_mb();
    double load_s = time_flac_load(flac);
    double total_mb = bench_peak_mb();
    unlink(flac);

    printf("%-44s %10s %12s %14s\n", "benchmark (best of 5)", "wall s", "peak MB", "target");
    printf("%-44s %10.3f %12.0f %14s\n", "stft+istft 180 s stereo 44.1k 2048/512", stft_s, stft_mb,
           "< 0.2 s");
    printf("%-44s %10.3f %12.0f %14s\n", "load 180 s stereo FLAC (PCM_24)", load_s, total_mb,
           "< 0.3 s");
    printf("librosa 0.11 stft+istft reference 0.81 s: ratio %.1fx\n", 0.81 / stft_s);
    FILE *f = fopen(json, "w");
    if (f) {
        fprintf(
            f,
            "{\"threads\": %d, \"stft_istft_180s_stereo_s\": %.4f, \"stft_istft_peak_mb\": %.0f, "
            "\"load_flac_180s_stereo_s\": %.4f, \"peak_mb\": %.0f}\n",
            2, stft_s, stft_mb, load_s, total_mb);
        fclose(f);
    }
    return 0;
}
