/* Benchmark of robust PCA (issue 14): nussl's settings on the magnitude
 * spectrogram of 60 s of 44.1 kHz mono (n_fft 2048, hop 512: 1025 x 5168),
 * one run (it is long): wall and CPU time, iterations, time per iteration,
 * the rank reached. */
#include "../../nodes/dsp/rpca.h"
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

int main(int argc, char **argv)
{
    const char *out_dir = argc > 1 ? argv[1] : ".";
    bench_graph(1);
    st_arg song_args[] = {{.name = "bars", .num = 30}, {.name = "tempo", .num = 120}}; /* 60 s */
    st_node *mix = bench_add("mono", bench_add("testsong", NULL, -1, song_args, 2), 0, NULL, 0);
    st_arg fft[] = {{.name = "n_fft", .num = 2048}, {.name = "hop", .num = 512}};
    st_node *mag = bench_add("magnitude", bench_add("stft", mix, -1, fft, 2), -1, NULL, 0);
    st_value *v = bench_eval(mag);
    const st_array *a = &v->u.array;
    const int F = (int)a->shape[2];
    const int64_t T = a->shape[1];
    float *l = malloc(sizeof(float) * (size_t)F * T), *s = malloc(sizeof(float) * (size_t)F * T);
    st_rpca_options o = {.max_iter = 100, .tol = 1e-7, .n_threads = 2};
    st_rpca_result r;
    double t0 = bench_now_s(), c0 = bench_cpu_s();
    if (st_rpca(a->data, F, T, l, s, &o, &r)) {
        fprintf(stderr, "bench: rpca failed\n");
        return 1;
    }
    double wall = bench_now_s() - t0, cpu = bench_cpu_s() - c0;
    printf("RPCA (inexact ALM, nussl's settings), %d x %lld (60 s of 44.1 kHz mono)\n", F,
           (long long)T);
    printf("%-28s %9s %9s %11s %10s %10s\n", "", "wall s", "CPU s", "iterations", "ms/iter",
           "rank");
    printf("%-28s %9.2f %9.2f %11d %10.1f %10d\n", "rpca", wall, cpu, r.n_iter,
           1e3 * wall / r.n_iter, r.rank);
    printf("residual %.2e; peak memory %.0f MB (whole process)\n", r.error, bench_peak_mb());
    char path[4096];
    snprintf(path, sizeof path, "%s/bench_rpca.json", out_dir);
    FILE *f = fopen(path, "w");
    if (f) {
        fprintf(f,
                "{\"rpca_60s_s\": %.3f, \"rpca_cpu_s\": %.3f, \"iterations\": %d, \"ms_per_iter\": "
                "%.2f, \"rank\": %d, \"peak_mb\": %.0f}\n",
                wall, cpu, r.n_iter, 1e3 * wall / r.n_iter, r.rank, bench_peak_mb());
        fclose(f);
    }
    free(l), free(s);
    st_value_unref(v);
    bench_graph_done();
    return 0;
}
