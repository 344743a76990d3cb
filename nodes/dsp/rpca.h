/* Robust PCA, M = L + S with L low-rank and S sparse, by the inexact
 * augmented Lagrange multiplier method (Lin, Chen & Ma 2010) as nussl 1.1's
 * RPCA runs it for singing voice (Huang et al. 2012): lambda =
 * 1/sqrt(max(m, n)), mu = 1.25/||M||_2 growing by rho = 1.5 up to 1e7 times
 * its start, Y = M / max(||M||_2, ||M||_inf / lambda), at most max_iter
 * iterations, stop when ||M - L - S||_F / ||M||_F < tol.
 *
 * Singular value thresholding uses a truncated SVD: only the singular
 * values above the threshold are needed. Their number is predicted as Lin
 * et al.'s code predicts it (start at 10; one more than were kept, or 5 %
 * of the smaller side more when all were kept), and that many triplets come
 * from a randomised SVD (nndsvd.h) with 10 extra columns, started from the
 * previous iteration's right singular vectors with one power iteration (2
 * from Gaussian starts the first time), or from LAPACK's whole SVD when more
 * than half the smaller side is asked for.
 *
 * Column-major: M is n_rows x n_cols (ld n_rows); L and S the same.
 */
#ifndef ST_RPCA_H
#define ST_RPCA_H

#include <stdint.h>

typedef struct {
    double lambda; /* <= 0: 1/sqrt(max(n_rows, n_cols)) */
    int max_iter;  /* 100 */
    double tol;    /* 1e-7 */
    int n_threads;
    /* called after each iteration with the residual (may be NULL) */
    void (*progress)(void *data, int iteration, int max_iter, double error);
    void *progress_data;
} st_rpca_options;

typedef struct {
    int n_iter;
    double error; /* ||M - L - S||_F / ||M||_F at the end */
    int rank;     /* singular values kept in the last iteration */
} st_rpca_result;

/* Returns 0, or -1 when memory is short or an SVD fails. */
int st_rpca(const float *M, int n_rows, int64_t n_cols, float *L, float *S,
            const st_rpca_options *o, st_rpca_result *r);

#endif
