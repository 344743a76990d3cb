#include "blas_kernels.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *openblas_get_corename(void); /* OpenBLAS has no stable header for it */

/* The kernels for this CPU's instructions, or NULL when it has neither
 * AVX-512 (the subsets SkylakeX's kernels use) nor AVX2 with FMA. libgcc's
 * checks include the operating system's support for the registers. */
static const char *kernels_for_cpu(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
    return NULL;
}

void st_blas_choose_kernels(char **argv)
{
    if (getenv("OPENBLAS_CORETYPE")) return; /* the user's choice, or ours on the restart */
    const char *chosen = openblas_get_corename();
    if (!chosen || strcmp(chosen, "Prescott") != 0) return; /* OpenBLAS knew the CPU */
    const char *kernels = kernels_for_cpu();
    if (!kernels || setenv("OPENBLAS_CORETYPE", kernels, 1) != 0) return;
    execv("/proc/self/exe", argv);
    unsetenv("OPENBLAS_CORETYPE"); /* no restart: as if never tried */
}
