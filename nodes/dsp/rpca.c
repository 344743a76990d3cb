#include "rpca.h"

#include "lapack.h"
#include "nndsvd.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Above this fraction of the smaller side, LAPACK's whole SVD is cheaper
 * than the warm-started partial one (1025 x 5168: 3.7 s for 400 triplets
 * against 11 s for all, loaded machine; see doc/nmf.md). */
#define PARTIAL_UP_TO 0.5

static float shrink(float x, float tau) { return x > tau ? x - tau : x < -tau ? x + tau : 0.0f; }

/* The thin SVD of the m x n matrix a (destroyed): LAPACK's sgesdd. */
static int exact_svd(float *a, int m, int n, float *u, float *s, float *vt)
{
    const int k = m < n ? m : n;
    int info = 0, lwork = -1;
    float query;
    int *iwork = malloc(sizeof(int) * 8 * (size_t)k);
    if (!iwork) return -1;
    const char jobz = 'S';
    sgesdd_(&jobz, &m, &n, a, &m, s, u, &m, vt, &k, &query, &lwork, iwork, &info);
    lwork = (int)query + 1;
    float *work = malloc(sizeof(float) * (size_t)lwork);
    if (work) sgesdd_(&jobz, &m, &n, a, &m, s, u, &m, vt, &k, work, &lwork, iwork, &info);
    free(work), free(iwork);
    return work && info == 0 ? 0 : -1;
}

int st_rpca(const float *M, int n_rows, int64_t n_cols, float *L, float *S,
            const st_rpca_options *o, st_rpca_result *r)
{
    const int F = n_rows, N = (int)n_cols, min_side = F < N ? F : N;
    const size_t n = (size_t)F * N;
    memset(r, 0, sizeof *r);
    float *y = malloc(sizeof(float) * n), *t = malloc(sizeof(float) * n);
    float *u = malloc(sizeof(float) * (size_t)F * min_side);
    float *s = malloc(sizeof(float) * (size_t)min_side);
    float *vt = malloc(sizeof(float) * (size_t)min_side * N);
    int status = y && t && u && s && vt ? 0 : -1;
    double m_norm = 0, m_inf = 0;
    for (size_t i = 0; i < n; i++) {
        m_norm += (double)M[i] * M[i];
        m_inf = fmax(m_inf, fabs(M[i]));
    }
    m_norm = sqrt(m_norm);
    const double lambda = o->lambda > 0 ? o->lambda : 1 / sqrt((double)(F > N ? F : N));
    /* ||M||_2, the largest singular value */
    float two_norm = 0;
    if (status == 0 && st_randomized_svd(M, F, N, 1, 1, o->n_threads, u, s, vt)) status = -1;
    if (status == 0) two_norm = s[0];
    if (status == 0 && (two_norm <= 0 || m_norm <= 0)) status = -1;
    double mu = 1.25 / two_norm;
    const double mu_bar = mu * 1e7, rho = 1.5;
    const double dual = fmax(two_norm, m_inf / lambda);
    for (size_t i = 0; status == 0 && i < n; i++) {
        y[i] = (float)(M[i] / dual);
        S[i] = 0;
        L[i] = 0;
    }
    int sv = 10 < min_side ? 10 : min_side, stalled = 0, n_prev = 0, ld_prev = 0;
    double best_error = INFINITY;
    for (int it = 1; status == 0 && it <= o->max_iter; it++) {
        const float inv_mu = (float)(1 / mu);
        openblas_set_num_threads(o->n_threads);
        /* L = SVT(M - S + Y / mu, 1 / mu) from the leading sv triplets */
        for (size_t i = 0; i < n; i++)
            t[i] = M[i] - S[i] + y[i] * inv_mu;
        /* A partial SVD while it is cheaper than the whole one. The matrix
         * changes little from one iteration to the next, so the range finder
         * starts from the last right singular vectors (read before vt is
         * overwritten) and one power iteration suffices; the first run has
         * Gaussian starts and two. */
        const int full = sv > PARTIAL_UP_TO * min_side;
        const int asked = full ? min_side : sv; /* Vt's leading dimension */
        if (full ? exact_svd(t, F, N, u, s, vt)
                 : st_randomized_svd_from(t, F, N, sv, 10, n_prev ? 1 : 2, vt, n_prev, ld_prev,
                                          (uint64_t)it, o->n_threads, u, s, vt)) {
            status = -1;
            break;
        }
        n_prev = asked, ld_prev = asked;
        int svp = 0;
        while (svp < asked && s[svp] > inv_mu)
            svp++;
        r->rank = svp;
        sv = svp < asked ? svp + 1 : svp + (int)lround(0.05 * min_side);
        if (sv > min_side) sv = min_side;
        if (sv < 1) sv = 1;
        /* U diag(s - 1/mu) Vt: scale U's columns, one product */
        for (int k = 0; k < svp; k++)
            cblas_sscal(F, s[k] - inv_mu, u + (size_t)k * F, 1);
        if (svp > 0)
            cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, F, N, svp, 1.0f, u, F, vt, asked,
                        0.0f, L, F);
        else
            memset(L, 0, sizeof(float) * n);
        /* S = shrink(M - L + Y / mu, lambda / mu); Y += mu (M - L - S) */
        const float tau = (float)(lambda / mu), fmu = (float)mu;
        double resid = 0;
        for (size_t i = 0; i < n; i++) {
            S[i] = shrink(M[i] - L[i] + y[i] * inv_mu, tau);
            float z = M[i] - L[i] - S[i];
            y[i] += fmu * z;
            resid += (double)z * z;
        }
        mu = fmin(mu * rho, mu_bar);
        r->n_iter = it;
        r->error = sqrt(resid) / m_norm;
        if (o->progress) o->progress(o->progress_data, it, o->max_iter, r->error);
        if (r->error < o->tol) break;
        /* float32 resolves the residual to about 5e-7: once it stops falling
         * (3 iterations without a new low) the tolerance cannot be met */
        if (r->error < best_error) {
            best_error = r->error, stalled = 0;
        } else if (++stalled == 3) {
            break;
        }
    }
    free(y), free(t), free(u), free(s), free(vt);
    return status;
}
