/* The cost of deterministic FFTW plans (issue 9.10): strata plans with
 * FFTW_ESTIMATE, whose choice depends on nothing but the size, so the same
 * input gives the same bytes; FFTW_MEASURE times candidates and may pick a
 * different (numerically different) plan on each fresh run. For each size,
 * the planning time and the time of one forward + inverse transform with
 * each flag. Prints a table and writes OUT_DIR/bench_fft_plans.json. */
#include "bench.h"

#include <complex.h>
#include <fftw3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    double plan_s, pair_us;
} result;

static result measure(int n_fft, unsigned flags)
{
    fftwf_forget_wisdom();
    float *real = fftwf_alloc_real((size_t)n_fft);
    fftwf_complex *spec = fftwf_alloc_complex((size_t)n_fft / 2 + 1);
    double t0 = bench_now_s();
    fftwf_plan fwd = fftwf_plan_dft_r2c_1d(n_fft, real, spec, flags);
    fftwf_plan inv = fftwf_plan_dft_c2r_1d(n_fft, spec, real, flags);
    double plan_s = bench_now_s() - t0;
    for (int i = 0; i < n_fft; i++)
        real[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
    int repeats = (int)(4e7 / n_fft);
    double best = 1e9;
    for (int round = 0; round < 5; round++) { /* best of five: the machine is shared */
        t0 = bench_now_s();
        for (int r = 0; r < repeats; r++) {
            fftwf_execute(fwd);
            fftwf_execute(inv);
            for (int i = 0; i < n_fft; i++)
                real[i] *= 1.0f / (float)n_fft;
        }
        double t = (bench_now_s() - t0) / repeats;
        if (t < best) best = t;
    }
    fftwf_destroy_plan(fwd);
    fftwf_destroy_plan(inv);
    fftwf_free(real);
    fftwf_free(spec);
    return (result){plan_s, best * 1e6};
}

int main(int argc, char **argv)
{
    const char *out_dir = argc > 1 ? argv[1] : ".";
    static const int sizes[] = {512, 1024, 2048, 4096, 8192};
    char path[4096];
    snprintf(path, sizeof path, "%s/bench_fft_plans.json", out_dir);
    FILE *json = fopen(path, "w");
    printf("FFTW plans: ESTIMATE (strata, deterministic) against MEASURE, one forward + inverse\n");
    printf("%8s %14s %14s %14s %14s %8s\n", "n_fft", "estimate plan", "measure plan", "estimate us",
           "measure us", "ratio");
    if (json) fprintf(json, "{\"bench\": \"fft_plans\", \"sizes\": [");
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        result e = measure(sizes[i], FFTW_ESTIMATE), m = measure(sizes[i], FFTW_MEASURE);
        printf("%8d %12.4f s %12.4f s %14.2f %14.2f %8.3f\n", sizes[i], e.plan_s, m.plan_s,
               e.pair_us, m.pair_us, e.pair_us / m.pair_us);
        if (json)
            fprintf(json,
                    "%s{\"n_fft\": %d, \"estimate_plan_s\": %.6f, \"measure_plan_s\": %.6f, "
                    "\"estimate_pair_us\": %.3f, \"measure_pair_us\": %.3f}",
                    i ? ", " : "", sizes[i], e.plan_s, m.plan_s, e.pair_us, m.pair_us);
    }
    if (json) fprintf(json, "]}\n"), fclose(json);
    return 0;
}
