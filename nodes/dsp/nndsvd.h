/* SVD-based starts for non-negative factorisations.
 *
 * st_randomized_svd: the leading singular triplets of a tall or wide matrix
 * by a randomised range finder (Halko, Martinsson & Tropp 2011) with power
 * iterations, as scikit-learn's randomized_svd does it (oversampling 10,
 * 7 power iterations when rank < 10 % of the smaller side, else 4), QR
 * re-orthonormalisation between powers, and LAPACK's sgesdd on the small
 * projected matrix.
 *
 * st_nndsvd: Boutsidis & Gallopoulos' NNDSVD from those triplets, as
 * scikit-learn's _initialize_nmf makes it (entries below 1e-6 set to 0; the
 * "a" variant fills the zeros with the mean of V).
 *
 * Matrices are column-major: V is n_rows x n_cols (ld n_rows).
 */
#ifndef ST_NNDSVD_H
#define ST_NNDSVD_H

#include <stdint.h>

/* U: n_rows x rank, S: rank, Vt: rank x n_cols (ld rank). Returns 0 or -1. */
int st_randomized_svd(const float *V, int n_rows, int64_t n_cols, int rank, uint64_t seed,
                      int n_threads, float *U, float *S, float *Vt);
/* The same with n_power power iterations and n_over extra columns. */
int st_randomized_svd_with(const float *V, int n_rows, int64_t n_cols, int rank, int n_over,
                           int n_power, uint64_t seed, int n_threads, float *U, float *S,
                           float *Vt);
/* The same, the range finder started from given directions instead of
 * Gaussian ones: the first n_start rows of start (an n_start x n_cols Vt of
 * a nearby matrix, ld ld_start), Gaussian columns for the rest. Warm starts
 * of a slowly changing matrix (rpca) need fewer power iterations. */
int st_randomized_svd_from(const float *V, int n_rows, int64_t n_cols, int rank, int n_over,
                           int n_power, const float *start, int n_start, int ld_start,
                           uint64_t seed, int n_threads, float *U, float *S, float *Vt);

enum { ST_NNDSVD = 0, ST_NNDSVDA = 1 };

/* W: n_rows x rank (ld n_rows), H: rank x n_cols (ld rank). Returns 0 or -1. */
int st_nndsvd(const float *V, int n_rows, int64_t n_cols, int rank, int variant, uint64_t seed,
              int n_threads, float *W, float *H);

/* A standard normal deviate (Box-Muller on the one seeded generator,
 * dsp/rng.h; state from st_rng_seed). */
double st_gaussian(uint64_t *state);

#endif
