#include "nndsvd.h"

#include "fixed_parts.h"
#include "lapack.h"
#include "rng.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

double st_gaussian(uint64_t *state)
{
    double u1 = 1.0 - st_rng_uniform(state); /* (0, 1]: log(u1) is finite */
    double u2 = st_rng_uniform(state);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* Overwrites the m x n matrix a (m >= n) with an orthonormal basis of its columns. */
static int orthonormalise(float *a, int m, int n)
{
    int info = 0, lwork = -1;
    float query, *tau = malloc((size_t)n * sizeof *tau);
    if (!tau) return -1;
    sgeqrf_(&m, &n, a, &m, tau, &query, &lwork, &info);
    int lwork2 = -1;
    float query2;
    sorgqr_(&m, &n, &n, a, &m, tau, &query2, &lwork2, &info);
    lwork = (int)fmaxf(query, query2) + 1;
    float *work = malloc((size_t)lwork * sizeof *work);
    if (!work) {
        free(tau);
        return -1;
    }
    sgeqrf_(&m, &n, a, &m, tau, work, &lwork, &info);
    if (info == 0) sorgqr_(&m, &n, &n, a, &m, tau, work, &lwork, &info);
    free(work), free(tau);
    return info == 0 ? 0 : -1;
}

/* The products with V, cut in parts fixed by V's shape (dsp/fixed_parts.h),
 * each part one single-threaded call, so that the factorisation has the same
 * bytes on any number of threads. */
enum { PRODUCT_PARTS = 8 };
typedef enum { V_TIMES, V_T_TIMES, TIMES_V } product_kind;

typedef struct {
    product_kind kind;
    const float *V, *in; /* V: F x N; in: N x L (V_TIMES) or F x L */
    float *out;          /* F x L, N x L or L x N */
    int F, N, L;
} product_job;

static void product_part(void *arg, int64_t begin, int64_t end)
{
    const product_job *j = arg;
    const int n = (int)(end - begin), F = j->F, N = j->N, L = j->L;
    if (j->kind == V_TIMES) /* rows begin..end of V z */
        cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, n, L, N, 1.0f, j->V + begin, F,
                    j->in, N, 0.0f, j->out + begin, F);
    else if (j->kind == V_T_TIMES) /* rows begin..end of V^T y */
        cblas_sgemm(CblasColMajor, CblasTrans, CblasNoTrans, n, L, F, 1.0f, j->V + begin * F, F,
                    j->in, F, 0.0f, j->out + begin, N);
    else /* columns begin..end of y^T V */
        cblas_sgemm(CblasColMajor, CblasTrans, CblasNoTrans, L, n, F, 1.0f, j->in, F,
                    j->V + begin * F, F, 0.0f, j->out + begin * L, L);
}

static void product(product_kind kind, const float *V, int F, int N, const float *in, int L,
                    float *out, int n_threads)
{
    product_job j = {kind, V, in, out, F, N, L};
    st_parallel_parts(n_threads, kind == V_TIMES ? F : N, PRODUCT_PARTS, product_part, &j);
}

int st_randomized_svd(const float *V, int n_rows, int64_t n_cols, int rank, uint64_t seed,
                      int n_threads, float *U, float *S, float *Vt)
{
    const int min_side = n_rows < n_cols ? n_rows : (int)n_cols;
    return st_randomized_svd_with(V, n_rows, n_cols, rank, 10, rank < 0.1 * min_side ? 7 : 4, seed,
                                  n_threads, U, S, Vt);
}

int st_randomized_svd_with(const float *V, int n_rows, int64_t n_cols, int rank, int n_over,
                           int n_power, uint64_t seed, int n_threads, float *U, float *S, float *Vt)
{
    return st_randomized_svd_from(V, n_rows, n_cols, rank, n_over, n_power, NULL, 0, 0, seed,
                                  n_threads, U, S, Vt);
}

int st_randomized_svd_from(const float *V, int n_rows, int64_t n_cols, int rank, int n_over,
                           int n_power, const float *start, int n_start, int ld_start,
                           uint64_t seed, int n_threads, float *U, float *S, float *Vt)
{
    const int F = n_rows, N = (int)n_cols;
    const int min_side = F < N ? F : N;
    if (rank < 1 || rank > min_side) return -1;
    int L = rank + n_over > min_side ? min_side : rank + n_over;
    const int n_iter = n_power;
    float *y = malloc((size_t)F * L * sizeof *y); /* F x L: the range of V */
    float *z = malloc((size_t)N * L * sizeof *z); /* N x L: the range of V^T */
    float *b = malloc((size_t)L * N * sizeof *b); /* L x N: Q^T V */
    float *ub = malloc((size_t)L * L * sizeof *ub), *s = malloc((size_t)L * sizeof *s);
    float *vtb = malloc((size_t)L * N * sizeof *vtb);
    int *iwork = malloc(8 * (size_t)L * sizeof *iwork);
    int status = y && z && b && ub && s && vtb && iwork ? 0 : -1;
    const int blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1); /* the products run in fixed parts instead */
    uint64_t state = st_rng_seed(seed, 1);
    if (n_start > L) n_start = L;
    /* the given directions first (rows of a previous Vt), Gaussian columns after */
    for (int k = 0; status == 0 && k < n_start; k++)
        for (int64_t j = 0; j < N; j++)
            z[(size_t)k * N + j] = start[(size_t)j * ld_start + k];
    for (size_t i = (size_t)n_start * N; status == 0 && i < (size_t)N * L; i++)
        z[i] = (float)st_gaussian(&state);
    if (status == 0) product(V_TIMES, V, F, N, z, L, y, n_threads);
    for (int it = 0; status == 0 && it < n_iter; it++) {
        status = orthonormalise(y, F, L);
        if (status) break;
        product(V_T_TIMES, V, F, N, y, L, z, n_threads);
        if ((status = orthonormalise(z, N, L))) break;
        product(V_TIMES, V, F, N, z, L, y, n_threads);
    }
    if (status == 0) status = orthonormalise(y, F, L);
    if (status == 0) {
        product(TIMES_V, V, F, N, y, L, b, n_threads);
        int info = 0, lwork = -1;
        float query;
        const char jobz = 'S';
        sgesdd_(&jobz, &L, &N, b, &L, s, ub, &L, vtb, &L, &query, &lwork, iwork, &info);
        lwork = (int)query + 1;
        float *work = malloc((size_t)lwork * sizeof *work);
        if (!work) status = -1;
        if (status == 0)
            sgesdd_(&jobz, &L, &N, b, &L, s, ub, &L, vtb, &L, work, &lwork, iwork, &info);
        free(work);
        if (info != 0) status = -1;
    }
    if (status == 0) {
        /* U = Q Ub (first rank columns); Vt = first rank rows of the small SVD's */
        cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, F, rank, L, 1.0f, y, F, ub, L, 0.0f,
                    U, F);
        memcpy(S, s, (size_t)rank * sizeof *S);
        for (int64_t j = 0; j < N; j++)
            for (int k = 0; k < rank; k++)
                Vt[(size_t)j * rank + k] = vtb[(size_t)j * L + k];
    }
    free(y), free(z), free(b), free(ub), free(s), free(vtb), free(iwork);
    openblas_set_num_threads(blas_threads);
    return status;
}

static double norm2(const float *x, int64_t n, int64_t stride, int sign)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++) {
        double v = x[i * stride] * sign;
        if (v > 0) s += v * v;
    }
    return sqrt(s);
}

int st_nndsvd(const float *V, int n_rows, int64_t n_cols, int rank, int variant, uint64_t seed,
              int n_threads, float *W, float *H)
{
    const int F = n_rows, K = rank;
    const int64_t N = n_cols;
    float *u = malloc((size_t)F * K * sizeof *u), *s = malloc((size_t)K * sizeof *s);
    float *vt = malloc((size_t)K * N * sizeof *vt);
    int status = u && s && vt ? st_randomized_svd(V, F, N, K, seed, n_threads, u, s, vt) : -1;
    for (int j = 0; status == 0 && j < K; j++) {
        const float *x = u + (size_t)j * F, *y = vt + j;
        /* the leading pair is non-negative up to its sign; the others are split
         * into positive and negative parts and the larger product kept */
        int sign = 1;
        double sigma = 1, xn = 1, yn = 1;
        if (j > 0) {
            double xp = norm2(x, F, 1, 1), yp = norm2(y, N, K, 1);
            double xm = norm2(x, F, 1, -1), ym = norm2(y, N, K, -1);
            sign = xp * yp > xm * ym ? 1 : -1;
            xn = sign > 0 ? xp : xm, yn = sign > 0 ? yp : ym;
            sigma = xn * yn;
        }
        double lambda = sqrt((double)s[j] * sigma);
        for (int f = 0; f < F; f++) {
            double v = j == 0 ? fabs(x[f]) : xn > 0 ? fmax(sign * x[f], 0.0) / xn : 0;
            W[(size_t)j * F + f] = (float)(lambda * v);
        }
        for (int64_t t = 0; t < N; t++) {
            double v = j == 0 ? fabs(y[t * K]) : yn > 0 ? fmax(sign * y[t * K], 0.0) / yn : 0;
            H[(size_t)t * K + j] = (float)(lambda * v);
        }
    }
    if (status == 0) {
        double mean = 0;
        for (int64_t i = 0; i < (int64_t)F * N; i++)
            mean += V[i];
        mean /= (double)F * (double)N;
        const float fill = variant == ST_NNDSVDA ? (float)mean : 0.0f;
        for (size_t i = 0; i < (size_t)F * K; i++)
            if (W[i] < 1e-6f) W[i] = fill;
        for (size_t i = 0; i < (size_t)K * N; i++)
            if (H[i] < 1e-6f) H[i] = fill;
    }
    free(u), free(s), free(vt);
    return status;
}
