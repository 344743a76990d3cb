/* Benchmark of the ntd numerics (issue 12): NTD by multiplicative updates,
 * ranks (16, 16, 8), SVD initialisation then 100 iterations (tol 0), on the
 * cube of a 180 s song: 1025 bins x 86 frames per bar x 90 bars (the bars of
 * testsong at 120 bpm, one STFT sliced every 86 frames). TensorLy 0.9 takes
 * 9.6 s for this (4.3 s of it the initialisation); the target is 1 s. */
#include "../../nodes/dsp/tucker.h"
#include "bench.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* The magnitude spectrogram of the song, as a freq x frame-in-bar x bar cube. */
static float *song_cube(int64_t n_bins, int64_t n_frames, int64_t n_bars)
{
    bench_graph(1);
    st_arg song_args[] = {{.name = "bars", .num = (double)n_bars}, {.name = "tempo", .num = 120}};
    st_node *mono = bench_add("mono", bench_add("testsong", NULL, -1, song_args, 2), 0, NULL, 0);
    st_arg fft[] = {{.name = "n_fft", .num = 2048}, {.name = "hop", .num = 512}};
    st_value *m =
        bench_eval(bench_add("magnitude", bench_add("stft", mono, -1, fft, 2), -1, NULL, 0));
    const st_array *a = &m->u.array; /* channel x time x freq */
    float *cube = calloc((size_t)(n_bins * n_frames * n_bars), sizeof(float));
    for (int64_t b = 0; b < n_bars; b++)
        for (int64_t t = 0; t < n_frames; t++) {
            int64_t frame = b * n_frames + t;
            if (frame >= a->shape[1]) continue;
            for (int64_t k = 0; k < n_bins; k++)
                cube[(k * n_frames + t) * n_bars + b] = a->data[frame * a->shape[2] + k];
        }
    st_value_unref(m);
    bench_graph_done();
    return cube;
}

int main(int argc, char **argv)
{
    const char *out_dir = argc > 1 ? argv[1] : ".";
    const int64_t shape[3] = {1025, 86, 90};
    const int rank[3] = {16, 16, 8}, n_iterations = 100;
    float *x = song_cube(shape[0], shape[1], shape[2]);
    double before_mb = bench_peak_mb();
    double best_init = 1e9, best_fit = 1e9, final_error = 0;
    double *errors = malloc(sizeof(double) * n_iterations);
    for (int run = 0; run < 3; run++) {
        st_tucker *t = st_tucker_new(shape, rank);
        char error[256];
        double t0 = bench_now_s();
        if (!t || st_tucker_init_svd(t, x, 2, error, sizeof error)) {
            fprintf(stderr, "bench_ntd: svd init failed: %s\n", t ? error : "out of memory");
            return 1;
        }
        double t1 = bench_now_s();
        st_tucker_options o = {
            .algorithm = ST_TUCKER_MU, .max_iterations = n_iterations, .tol = 0, .n_threads = 2};
        int done = st_tucker_fit(t, x, &o, errors);
        double t2 = bench_now_s();
        if (done != n_iterations) {
            fprintf(stderr, "bench_ntd: ran %d iterations\n", done);
            return 1;
        }
        if (t1 - t0 < best_init) best_init = t1 - t0;
        if (t2 - t1 < best_fit) best_fit = t2 - t1;
        final_error = errors[done - 1];
        st_tucker_free(t);
    }
    double total = best_init + best_fit, peak = bench_peak_mb();
    printf("%-56s %9s %10s %10s %9s\n", "NTD MU, 1025 x 86 x 90 cube, ranks (16,16,8) (best of 3)",
           "wall s", "target", "TensorLy", "ratio");
    printf("%-56s %9.3f %10s %10s %8.1fx\n", "svd init + 100 iterations", total, "< 1 s", "9.6 s",
           9.6 / total);
    printf("%-56s %9.3f %10s %10s %8.1fx\n", "  svd init", best_init, "", "4.3 s", 4.3 / best_init);
    printf("%-56s %9.3f %10s %10s %8.1fx\n", "  100 iterations", best_fit, "", "5.3 s",
           5.3 / best_fit);
    printf("%-56s %9.2f ms\n", "  per iteration", 1000 * best_fit / n_iterations);
    /* OpenBLAS picks its kernels from the CPU, or from $OPENBLAS_CORETYPE:
     * the figure depends on which (Haswell's are AVX2, SkylakeX's AVX-512) */
    const char *coretype = getenv("OPENBLAS_CORETYPE");
    printf("OpenBLAS kernels: %s (OPENBLAS_CORETYPE %s)\n", openblas_get_corename(),
           coretype ? coretype : "unset");
    printf("final relative error %.6f; peak memory %.0f MB (whole process; %.0f MB before the NTD, "
           "the cube is %.0f MB)\n",
           final_error, peak, before_mb, 4.0 * shape[0] * shape[1] * shape[2] / 1048576.0);
    char path[4096];
    snprintf(path, sizeof path, "%s/bench_ntd.json", out_dir);
    FILE *f = fopen(path, "w");
    if (f) {
        fprintf(f,
                "{\"ntd_mu_total_s\": %.4f, \"svd_init_s\": %.4f, \"iterations_s\": %.4f, "
                "\"per_iteration_ms\": %.3f, \"final_error\": %.6f, \"peak_mb\": %.0f, "
                "\"openblas_core\": \"%s\"}\n",
                total, best_init, best_fit, 1000 * best_fit / n_iterations, final_error, peak,
                openblas_get_corename());
        fclose(f);
    }
    free(errors);
    free(x);
    return 0;
}
