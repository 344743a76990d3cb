/* Benchmark of the U-Net (issue 16): vocals and accompaniment of 180 s of 44.1 kHz stereo
 * (STFT, the unet node with the shipped model, resynth of both parts), target < 10 s and
 * < 1 GB on this 2-core machine; and the network alone, one patch on one thread, in GFLOP/s
 * against this machine's sgemm (one thread, 1024^3) measured in the same run. */
#include "../../nodes/dsp/model_path.h"
#include "../../nodes/dsp/unet.h"
#include "bench.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

/* GFLOP/s of one n^3 sgemm on the threads OpenBLAS is given, best of three. */
static double sgemm_gflops(int n, int threads)
{
    float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n),
          *c = malloc(sizeof(float) * n * n);
    for (int i = 0; i < n * n; i++)
        a[i] = (float)(i % 7) * 0.1f, b[i] = (float)(i % 5) * 0.1f;
    openblas_set_num_threads(threads);
    double best = 1e9;
    for (int r = 0; r < 3; r++) {
        double t0 = bench_now_s();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c,
                    n);
        double t = bench_now_s() - t0;
        if (t < best) best = t;
    }
    free(a), free(b), free(c);
    return 2.0 * n * n * n / best / 1e9;
}

int main(int argc, char **argv)
{
    const char *out_dir = argc > 1 ? argv[1] : ".";
    setenv("STRATA_MODELS", "models", 0); /* make bench runs in the source tree */
    char path[4096], error[512];
    if (st_model_default_path("unet.safetensors", path, sizeof path)) {
        fprintf(stderr, "bench_unet: models/unet.safetensors not found\n");
        return 1;
    }
    st_unet *net = st_unet_load(path, error, sizeof error);
    if (!net) {
        fprintf(stderr, "bench_unet: %s\n", error);
        return 1;
    }
    const st_unet_info *info = st_unet_describe(net);
    const double patch_flops = st_unet_flops(net);

    /* the network alone: one patch, one thread */
    double gemm1 = sgemm_gflops(1024, 1), gemm2 = sgemm_gflops(1024, 2);
    openblas_set_num_threads(1);
    size_t n = (size_t)info->bins * info->frames;
    float *mag = malloc(sizeof(float) * n), *masks = malloc(sizeof(float) * n * info->n_sources);
    for (size_t i = 0; i < n; i++)
        mag[i] = (float)((i * 2654435761u) % 1000) / 1000.0f;
    st_unet_work *w = st_unet_work_new(net);
    double best_patch = 1e9;
    for (int r = 0; r < 5; r++) {
        double t0 = bench_now_s();
        st_unet_forward(net, w, mag, masks);
        double t = bench_now_s() - t0;
        if (t < best_patch) best_patch = t;
    }
    st_unet_work_free(w);
    free(mag), free(masks);

    /* the whole separation of 180 s of stereo */
    double best = 1e9, cpu = 1e9, best_net = 1e9, growth_mb = 0;
    for (int r = 0; r < 2; r++) {
        st_config *config = st_graph_config(bench_graph(1));
        config->no_cache = 1;
        st_arg a1[] = {{.name = "bars", .num = 90}, {.name = "tempo", .num = 120}};
        st_arg a2[] = {
            {.name = "bars", .num = 90}, {.name = "tempo", .num = 120}, {.name = "seed", .num = 2}};
        st_node *s1 = bench_add_refs("testsong", NULL, 0, a1, 2),
                *s2 = bench_add_refs("testsong", NULL, 0, a2, 3);
        st_ref both[2] = {{s1, 0}, {s2, 0}};
        st_node *stereo = bench_add_refs("merge", both, 2, NULL, 0);
        st_value_unref(bench_eval(stereo)); /* the song is made outside the timing */
        double before_mb = bench_peak_mb();
        st_arg stft_args[] = {{.name = "n_fft", .num = 2048}, {.name = "hop", .num = 512}};
        st_node *spec = bench_add_refs("stft", &(st_ref){stereo, -1}, 1, stft_args, 2);
        st_node *m = bench_add_refs("unet", &(st_ref){spec, -1}, 1, NULL, 0);
        st_ref rin[2] = {{spec, -1}, {m, -1}};
        st_node *parts = bench_add_refs("resynth", rin, 2, NULL, 0);
        double t0 = bench_now_s(), c0 = bench_cpu_s();
        st_value_unref(bench_eval(spec));
        double t1 = bench_now_s();
        st_value_unref(bench_eval(m));
        double t2 = bench_now_s();
        st_value_unref(bench_eval(parts));
        double t = bench_now_s() - t0, c = bench_cpu_s() - c0;
        if (t < best) best = t;
        if (c < cpu) cpu = c;
        if (t2 - t1 < best_net) best_net = t2 - t1;
        if (r == 0) growth_mb = bench_peak_mb() - before_mb;
        bench_graph_done();
    }
    /* the patches of 180 s: 15504 frames, patches every half patch, two channels */
    const double frames = floor(180.0 * 44100 / 512) + 1;
    const double step = info->frames / 2, patches = ceil((frames + info->frames - step) / step);
    const double total_gflop = 2 * patches * patch_flops / 1e9;
    printf("%-60s %9s %9s %10s\n", "U-Net (best of 2; threads: the machine's)", "wall s", "CPU s",
           "target");
    printf("%-60s %9.3f %9.3f %10s\n", "180 s 44.1 kHz stereo: STFT + unet + resynth of 2 parts",
           best, cpu, "< 10 s");
    printf("%-60s %9.3f\n", "  of which the unet node", best_net);
    printf("%-60s %9.0f %9s %10s\n", "peak memory of the separation, MB (growth past the song)",
           growth_mb, "", "< 1024 MB");
    printf("%-60s %9.0f\n", "peak memory, MB (whole process, with the two generated songs)",
           bench_peak_mb());
    printf("model: widths %d..%d, depth %d, patch %d bins x %d frames, %.3f GFLOP a patch\n",
           info->widths[0], info->widths[info->depth - 1], info->depth, info->bins, info->frames,
           patch_flops / 1e9);
    printf("network alone, one thread: %.4f s a patch = %.1f GFLOP/s; sgemm 1024^3: %.1f GFLOP/s "
           "(1 thread), %.1f (2 threads)\n",
           best_patch, patch_flops / best_patch / 1e9, gemm1, gemm2);
    printf("the unet node on 180 s stereo: %.0f patches, %.1f GFLOP, %.1f GFLOP/s\n", 2 * patches,
           total_gflop, total_gflop / best_net);
    snprintf(path, sizeof path, "%s/bench_unet.json", out_dir);
    FILE *f = fopen(path, "w");
    if (f) {
        fprintf(
            f,
            "{\"vocals_180s_stereo_s\": %.4f, \"vocals_180s_stereo_cpu_s\": %.4f, "
            "\"unet_node_s\": %.4f, \"growth_mb\": %.0f, \"peak_mb\": %.0f, \"patch_gflop\": %.4f, "
            "\"patch_s_1thread\": %.5f, \"patch_gflops_1thread\": %.2f, "
            "\"sgemm_gflops_1thread\": %.2f, \"sgemm_gflops_2threads\": %.2f, "
            "\"node_gflops\": %.2f}\n",
            best, cpu, best_net, growth_mb, bench_peak_mb(), patch_flops / 1e9, best_patch,
            patch_flops / best_patch / 1e9, gemm1, gemm2, total_gflop / best_net);
        fclose(f);
    }
    st_unet_free(net);
    return 0;
}
