/* Non-negative matrix factorisation by multiplicative updates for the
 * beta-divergence (Fevotte & Idier 2011), as scikit-learn 1.2's
 * NMF(solver="mu") computes it.
 *
 * Orientation and layout (column-major, as BLAS counts):
 *   V  n_rows x n_cols   (a spectrogram: bins x frames; ld = n_rows)
 *   W  n_rows x rank     (templates; ld = n_rows)
 *   H  rank x n_cols     (activations; ld = rank)
 * so that a strata magnitude array (channel, time, freq), freq fastest, is V
 * with the channels' frames side by side, a (rank, freq) array is W and a
 * (channel, time, rank) array is H, all without copying.
 *
 * Storage is float32; every product goes through cblas_sgemm; divergences
 * are summed in double (see doc/nmf.md for why that suffices to reproduce a
 * float64 reference within 1e-3).
 */
#ifndef ST_NMF_H
#define ST_NMF_H

#include <stdint.h>

/* scikit-learn's EPSILON: float32's machine epsilon, the zero guard. */
#define ST_NMF_EPSILON 1.1920928955078125e-07f

typedef struct {
    double beta;  /* 0 Itakura-Saito, 1 Kullback-Leibler, 2 Euclidean; any in [0, 2] */
    int max_iter; /* iterations at most */
    double tol;   /* stop when the error falls by less than tol x its first value over 10
                     iterations; 0 runs exactly max_iter */
    /* Regularisation, already scaled as sklearn scales alpha_W, alpha_H and l1_ratio. */
    double l1_W, l2_W, l1_H, l2_H;
    int update_W, update_H; /* at least one; a lone free factor follows sklearn's transform */
    int n_threads;
    int sgemm_only; /* 1: every product through cblas_sgemm, no fused kernel (to compare) */
    /* Called after every iteration with the latest known divergence; may be NULL. */
    void (*progress)(void *data, int iteration, int max_iter, double divergence);
    void *progress_data;
} st_nmf_options;

typedef struct {
    int n_iter;       /* iterations run */
    double div_init;  /* beta-divergence of the start */
    double div_final; /* of the result */
    int n_curve;      /* divergence after iterations 0, 10, 20, ... and the last */
    double *curve;    /* malloc'd, n_curve values; the caller frees */
    int *curve_iter;  /* malloc'd, the iteration of each value */
} st_nmf_result;

/* Runs the updates in place on W and H. Returns 0, or -1 when memory is short. */
int st_nmf_fit(const float *V, int n_rows, int64_t n_cols, float *W, float *H, int rank,
               const st_nmf_options *o, st_nmf_result *r);

/* sklearn's _beta_divergence(V, W, H, beta, square_root=False), summed in double. */
double st_nmf_divergence(const float *V, int n_rows, int64_t n_cols, const float *W, const float *H,
                         int rank, double beta, int n_threads);

#endif
