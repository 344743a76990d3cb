/* Every path of st_magnitudes (plain, AVX, AVX-512: those this CPU has)
 * equals glibc's cabsf to the bit on finite values (random bit patterns:
 * tiny, subnormal, huge, and a length that leaves a tail for the plain
 * loop), and a non-finite value gives a non-finite magnitude. cube,
 * bar_grid, repet and repet_sim use it where they used cabsf. */
#include "../../nodes/dsp/magnitude.h"
#include "../../nodes/dsp/nmf_kl16.h"
#include "../../vm/simd.h"
#include "check.h"

#include <complex.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The cap itself (vm/simd.h): with STRATA_SIMD=plain (as CI runs these tests
 * a second time) no vector path may be taken; without a cap, every one the
 * CPU has. Either way a cap that stopped working would fail here. */
static void test_simd_cap(void)
{
    const char *cap = getenv("STRATA_SIMD");
    float complex x[4] = {3.0f + 4.0f * I};
    float mag[4];
    if (cap && strcmp(cap, "plain") == 0) {
        CHECK("simd: STRATA_SIMD=plain allows no vector loops",
              !st_simd_allows(ST_SIMD_AVX) && !st_simd_allows(ST_SIMD_AVX512) &&
                  st_magnitudes_path(ST_MAGNITUDES_AVX, x, 4, mag) == -1 &&
                  st_magnitudes_path(ST_MAGNITUDES_AVX512, x, 4, mag) == -1 &&
                  !st_nmf_kl16_available() && st_simd_allows(ST_SIMD_PLAIN),
              "a vector path is still allowed");
    } else if (!cap || !cap[0]) {
#if defined(__x86_64__)
        int avx = __builtin_cpu_supports("avx") != 0,
            avx512 = __builtin_cpu_supports("avx512f") != 0;
#else
        int avx = 0, avx512 = 0;
#endif
        CHECK("simd: without STRATA_SIMD, the vector loops this CPU has are allowed",
              st_simd_allows(ST_SIMD_AVX) == avx && st_simd_allows(ST_SIMD_AVX512) == avx512 &&
                  st_simd_cap_name() == NULL,
              "avx %d/%d, avx512 %d/%d", st_simd_allows(ST_SIMD_AVX), avx,
              st_simd_allows(ST_SIMD_AVX512), avx512);
    }
}

void test_magnitude(void)
{
    test_simd_cap();
    enum { N = (1 << 16) + 3 };
    float complex *x = malloc(sizeof *x * N);
    float *mag = malloc(sizeof *mag * N);
    if (!x || !mag) {
        CHECK("magnitudes: memory", 0, "out of memory");
        free(x), free(mag);
        return;
    }
    uint32_t state = 2024;
    for (size_t i = 0; i < N; i++) {
        float part[2];
        for (int k = 0; k < 2; k++) {
            do {
                state = state * 1664525u + 1013904223u;
                uint32_t bits = state ^ (state >> 13) * 2654435761u;
                memcpy(&part[k], &bits, sizeof bits);
            } while (!isfinite(part[k]));
        }
        x[i] = part[0] + part[1] * (float complex)I;
    }
    x[7] = 0, x[8] = 3.0f - 4.0f * I; /* 0 and 5 exactly */
    static const char *const paths[] = {"plain", "AVX", "AVX-512"};
    for (int path = ST_MAGNITUDES_PLAIN; path <= ST_MAGNITUDES_AVX512; path++) {
        char name[96];
        snprintf(name, sizeof name, "magnitudes, %s: equal to cabsf to the bit on finite values",
                 paths[path]);
        memset(mag, 0, sizeof *mag * N);
        if (st_magnitudes_path(path, x, N, mag) != 0) {
            printf("skip %s: %s not allowed here (the CPU or STRATA_SIMD)\n", name, paths[path]);
            continue;
        }
        size_t differ = 0;
        for (size_t i = 0; i < N; i++) {
            float want = cabsf(x[i]);
            differ += memcmp(&want, &mag[i], sizeof want) != 0;
        }
        CHECK(name, differ == 0 && mag[8] == 5.0f, "%zu of %d differ", differ, N);
    }
    x[1] = INFINITY, x[2] = NAN, x[5] = 1.0f + NAN * I;
    st_magnitudes(x, 6, mag);
    CHECK("magnitudes: a non-finite value gives a non-finite magnitude",
          !isfinite(mag[1]) && !isfinite(mag[2]) && !isfinite(mag[5]) && isfinite(mag[0]),
          "%g %g %g", mag[1], mag[2], mag[5]);
    free(x), free(mag);
}
