/* Non-negative Tucker decomposition of a 3-way tensor (freq x time x bar):
 * X ~ G x0 A0 x1 A1 x2 A2, as TensorLy 0.9 computes it: multiplicative
 * updates (non_negative_tucker) or HALS (non_negative_tucker_hals), started
 * from TensorLy's SVD initialisation, from random values or from a given model.
 */
#ifndef ST_TUCKER_H
#define ST_TUCKER_H

#include <stddef.h>
#include <stdint.h>

enum { ST_TUCKER_MODES = 3 };
enum { ST_TUCKER_MU = 0, ST_TUCKER_HALS = 1 };

/* A Tucker model. Owned by its maker (st_tucker_new); row-major, double
 * (rank-sized arithmetic is double: see tucker.c). */
typedef struct {
    int64_t shape[ST_TUCKER_MODES];  /* I_n: the tensor's size along mode n */
    int rank[ST_TUCKER_MODES];       /* R_n */
    double *core;                    /* R0 x R1 x R2 */
    double *factor[ST_TUCKER_MODES]; /* I_n x R_n */
} st_tucker;

typedef struct {
    int algorithm; /* ST_TUCKER_MU or ST_TUCKER_HALS */
    int max_iterations;
    double tol; /* stop when |e[i-1] - e[i]| < tol, from the third iteration */
    /* HALS: l1 weights on each factor and on the core (0: none) */
    double sparsity[ST_TUCKER_MODES], core_sparsity;
    int fixed[ST_TUCKER_MODES]; /* 1: that factor keeps its initial value */
    int n_threads;
    /* Called after each iteration (1-based) with its relative error; may be NULL. */
    void (*progress)(void *data, int iteration, double error);
    void *progress_data;
} st_tucker_options;

/* A zeroed model; NULL when memory is short. */
st_tucker *st_tucker_new(const int64_t shape[ST_TUCKER_MODES], const int rank[ST_TUCKER_MODES]);
void st_tucker_free(st_tucker *t);

/* TensorLy's initialize_tucker(init='svd', non_negative=True): per mode the
 * leading left singular vectors of the unfolding, sign-fixed, made
 * non-negative by NNDSVDa; the core X x_n A_n^T; absolute values.
 * x has t->shape. ST_OK, or ST_ERR (memory, LAPACK) with a message in error. */
int st_tucker_init_svd(st_tucker *t, const float *x, int n_threads, char *error, size_t error_size);

/* Uniform [0, 1) factors and core + 0.01 (TensorLy's init='random' shape;
 * strata's seeded generator, dsp/rng.h, not numpy's stream). */
void st_tucker_init_random(st_tucker *t, uint64_t seed);

/* Absolute values of a given start, as TensorLy takes one. */
void st_tucker_abs(st_tucker *t);

/* Runs the updates on t in place. errors receives the relative Frobenius
 * error ||X - model|| / ||X|| after each iteration (room for
 * o->max_iterations). Returns the number of iterations run, or -1 when memory
 * is short. */
int st_tucker_fit(st_tucker *t, const float *x, const st_tucker_options *o, double *errors);

#endif
