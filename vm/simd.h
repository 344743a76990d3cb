/* Which vector instructions strata's hand-written loops may use: what the
 * CPU has, capped by $STRATA_SIMD ("plain", "avx" or "avx512"; unset: no
 * cap). The cap lets the plain loops run, and be compared with the vector
 * ones, on any machine, as they run on a CPU without the instructions.
 * Loops that the compiler clones per CPU (target_clones) are not capped. */
#ifndef ST_SIMD_H
#define ST_SIMD_H

typedef enum { ST_SIMD_PLAIN = 0, ST_SIMD_AVX = 1, ST_SIMD_AVX512 = 2 } st_simd;

/* 1 when loops of that level may run: the CPU has them and the cap allows. */
int st_simd_allows(st_simd level);
/* The cap's name when $STRATA_SIMD sets one ("plain", "avx", "avx512"), else
 * NULL. A cached result's key includes it, since capped loops may round
 * differently (NMF's fused pass does). An unknown value caps at "plain", with a warning. */
const char *st_simd_cap_name(void);

/* Copies of a function compiled for wider vector units, one picked when the
 * program loads (GCC and clang on x86-64); elsewhere the one plain copy. */
#if defined(__x86_64__) && defined(__GNUC__)
#define ST_CLONES_AVX512_AVX2 __attribute__((target_clones("avx512f", "avx2", "default")))
#define ST_CLONES_AVX2        __attribute__((target_clones("avx2", "default")))
#else
#define ST_CLONES_AVX512_AVX2
#define ST_CLONES_AVX2
#endif

#endif
