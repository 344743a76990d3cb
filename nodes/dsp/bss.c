#include "bss.h"

#include "../../vm/parallel.h"

#include <complex.h>
#include <fftw3.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* LAPACK, from OpenBLAS */
extern void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info);
extern void dpstrf_(const char *uplo, const int *n, double *a, const int *lda, int *piv,
                    int *rank, const double *tol, double *work, int *info);
extern void openblas_set_num_threads(int n);
extern void dtrsm_(const char *side, const char *uplo, const char *transa, const char *diag,
                   const int *m, const int *n, const double *alpha, const double *a,
                   const int *lda, double *b, const int *ldb);

/* ---- correlations at short lags ----
 * r_xy[tau] = sum_u x[u + tau] y[u] for |tau| < L, from block FFTs: each
 * block of y against the stretch of x around it, the products summed in the
 * frequency domain and transformed back once per pair. */

typedef struct {
    int x, y; /* signal indices */
} pair;

typedef struct {
    int n_signals;
    const double *const *signal;
    int64_t n_samples;
    int lag; /* L: lags -(L-1) .. L-1 */
    int fft_size, block;
    int n_pairs;
    const pair *pairs;
    char *needs_x, *needs_y; /* per signal */
    fftw_plan forward;
    double complex **sum; /* per thread: n_pairs x (fft_size / 2 + 1) */
    int n_threads;
    int failed;
} correlator;

static pthread_mutex_t plan_lock = PTHREAD_MUTEX_INITIALIZER;

static void correlate_blocks(void *ctx, int64_t first, int64_t last, int thread)
{
    correlator *c = ctx;
    const int m = c->fft_size, n_bins = m / 2 + 1, lag = c->lag;
    double *segment = fftw_alloc_real((size_t)m);
    double complex *xf = fftw_alloc_complex((size_t)n_bins * (size_t)c->n_signals);
    double complex *yf = fftw_alloc_complex((size_t)n_bins * (size_t)c->n_signals);
    double complex *sum = c->sum[thread];
    if (!segment || !xf || !yf) {
        c->failed = 1;
        goto done;
    }
    for (int64_t b = first; b < last; b++) {
        int64_t t0 = b * c->block;
        for (int s = 0; s < c->n_signals; s++) {
            const double *v = c->signal[s];
            if (c->needs_x[s]) { /* x[t0 - (L-1) .. t0 - (L-1) + m) */
                for (int i = 0; i < m; i++) {
                    int64_t t = t0 - (lag - 1) + i;
                    segment[i] = t >= 0 && t < c->n_samples ? v[t] : 0.0;
                }
                fftw_execute_dft_r2c(c->forward, segment, (fftw_complex *)(xf + (size_t)s * n_bins));
            }
            if (c->needs_y[s]) { /* y[t0 .. t0 + block), zero padded */
                for (int i = 0; i < m; i++) {
                    int64_t t = t0 + i;
                    segment[i] = i < c->block && t < c->n_samples ? v[t] : 0.0;
                }
                fftw_execute_dft_r2c(c->forward, segment, (fftw_complex *)(yf + (size_t)s * n_bins));
            }
        }
        for (int p = 0; p < c->n_pairs; p++) {
            const double complex *x = xf + (size_t)c->pairs[p].x * n_bins;
            const double complex *y = yf + (size_t)c->pairs[p].y * n_bins;
            double complex *acc = sum + (size_t)p * n_bins;
            for (int k = 0; k < n_bins; k++) acc[k] += x[k] * conj(y[k]);
        }
    }
done:
    fftw_free(segment);
    fftw_free(xf);
    fftw_free(yf);
}

typedef struct {
    correlator *c;
    int64_t n_blocks;
} block_split;

static void correlate_thread(void *ctx, int64_t begin, int64_t end)
{
    block_split *s = ctx;
    /* one range per thread: begin / (range size) names the thread */
    for (int64_t t = begin; t < end; t++)
        correlate_blocks(s->c, s->n_blocks * t / s->c->n_threads,
                         s->n_blocks * (t + 1) / s->c->n_threads, (int)t);
}

/* lags[p][tau + L - 1] for each pair p. Returns NULL when memory is short. */
static double *correlate(const double *const *signal, int n_signals, int64_t n_samples, int lag,
                         const pair *pairs, int n_pairs, int n_threads)
{
    correlator c = {.n_signals = n_signals, .signal = signal, .n_samples = n_samples, .lag = lag,
                    .n_pairs = n_pairs, .pairs = pairs, .n_threads = n_threads};
    c.fft_size = 1024;
    while (c.fft_size < 16 * lag) c.fft_size *= 2;
    c.block = c.fft_size - 2 * (lag - 1);
    int n_bins = c.fft_size / 2 + 1;
    int64_t n_blocks = (n_samples + c.block - 1) / c.block;
    if (c.n_threads > n_blocks) c.n_threads = (int)(n_blocks ? n_blocks : 1);
    if (c.n_threads < 1) c.n_threads = 1;
    double *lags = calloc((size_t)n_pairs * (size_t)(2 * lag - 1), sizeof *lags);
    c.needs_x = calloc((size_t)n_signals, 1);
    c.needs_y = calloc((size_t)n_signals, 1);
    c.sum = calloc((size_t)c.n_threads, sizeof *c.sum);
    double *segment = fftw_alloc_real((size_t)c.fft_size);
    double complex *spectrum = fftw_alloc_complex((size_t)n_bins);
    int ok = lags && c.needs_x && c.needs_y && c.sum && segment && spectrum;
    for (int t = 0; ok && t < c.n_threads; t++)
        ok = (c.sum[t] = calloc((size_t)n_pairs * (size_t)n_bins, sizeof(double complex))) != NULL;
    fftw_plan inverse = NULL;
    if (ok) {
        pthread_mutex_lock(&plan_lock);
        c.forward = fftw_plan_dft_r2c_1d(c.fft_size, segment, (fftw_complex *)spectrum, FFTW_ESTIMATE);
        inverse = fftw_plan_dft_c2r_1d(c.fft_size, (fftw_complex *)spectrum, segment, FFTW_ESTIMATE);
        pthread_mutex_unlock(&plan_lock);
        ok = c.forward && inverse;
    }
    if (ok) {
        for (int p = 0; p < n_pairs; p++) {
            c.needs_x[pairs[p].x] = 1;
            c.needs_y[pairs[p].y] = 1;
        }
        block_split split = {&c, n_blocks};
        st_parallel_for(c.n_threads, c.n_threads, correlate_thread, &split);
        ok = !c.failed;
    }
    for (int p = 0; ok && p < n_pairs; p++) {
        for (int k = 0; k < n_bins; k++) {
            double complex total = 0;
            for (int t = 0; t < c.n_threads; t++) total += c.sum[t][(size_t)p * n_bins + k];
            spectrum[k] = total;
        }
        fftw_execute_dft_c2r(inverse, (fftw_complex *)spectrum, segment);
        /* circular index tau + L - 1 holds lag tau */
        for (int i = 0; i < 2 * lag - 1; i++)
            lags[(size_t)p * (2 * lag - 1) + i] = segment[i] / c.fft_size;
    }
    pthread_mutex_lock(&plan_lock);
    if (c.forward) fftw_destroy_plan(c.forward);
    if (inverse) fftw_destroy_plan(inverse);
    pthread_mutex_unlock(&plan_lock);
    for (int t = 0; c.sum && t < c.n_threads; t++) free(c.sum[t]);
    free(c.sum);
    free(c.needs_x);
    free(c.needs_y);
    fftw_free(segment);
    fftw_free(spectrum);
    if (!ok) {
        free(lags);
        return NULL;
    }
    return lags;
}

/* ---- projections ---- */

/* A factorization of a Gram matrix that tolerates a singular one: Cholesky,
 * or pivoted Cholesky keeping the numerical rank. */
typedef struct {
    int n, rank;
    double *u;  /* n x n, column-major, upper factor */
    int *piv;   /* 1-based, or NULL when not pivoted */
} gram_factor;

static int factor(double *g, int n, gram_factor *f, int n_threads)
{
    /* OpenBLAS's threads spin after each call; below this size they cost more than they save */
    openblas_set_num_threads(n < 2048 ? 1 : n_threads);
    f->n = n;
    f->u = g;
    f->piv = NULL;
    f->rank = n;
    double *copy = malloc((size_t)n * (size_t)n * sizeof *copy);
    if (!copy) return -1;
    memcpy(copy, g, (size_t)n * (size_t)n * sizeof *copy);
    int info;
    dpotrf_("U", &n, g, &n, &info);
    if (info == 0) {
        free(copy);
        return 0;
    }
    /* singular or nearly: pivoted Cholesky finds the rank */
    memcpy(g, copy, (size_t)n * (size_t)n * sizeof *copy);
    free(copy);
    double tol = -1;
    double *work = malloc(2 * (size_t)n * sizeof *work);
    f->piv = malloc((size_t)n * sizeof *f->piv);
    if (!work || !f->piv) {
        free(work);
        return -1;
    }
    dpstrf_("U", &n, g, &n, f->piv, &f->rank, &tol, work, &info);
    free(work);
    return info < 0 ? -1 : 0;
}

/* d' G^-1 d for each column of d (n x n_cols, column-major; overwritten):
 * with G = U'U (after pivoting), it is the squared norm of U^-T d. */
static void projected_energy(const gram_factor *f, double *d, int n_cols, double *energy)
{
    int n = f->n, r = f->rank;
    double one = 1;
    if (f->piv) { /* permute rows: d <- P' d */
        double *tmp = malloc((size_t)n * sizeof *tmp);
        for (int c = 0; tmp && c < n_cols; c++) {
            double *col = d + (size_t)c * n;
            for (int i = 0; i < n; i++) tmp[i] = col[f->piv[i] - 1];
            memcpy(col, tmp, (size_t)n * sizeof *tmp);
        }
        free(tmp);
    }
    if (r > 0) dtrsm_("L", "U", "T", "N", &r, &n_cols, &one, f->u, &n, d, &n);
    for (int c = 0; c < n_cols; c++) {
        double sum = 0;
        for (int i = 0; i < r; i++) sum += d[(size_t)c * n + i] * d[(size_t)c * n + i];
        energy[c] = sum;
    }
}

int st_bss_any_silent(const double *const *signals, int n_src, int n_chan, int64_t n_samples)
{
    for (int s = 0; s < n_src; s++) {
        int silent = 1;
        for (int c = 0; c < n_chan && silent; c++)
            for (int64_t t = 0; t < n_samples && silent; t++)
                if (signals[s * n_chan + c][t] != 0) silent = 0;
        if (silent) return 1;
    }
    return 0;
}

/* Energies found as differences can come out a hair below zero where the
 * true value is zero (an estimate inside the span of the references); they
 * are zero then, and the ratio infinite, as mir_eval's _safe_db makes it. */
static double safe_db(double num, double den)
{
    if (den <= 0) return INFINITY;
    return 10 * log10(num / den);
}

static double dot(const double *a, const double *b, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

/* Next permutation in lexicographic order (itertools' order); 0 at the end. */
static int next_permutation(int *p, int n)
{
    int i = n - 2;
    while (i >= 0 && p[i] >= p[i + 1]) i--;
    if (i < 0) return 0;
    int j = n - 1;
    while (p[j] <= p[i]) j--;
    int t = p[i];
    p[i] = p[j];
    p[j] = t;
    for (int a = i + 1, b = n - 1; a < b; a++, b--) {
        t = p[a];
        p[a] = p[b];
        p[b] = t;
    }
    return 1;
}

int st_bss_eval(const st_bss_input *in, st_bss_scores *out, char *error, size_t error_size)
{
    const int n_src = in->n_src, n_chan = in->n_chan, flen = in->filter_length;
    const int n_rows = n_src * n_chan; /* reference signals */
    const int64_t n = in->n_samples;
    if (n_src < 1 || n_src > ST_BSS_MAX_SOURCES || n_chan < 1 || n_rows > 512) {
        snprintf(error, error_size, "%d sources of %d channels: at most %d sources and 512 signals",
                 n_src, n_chan, ST_BSS_MAX_SOURCES);
        return -1;
    }
    if (in->permute && n_src > 10) {
        snprintf(error, error_size, "%d sources: the permutation search stops at 10", n_src);
        return -1;
    }
    if (st_bss_any_silent(in->ref, n_src, n_chan, n)) {
        snprintf(error, error_size, "a reference source is silent (all zeros), which makes the evaluation ambiguous");
        return -1;
    }
    if (st_bss_any_silent(in->est, n_src, n_chan, n)) {
        snprintf(error, error_size, "an estimated source is silent (all zeros), which leaves the system underdetermined");
        return -1;
    }
    /* Reference rows that repeat an earlier one (a mono source copied to
     * every channel) add nothing to the span, only singularity: drop them. */
    int *keep = malloc((size_t)n_rows * sizeof *keep), n_keep = 0;
    int *src_of = malloc((size_t)n_rows * sizeof *src_of);
    const double **signals = malloc((size_t)(n_rows * 2) * sizeof *signals);
    if (!keep || !src_of || !signals) goto oom;
    for (int r = 0; r < n_rows; r++) {
        int duplicate = 0;
        for (int k = 0; k < n_keep && !duplicate; k++)
            duplicate = memcmp(in->ref[keep[k]], in->ref[r], (size_t)n * sizeof(double)) == 0;
        if (!duplicate) keep[n_keep++] = r;
    }
    for (int k = 0; k < n_keep; k++) {
        signals[k] = in->ref[keep[k]];
        src_of[k] = keep[k] / n_chan;
    }
    for (int e = 0; e < n_rows; e++) signals[n_keep + e] = in->est[e];

    /* pairs: references among themselves (upper triangle), references x estimates */
    int n_pairs = n_keep * (n_keep + 1) / 2 + n_keep * n_rows, p = 0;
    pair *pairs = malloc((size_t)n_pairs * sizeof *pairs);
    if (!pairs) goto oom;
    for (int i = 0; i < n_keep; i++)
        for (int j = i; j < n_keep; j++) pairs[p++] = (pair){i, j};
    for (int k = 0; k < n_keep; k++)
        for (int e = 0; e < n_rows; e++) pairs[p++] = (pair){k, n_keep + e};
    double *lags = correlate(signals, n_keep + n_rows, n, flen, pairs, n_pairs, in->n_threads);
    free(pairs);
    if (!lags) goto oom;
    const int n_lags = 2 * flen - 1;

    /* G[(i, a), (j, b)] = r_ij[b - a]; D[(k, a), e] = r_ke[-a] */
    int dim = n_keep * flen;
    double *g = malloc((size_t)dim * (size_t)dim * sizeof *g);
    double *d = malloc((size_t)dim * (size_t)n_rows * sizeof *d);
    double *energy_all = malloc((size_t)n_rows * sizeof *energy_all);
    double *energy_own = malloc((size_t)n_rows * (size_t)n_src * sizeof *energy_own); /* [e][j] */
    if (!g || !d || !energy_all || !energy_own) {
        free(g), free(d), free(energy_all), free(energy_own), free(lags);
        goto oom;
    }
    int tri_base[512];
    for (int i = 0, base = 0; i < n_keep; i++) {
        tri_base[i] = base;
        base += n_keep - i;
    }
#define TRI(i, j) (tri_base[i] + (j) - (i))
    for (int i = 0; i < n_keep; i++)
        for (int j = 0; j < n_keep; j++)
            for (int b = 0; b < flen; b++)
                for (int a = 0; a < flen; a++) {
                    int tau = b - a;
                    double v = i <= j ? lags[(size_t)TRI(i, j) * n_lags + tau + flen - 1]
                                      : lags[(size_t)TRI(j, i) * n_lags - tau + flen - 1];
                    g[(size_t)(j * flen + b) * dim + (i * flen + a)] = v;
                }
    const size_t d_base = (size_t)(n_keep * (n_keep + 1) / 2);
    for (int e = 0; e < n_rows; e++)
        for (int k = 0; k < n_keep; k++)
            for (int a = 0; a < flen; a++)
                d[(size_t)e * dim + k * flen + a] =
                    lags[(d_base + (size_t)k * n_rows + e) * n_lags - a + flen - 1];

    /* the same, restricted to each source's own rows */
    int status = 0;
    for (int j = 0; j < n_src && !status; j++) {
        int rows[512], n_own = 0;
        for (int k = 0; k < n_keep; k++)
            if (src_of[k] == j) rows[n_own++] = k;
        int dj = n_own * flen;
        double *gj = malloc((size_t)dj * (size_t)dj * sizeof *gj);
        double *dd = malloc((size_t)dj * (size_t)n_rows * sizeof *dd);
        double *en = malloc((size_t)n_rows * sizeof *en);
        gram_factor f = {0};
        if (!gj || !dd || !en) status = -1;
        for (int x = 0; !status && x < n_own; x++)
            for (int y = 0; y < n_own; y++)
                for (int b = 0; b < flen; b++)
                    memcpy(gj + (size_t)(y * flen + b) * dj + x * flen,
                           g + (size_t)(rows[y] * flen + b) * dim + rows[x] * flen, (size_t)flen * sizeof *gj);
        for (int e = 0; !status && e < n_rows; e++)
            for (int x = 0; x < n_own; x++)
                memcpy(dd + (size_t)e * dj + x * flen, d + (size_t)e * dim + rows[x] * flen,
                       (size_t)flen * sizeof *dd);
        if (!status && factor(gj, dj, &f, in->n_threads) == 0) {
            projected_energy(&f, dd, n_rows, en);
            for (int e = 0; e < n_rows; e++) energy_own[(size_t)e * n_src + j] = en[e];
        } else {
            status = -1;
        }
        free(f.piv);
        free(gj);
        free(dd);
        free(en);
    }
    gram_factor f = {0};
    if (!status && factor(g, dim, &f, in->n_threads) == 0)
        projected_energy(&f, d, n_rows, energy_all);
    else
        status = -1;
    free(f.piv);
    free(g);
    free(d);
    free(lags);
    if (status) {
        free(energy_all), free(energy_own);
        goto oom;
    }

    /* criteria for every (estimate, reference) pair */
    double *sdr = malloc(sizeof(double) * n_src * n_src), *sir = malloc(sizeof(double) * n_src * n_src);
    double *sar = malloc(sizeof(double) * n_src * n_src), *isr = malloc(sizeof(double) * n_src * n_src);
    if (!sdr || !sir || !sar || !isr) {
        free(sdr), free(sir), free(sar), free(isr), free(energy_all), free(energy_own);
        goto oom;
    }
    for (int je = 0; je < n_src; je++)
        for (int jt = 0; jt < n_src; jt++) {
            double e_est = 0, e_ref = 0, cross = 0, p_all = 0, p_own = 0;
            for (int c = 0; c < n_chan; c++) {
                const double *x = in->est[je * n_chan + c], *s = in->ref[jt * n_chan + c];
                e_est += dot(x, x, n);
                e_ref += dot(s, s, n);
                cross += dot(x, s, n);
                p_all += energy_all[je * n_chan + c];
                p_own += energy_own[(size_t)(je * n_chan + c) * n_src + jt];
            }
            int k = je * n_src + jt;
            sir[k] = safe_db(p_own, p_all - p_own);
            sar[k] = safe_db(p_all, e_est - p_all);
            if (in->images) {
                sdr[k] = safe_db(e_ref, e_est - 2 * cross + e_ref);
                isr[k] = safe_db(e_ref, p_own - 2 * cross + e_ref);
            } else {
                sdr[k] = safe_db(p_own, e_est - p_own);
                isr[k] = NAN;
            }
        }
    free(energy_all);
    free(energy_own);

    /* the estimate order with the best mean SIR; the first found on ties */
    int perm[16], best[16];
    for (int i = 0; i < n_src; i++) perm[i] = best[i] = i;
    if (in->permute) {
        double best_sir = -INFINITY;
        do {
            double mean = 0;
            /* capped, so that one infinite SIR (a perfect estimate) does not make
             * every order that contains it tie with the right one */
            for (int i = 0; i < n_src; i++) mean += fmin(sir[perm[i] * n_src + i], 300.0);
            if (mean > best_sir) {
                best_sir = mean;
                memcpy(best, perm, sizeof perm);
            }
        } while (next_permutation(perm, n_src));
    }
    for (int i = 0; i < n_src; i++) {
        int k = best[i] * n_src + i;
        out->sdr[i] = sdr[k];
        out->sir[i] = sir[k];
        out->sar[i] = sar[k];
        out->isr[i] = isr[k];
        out->perm[i] = best[i];
    }
    free(sdr), free(sir), free(sar), free(isr);
    free(keep), free(src_of), free(signals);
    return 0;
oom:
    free(keep), free(src_of), free(signals);
    snprintf(error, error_size, "out of memory (or a failed factorization) evaluating %d sources", n_src);
    return -1;
}
