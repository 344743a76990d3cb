/* Re-factorising a Tucker model's loop mode into parts (loops' parts = J).
 * Numerics only: the loops node calls it.
 *
 * The model's content of slice b in the core's space is y_b = sum_k D[b,k]
 * C[:,:,k] (the slice's model is W y_b H^T). Loop types that are bar recipes
 * (a section's bass and chords as one type) and loop types that are parts
 * describe the same y_b; what tells them apart is that a part is used in
 * several combinations, so parts need less template than recipes, each
 * instrument counted once. So: Y (slices x cells of the core) ~ A R, with A
 * in [0, 1] (a part plays or not, at most at its level) and an L1 weight on R
 * (the template each part needs), by multiplicative updates for the
 * Frobenius error from seeded random starts, the best objective kept. */
#include "loop_parts.h"

#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

/* A small, fixed generator: the starts are the same on every machine. */
static double uniform(uint64_t *state)
{
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*state >> 11) / 9007199254740992.0;
}

/* One fit from a random start; returns the objective 0.5 |Y - A R|^2 + lambda |R|_1. */
static double fit(const double *y, int64_t n_bars, int n_cols, int n_parts, double lambda,
                  int iterations, uint64_t seed, double y_mean, double *a, double *r, double *work)
{
    const int j_n = n_parts;
    double *yrt = work, *rrt = yrt + n_bars * j_n, *aty = rrt + j_n * j_n,
           *ata = aty + (int64_t)j_n * n_cols;
    uint64_t state = seed * 0x9E3779B97F4A7C15ULL + 1;
    for (int64_t i = 0; i < n_bars * j_n; i++)
        a[i] = uniform(&state);
    for (int64_t i = 0; i < (int64_t)j_n * n_cols; i++)
        r[i] = uniform(&state) * y_mean;
    const double eps = 1e-300;
    for (int it = 0; it < iterations; it++) {
        /* A <- min(1, A * (Y R^T) / (A R R^T)) */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n_bars, j_n, n_cols, 1, y, n_cols,
                    r, n_cols, 0, yrt, j_n);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, j_n, j_n, n_cols, 1, r, n_cols, r,
                    n_cols, 0, rrt, j_n);
        for (int64_t b = 0; b < n_bars; b++)
            for (int j = 0; j < j_n; j++) {
                double den = 0;
                for (int h = 0; h < j_n; h++)
                    den += a[b * j_n + h] * rrt[h * j_n + j];
                a[b * j_n + j] = fmin(1, a[b * j_n + j] * yrt[b * j_n + j] / (den + eps));
            }
        /* R <- R * (A^T Y) / (A^T A R + lambda) */
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, j_n, n_cols, (int)n_bars, 1, a, j_n, y,
                    n_cols, 0, aty, n_cols);
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, j_n, j_n, (int)n_bars, 1, a, j_n, a,
                    j_n, 0, ata, j_n);
        for (int j = 0; j < j_n; j++)
            for (int c = 0; c < n_cols; c++) {
                double den = lambda + eps;
                for (int h = 0; h < j_n; h++)
                    den += ata[j * j_n + h] * r[(int64_t)h * n_cols + c];
                r[(int64_t)j * n_cols + c] *= aty[(int64_t)j * n_cols + c] / den;
            }
    }
    double objective = 0;
    for (int64_t b = 0; b < n_bars; b++)
        for (int c = 0; c < n_cols; c++) {
            double model = 0;
            for (int j = 0; j < j_n; j++)
                model += a[b * j_n + j] * r[(int64_t)j * n_cols + c];
            const double e = y[b * n_cols + c] - model;
            objective += 0.5 * e * e;
        }
    for (int64_t i = 0; i < (int64_t)j_n * n_cols; i++)
        objective += lambda * r[i];
    return objective;
}

int st_loop_parts(const float *core, const float *layout, int n_cols, int64_t n_bars, int rank,
                  int n_parts, double sparsity, int starts, int iterations, float *parts_core,
                  float *parts_layout)
{
    const int j_n = n_parts;
    double *y = malloc((size_t)n_bars * n_cols * sizeof *y);
    double *a = malloc((size_t)n_bars * j_n * sizeof *a),
           *r = malloc((size_t)j_n * n_cols * sizeof *r);
    double *best_a = malloc((size_t)n_bars * j_n * sizeof *best_a),
           *best_r = malloc((size_t)j_n * n_cols * sizeof *best_r);
    double *work = malloc(((size_t)n_bars * j_n + (size_t)j_n * j_n * 2 + (size_t)j_n * n_cols) *
                          sizeof *work);
    int status = y && a && r && best_a && best_r && work ? 0 : -1;
    if (status) goto done;
    /* Y = D C^T: each slice's content in the core's space */
    double mean = 0;
    for (int64_t b = 0; b < n_bars; b++)
        for (int c = 0; c < n_cols; c++) {
            double s = 0;
            for (int k = 0; k < rank; k++)
                s += (double)layout[b * rank + k] * core[(int64_t)c * rank + k];
            y[b * n_cols + c] = s > 0 ? s : 0;
            mean += y[b * n_cols + c] / ((double)n_bars * n_cols);
        }
    const double lambda = sparsity * mean * (double)n_bars;
    double best = HUGE_VAL;
    for (int s = 0; s < starts; s++) {
        const double objective =
            fit(y, n_bars, n_cols, j_n, lambda, iterations, (uint64_t)s + 1, mean, a, r, work);
        if (objective < best) {
            best = objective;
            for (int64_t i = 0; i < n_bars * j_n; i++)
                best_a[i] = a[i];
            for (int64_t i = 0; i < (int64_t)j_n * n_cols; i++)
                best_r[i] = r[i];
        }
    }
    for (int64_t b = 0; b < n_bars; b++)
        for (int j = 0; j < j_n; j++)
            parts_layout[b * j_n + j] = (float)best_a[b * j_n + j];
    for (int c = 0; c < n_cols; c++)
        for (int j = 0; j < j_n; j++)
            parts_core[(int64_t)c * j_n + j] = (float)best_r[(int64_t)j * n_cols + c];
done:
    free(y), free(a), free(r), free(best_a), free(best_r), free(work);
    return status;
}
