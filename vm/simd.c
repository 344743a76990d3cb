/* The vector level that the hand-written loops may use (simd.h). */
#include "simd.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static st_simd cap = ST_SIMD_AVX512;
static const char *cap_name; /* NULL: no cap */

/* Read once: every node of a run sees the same cap. */
static void read_cap(void)
{
    static const char *const names[] = {"plain", "avx", "avx512"};
    const char *v = getenv("STRATA_SIMD");
    if (!v || !v[0]) return;
    for (int i = 0; i < 3; i++)
        if (strcmp(v, names[i]) == 0) {
            cap = (st_simd)i, cap_name = names[i];
            return;
        }
    cap = ST_SIMD_PLAIN; /* an unknown name is taken as the safest, and said */
    cap_name = names[0];
    fprintf(stderr,
            "strata: warning: STRATA_SIMD = '%s' is not plain, avx or avx512; taking plain\n", v);
}

int st_simd_allows(st_simd level)
{
    pthread_once(&once, read_cap);
    if (level > cap) return 0;
#if defined(__x86_64__)
    switch (level) {
    case ST_SIMD_PLAIN:
        return 1;
    case ST_SIMD_AVX:
        return __builtin_cpu_supports("avx") != 0;
    case ST_SIMD_AVX512:
        return __builtin_cpu_supports("avx512f") != 0;
    }
    return 0;
#else
    return level == ST_SIMD_PLAIN;
#endif
}

const char *st_simd_cap_name(void)
{
    pthread_once(&once, read_cap);
    return cap_name;
}
