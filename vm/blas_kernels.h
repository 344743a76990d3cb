/* OpenBLAS's kernels on a CPU newer than the library. */
#ifndef ST_BLAS_KERNELS_H
#define ST_BLAS_KERNELS_H

/* OpenBLAS chooses its kernels when it loads, from the CPU's model, and
 * falls back to its oldest (Prescott: SSE3) on a model it does not know,
 * as Debian 12's 0.3.21 does on Sapphire Rapids: strata's NTD then runs
 * 2.7 times slower than on the AVX-512 kernels. When the user has not
 * chosen (OPENBLAS_CORETYPE unset) and OpenBLAS fell back on a CPU that has
 * AVX-512 or AVX2, this restarts the program once (execv of /proc/self/exe,
 * argv unchanged) with OPENBLAS_CORETYPE set to the kernels the CPU can
 * run. Returns only when nothing is to be done or the restart failed (the
 * program then goes on with the kernels it has). Call first in main. */
void st_blas_choose_kernels(char **argv);

#endif
