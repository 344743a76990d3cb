#include "bss.h"
#include "fft.h"
#include "lapack.h"

#include "../../vm/parallel.h"

#include <complex.h>
#include <fftw3.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
                fftw_execute_dft_r2c(c->forward, segment,
                                     (fftw_complex *)(xf + (size_t)s * n_bins));
            }
            if (c->needs_y[s]) { /* y[t0 .. t0 + block), zero padded */
                for (int i = 0; i < m; i++) {
                    int64_t t = t0 + i;
                    segment[i] = i < c->block && t < c->n_samples ? v[t] : 0.0;
                }
                fftw_execute_dft_r2c(c->forward, segment,
                                     (fftw_complex *)(yf + (size_t)s * n_bins));
            }
        }
        for (int p = 0; p < c->n_pairs; p++) {
            const double complex *x = xf + (size_t)c->pairs[p].x * n_bins;
            const double complex *y = yf + (size_t)c->pairs[p].y * n_bins;
            double complex *acc = sum + (size_t)p * n_bins;
            for (int k = 0; k < n_bins; k++)
                acc[k] += x[k] * conj(y[k]);
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
    correlator c = {.n_signals = n_signals,
                    .signal = signal,
                    .n_samples = n_samples,
                    .lag = lag,
                    .n_pairs = n_pairs,
                    .pairs = pairs,
                    .n_threads = n_threads};
    c.fft_size = 1024;
    while (c.fft_size < 16 * lag)
        c.fft_size *= 2;
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
        st_fft_planner_lock();
        c.forward =
            fftw_plan_dft_r2c_1d(c.fft_size, segment, (fftw_complex *)spectrum, FFTW_ESTIMATE);
        inverse =
            fftw_plan_dft_c2r_1d(c.fft_size, (fftw_complex *)spectrum, segment, FFTW_ESTIMATE);
        st_fft_planner_unlock();
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
            for (int t = 0; t < c.n_threads; t++)
                total += c.sum[t][(size_t)p * n_bins + k];
            spectrum[k] = total;
        }
        fftw_execute_dft_c2r(inverse, (fftw_complex *)spectrum, segment);
        /* circular index tau + L - 1 holds lag tau */
        for (int i = 0; i < 2 * lag - 1; i++)
            lags[(size_t)p * (2 * lag - 1) + i] = segment[i] / c.fft_size;
    }
    st_fft_planner_lock();
    if (c.forward) fftw_destroy_plan(c.forward);
    if (inverse) fftw_destroy_plan(inverse);
    st_fft_planner_unlock();
    for (int t = 0; c.sum && t < c.n_threads; t++)
        free(c.sum[t]);
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
    double *u; /* n x n, column-major, upper factor */
    int *piv;  /* 1-based, or NULL when not pivoted */
} gram_factor;

/* Why an evaluation stopped, so that its message names one cause. */
enum { NO_MEMORY = -1, NO_FACTOR = -2 };

static const char *failure(int status)
{
    return status == NO_FACTOR ? "the Cholesky factorization of the Gram matrix failed (are the "
                                 "signals finite?)"
                               : "out of memory";
}

/* 0, NO_MEMORY or NO_FACTOR. */
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
    return info < 0 ? NO_FACTOR : 0;
}

/* Rows of d (n x n_cols, column-major) in the factor's pivot order: d <- P' d. */
static void pivot_rows(const gram_factor *f, double *d, int n_cols)
{
    int n = f->n;
    double *tmp = malloc((size_t)n * sizeof *tmp);
    for (int c = 0; tmp && c < n_cols; c++) {
        double *col = d + (size_t)c * n;
        for (int i = 0; i < n; i++)
            tmp[i] = col[f->piv[i] - 1];
        memcpy(col, tmp, (size_t)n * sizeof *tmp);
    }
    free(tmp);
}

/* d' G^-1 d for each column of d (n x n_cols, column-major; overwritten):
 * with G = U'U (after pivoting), it is the squared norm of U^-T d. */
static void projected_energy(const gram_factor *f, double *d, int n_cols, double *energy)
{
    int n = f->n, r = f->rank;
    double one = 1;
    if (f->piv) pivot_rows(f, d, n_cols);
    if (r > 0) dtrsm_("L", "U", "T", "N", &r, &n_cols, &one, f->u, &n, d, &n);
    for (int c = 0; c < n_cols; c++) {
        double sum = 0;
        for (int i = 0; i < r; i++)
            sum += d[(size_t)c * n + i] * d[(size_t)c * n + i];
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
        if (silent) return s + 1;
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
    for (int64_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* Next permutation in lexicographic order (itertools' order); 0 at the end. */
static int next_permutation(int *p, int n)
{
    int i = n - 2;
    while (i >= 0 && p[i] >= p[i + 1])
        i--;
    if (i < 0) return 0;
    int j = n - 1;
    while (p[j] <= p[i])
        j--;
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

static int check_input(const st_bss_input *in, char *error, size_t error_size)
{
    const int n_src = in->n_src, n_chan = in->n_chan;
    if (n_src < 1 || n_src > ST_BSS_MAX_SOURCES || n_chan < 1 || n_src * n_chan > 512) {
        snprintf(error, error_size, "%d sources of %d channels: at most %d sources and 512 signals",
                 n_src, n_chan, ST_BSS_MAX_SOURCES);
        return -1;
    }
    if (in->permute && n_src > 10) {
        snprintf(error, error_size, "%d sources: the permutation search stops at 10", n_src);
        return -1;
    }
    int silent = st_bss_any_silent(in->ref, n_src, n_chan, in->n_samples);
    if (silent) {
        snprintf(error, error_size,
                 "reference source %d is silent (all zeros), which makes the evaluation ambiguous",
                 silent);
        return -1;
    }
    /* a source each of whose channels repeats a channel of an earlier source
     * has no rows of its own in the system (build_system drops repeated rows) */
    const size_t row_bytes = (size_t)in->n_samples * sizeof(double);
    for (int j = 1; j < n_src; j++) {
        int twin = -1, all = 1;
        for (int c = 0; c < n_chan && all; c++) {
            int found = -1;
            for (int r = 0; r < j * n_chan && found < 0; r++)
                if (memcmp(in->ref[j * n_chan + c], in->ref[r], row_bytes) == 0) found = r / n_chan;
            all = found >= 0;
            if (twin < 0) twin = found;
        }
        if (all) {
            snprintf(error, error_size,
                     "reference source %d repeats source %d, which makes the evaluation ambiguous",
                     j + 1, twin + 1);
            return -1;
        }
    }
    silent = st_bss_any_silent(in->est, n_src, n_chan, in->n_samples);
    if (silent) {
        snprintf(
            error, error_size,
            "estimated source %d is silent (all zeros), which leaves the system underdetermined",
            silent);
        return -1;
    }
    return 0;
}

/* The least-squares systems: G (the Gram matrix of the delayed references)
 * and D (their inner products with every estimate signal), column-major.
 * Reference rows that repeat an earlier one (a mono source copied to every
 * channel) add nothing to the span, only singularity: they are dropped. */
typedef struct {
    int n_keep, dim, n_cols, flen;
    int keep[512], src_of[512];
    double *g; /* dim x dim */
    double *d; /* dim x n_cols; column e is estimate signal e */
} bss_system;

static void free_system(bss_system *s)
{
    free(s->g);
    free(s->d);
}

static int build_system(const st_bss_input *in, bss_system *s)
{
    const int n_rows = in->n_src * in->n_chan, flen = in->filter_length;
    const int64_t n = in->n_samples;
    memset(s, 0, sizeof *s);
    s->flen = flen;
    s->n_cols = n_rows;
    for (int r = 0; r < n_rows; r++) {
        int duplicate = 0;
        for (int k = 0; k < s->n_keep && !duplicate; k++)
            duplicate = memcmp(in->ref[s->keep[k]], in->ref[r], (size_t)n * sizeof(double)) == 0;
        if (!duplicate) {
            s->src_of[s->n_keep] = r / in->n_chan;
            s->keep[s->n_keep++] = r;
        }
    }
    const int n_keep = s->n_keep, n_lags = 2 * flen - 1;
    const double *signals[1024];
    for (int k = 0; k < n_keep; k++)
        signals[k] = in->ref[s->keep[k]];
    for (int e = 0; e < n_rows; e++)
        signals[n_keep + e] = in->est[e];
    /* pairs: references among themselves (upper triangle), references x estimates */
    int n_pairs = n_keep * (n_keep + 1) / 2 + n_keep * n_rows, p = 0, tri_base[512];
    pair *pairs = malloc((size_t)n_pairs * sizeof *pairs);
    if (!pairs) return -1;
    for (int i = 0; i < n_keep; i++) {
        tri_base[i] = p;
        for (int j = i; j < n_keep; j++)
            pairs[p++] = (pair){i, j};
    }
    for (int k = 0; k < n_keep; k++)
        for (int e = 0; e < n_rows; e++)
            pairs[p++] = (pair){k, n_keep + e};
    double *lags = correlate(signals, n_keep + n_rows, n, flen, pairs, n_pairs, in->n_threads);
    free(pairs);
    s->dim = n_keep * flen;
    s->g = malloc((size_t)s->dim * (size_t)s->dim * sizeof *s->g);
    s->d = malloc((size_t)s->dim * (size_t)n_rows * sizeof *s->d);
    if (!lags || !s->g || !s->d) {
        free(lags);
        free_system(s);
        return -1;
    }
    /* G[(i, a), (j, b)] = r_ij[b - a]; D[(k, a), e] = r_ke[-a] */
    const int dim = s->dim;
    for (int i = 0; i < n_keep; i++)
        for (int j = 0; j < n_keep; j++)
            for (int b = 0; b < flen; b++)
                for (int a = 0; a < flen; a++) {
                    int tau = b - a;
                    double v = i <= j
                                   ? lags[(size_t)(tri_base[i] + j - i) * n_lags + tau + flen - 1]
                                   : lags[(size_t)(tri_base[j] + i - j) * n_lags - tau + flen - 1];
                    s->g[(size_t)(j * flen + b) * dim + (i * flen + a)] = v;
                }
    const size_t d_base = (size_t)(n_keep * (n_keep + 1) / 2);
    for (int e = 0; e < n_rows; e++)
        for (int k = 0; k < n_keep; k++)
            for (int a = 0; a < flen; a++)
                s->d[(size_t)e * dim + k * flen + a] =
                    lags[(d_base + (size_t)k * n_rows + e) * n_lags - a + flen - 1];
    free(lags);
    return 0;
}

/* The rows of source j (its kept reference signals), and G, D restricted to them. */
static int own_system(const bss_system *s, int j, int *rows, double **g, double **d)
{
    int n_own = 0, flen = s->flen;
    for (int k = 0; k < s->n_keep; k++)
        if (s->src_of[k] == j) rows[n_own++] = k;
    int dj = n_own * flen;
    *g = malloc((size_t)dj * (size_t)dj * sizeof **g);
    *d = malloc((size_t)dj * (size_t)s->n_cols * sizeof **d);
    if (!*g || !*d) {
        free(*g), free(*d);
        return -1;
    }
    for (int x = 0; x < n_own; x++)
        for (int y = 0; y < n_own; y++)
            for (int b = 0; b < flen; b++)
                memcpy(*g + (size_t)(y * flen + b) * dj + x * flen,
                       s->g + (size_t)(rows[y] * flen + b) * s->dim + rows[x] * flen,
                       (size_t)flen * sizeof **g);
    for (int e = 0; e < s->n_cols; e++)
        for (int x = 0; x < n_own; x++)
            memcpy(*d + (size_t)e * dj + x * flen, s->d + (size_t)e * s->dim + rows[x] * flen,
                   (size_t)flen * sizeof **d);
    return n_own;
}

/* Chooses the estimate order with the best mean SIR (scores [je][jt], averaged
 * over windows), the first found on ties, as mir_eval's argmax. */
static void best_order(const double *sir, int n_src, int64_t n_win, int permute, int *best)
{
    int perm[ST_BSS_MAX_SOURCES];
    for (int i = 0; i < n_src; i++)
        perm[i] = best[i] = i;
    if (!permute) return;
    double best_sir = -INFINITY;
    do {
        double mean = 0;
        /* capped, so that one infinite SIR (a perfect estimate) does not make
         * every order that contains it tie with the right one */
        for (int i = 0; i < n_src; i++)
            for (int64_t w = 0; w < n_win; w++)
                mean += fmin(sir[((size_t)perm[i] * n_src + i) * n_win + w], 300.0);
        if (mean > best_sir) {
            best_sir = mean;
            memcpy(best, perm, sizeof(int) * n_src);
        }
    } while (next_permutation(perm, n_src));
}

int st_bss_eval(const st_bss_input *in, st_bss_scores *out, char *error, size_t error_size)
{
    const int n_src = in->n_src, n_chan = in->n_chan, n_rows = n_src * n_chan;
    const int64_t n = in->n_samples;
    if (check_input(in, error, error_size)) return -1;
    bss_system s;
    if (build_system(in, &s)) {
        snprintf(error, error_size, "out of memory evaluating %d sources", n_src);
        return -1;
    }
    double *energy_all = malloc((size_t)n_rows * sizeof *energy_all);
    double *energy_own = malloc((size_t)n_rows * (size_t)n_src * sizeof *energy_own); /* [e][j] */
    double *sdr = calloc((size_t)n_src * n_src, sizeof(double)),
           *sir = calloc((size_t)n_src * n_src, sizeof(double));
    double *sar = calloc((size_t)n_src * n_src, sizeof(double)),
           *isr = calloc((size_t)n_src * n_src, sizeof(double));
    int status = energy_all && energy_own && sdr && sir && sar && isr ? 0 : -1;
    /* ||P e||^2 = d' G^-1 d, for each source's own rows and for all */
    for (int j = 0; j < n_src && !status; j++) {
        int rows[512];
        double *gj, *dj, *en = malloc((size_t)n_rows * sizeof *en);
        int n_own = en ? own_system(&s, j, rows, &gj, &dj) : -1;
        gram_factor f = {0};
        if (n_own < 0)
            status = NO_MEMORY;
        else
            status = factor(gj, n_own * s.flen, &f, in->n_threads);
        if (!status) {
            projected_energy(&f, dj, n_rows, en);
            for (int e = 0; e < n_rows; e++)
                energy_own[(size_t)e * n_src + j] = en[e];
        }
        if (n_own >= 0) free(gj), free(dj);
        free(f.piv);
        free(en);
    }
    gram_factor f = {0};
    if (!status) status = factor(s.g, s.dim, &f, in->n_threads);
    if (!status) projected_energy(&f, s.d, n_rows, energy_all);
    free(f.piv);
    free_system(&s);
    for (int je = 0; je < n_src && !status; je++)
        for (int jt = 0; jt < n_src; jt++) {
            double e_est = 0, e_ref = 0, cross = 0, p_all = 0, p_own = 0;
            for (int c = 0; c < n_chan; c++) {
                const double *x = in->est[je * n_chan + c], *r = in->ref[jt * n_chan + c];
                e_est += dot(x, x, n);
                e_ref += dot(r, r, n);
                cross += dot(x, r, n);
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
    if (!status) {
        int best[ST_BSS_MAX_SOURCES];
        best_order(sir, n_src, 1, in->permute, best);
        for (int i = 0; i < n_src; i++) {
            int k = best[i] * n_src + i;
            out->sdr[i] = sdr[k], out->sir[i] = sir[k], out->sar[i] = sar[k], out->isr[i] = isr[k];
            out->perm[i] = best[i];
        }
    }
    free(energy_all), free(energy_own), free(sdr), free(sir), free(sar), free(isr);
    if (!status) return 0;
    snprintf(error, error_size, "%s evaluating %d sources", failure(status), n_src);
    return -1;
}

/* ---- v4: filters fitted once, then framewise energies ---- */

/* Solves G X = D in place of D (n x n_cols), with the factor of G. */
static void solve(const gram_factor *f, double *d, int n_cols)
{
    int n = f->n, r = f->rank, info;
    double one = 1;
    if (!f->piv) {
        dpotrs_("U", &n, &n_cols, f->u, &n, d, &n, &info);
        return;
    }
    pivot_rows(f, d, n_cols);
    double *tmp = malloc((size_t)n * sizeof *tmp);
    if (r > 0) {
        dtrsm_("L", "U", "T", "N", &r, &n_cols, &one, f->u, &n, d, &n);
        dtrsm_("L", "U", "N", "N", &r, &n_cols, &one, f->u, &n, d, &n);
    }
    for (int c = 0; tmp && c < n_cols;
         c++) { /* the basic solution: zeros past the rank, then unpivot */
        double *col = d + (size_t)c * n;
        for (int i = r; i < n; i++)
            col[i] = 0;
        memcpy(tmp, col, (size_t)n * sizeof *tmp);
        for (int i = 0; i < n; i++)
            col[f->piv[i] - 1] = tmp[i];
    }
    free(tmp);
}

/* sum over rows k of conv(filter_k, ref_k)[0, length): by FFT, with the
 * references' spectra made once. */
typedef struct {
    int n_fft;
    fftw_plan forward, inverse;
    double *real;
    double complex *spec, *acc;
} convolver;

static void project(convolver *cv, const double complex *const *ref_spec, const int *rows,
                    int n_rows, const double *x, int flen, double *out, int64_t length)
{
    const int n_bins = cv->n_fft / 2 + 1;
    memset(cv->acc, 0, (size_t)n_bins * sizeof *cv->acc);
    for (int k = 0; k < n_rows; k++) {
        memset(cv->real, 0, (size_t)cv->n_fft * sizeof *cv->real);
        memcpy(cv->real, x + (size_t)k * flen, (size_t)flen * sizeof *cv->real);
        fftw_execute_dft_r2c(cv->forward, cv->real, (fftw_complex *)cv->spec);
        const double complex *r = ref_spec[rows[k]];
        for (int b = 0; b < n_bins; b++)
            cv->acc[b] += cv->spec[b] * r[b];
    }
    fftw_execute_dft_c2r(cv->inverse, (fftw_complex *)cv->acc, cv->real);
    for (int64_t t = 0; t < length; t++)
        out[t] = cv->real[t] / cv->n_fft;
}

int st_bss_eval_v4(const st_bss_input *in, int64_t window, int64_t hop, st_bss_scores *out,
                   int64_t *n_win_out, char *error, size_t error_size)
{
    const int n_src = in->n_src, n_chan = in->n_chan, n_rows = n_src * n_chan,
              flen = in->filter_length;
    const int64_t n = in->n_samples, length = n + flen - 1;
    if (check_input(in, error, error_size)) return -1;
    int64_t n_win = window >= n || window <= 0 ? 1 : (n - window + hop) / hop;
    if (n_win < 1) n_win = 1;
    *n_win_out = n_win;
    bss_system s;
    if (build_system(in, &s)) goto oom_early;
    /* filters: on all references, and on each source's own */
    int status = 0, own_rows[ST_BSS_MAX_SOURCES][512], n_own[ST_BSS_MAX_SOURCES];
    double *own_filters[ST_BSS_MAX_SOURCES] = {0};
    for (int j = 0; j < n_src && !status; j++) {
        double *gj;
        gram_factor f = {0};
        n_own[j] = own_system(&s, j, own_rows[j], &gj, &own_filters[j]);
        status = n_own[j] < 0 ? NO_MEMORY : factor(gj, n_own[j] * flen, &f, in->n_threads);
        if (!status) solve(&f, own_filters[j], n_rows);
        if (n_own[j] >= 0) free(gj);
        free(f.piv);
    }
    gram_factor f = {0};
    if (!status) status = factor(s.g, s.dim, &f, in->n_threads);
    if (!status) solve(&f, s.d, n_rows);
    free(f.piv);
    /* spectra of the kept references */
    convolver cv = {.n_fft = 1};
    while (cv.n_fft < length + flen)
        cv.n_fft *= 2;
    const int n_bins = cv.n_fft / 2 + 1;
    double complex *ref_spec[512] = {0};
    cv.real = fftw_alloc_real((size_t)cv.n_fft);
    cv.spec = fftw_alloc_complex((size_t)n_bins);
    cv.acc = fftw_alloc_complex((size_t)n_bins);
    double *p_all = malloc((size_t)length * sizeof(double)),
           *p_own = malloc((size_t)length * sizeof(double));
    /* window sums: [je][jt][w] for the eight energies */
    double *sum = calloc((size_t)8 * n_src * n_src * (size_t)n_win, sizeof *sum);
    if (!cv.real || !cv.spec || !cv.acc || !p_all || !p_own || !sum) status = -1;
    if (!status) {
        st_fft_planner_lock();
        cv.forward =
            fftw_plan_dft_r2c_1d(cv.n_fft, cv.real, (fftw_complex *)cv.spec, FFTW_ESTIMATE);
        cv.inverse = fftw_plan_dft_c2r_1d(cv.n_fft, (fftw_complex *)cv.acc, cv.real, FFTW_ESTIMATE);
        st_fft_planner_unlock();
    }
    for (int k = 0; !status && k < s.n_keep; k++) {
        if (!(ref_spec[k] = fftw_alloc_complex((size_t)n_bins))) {
            status = -1;
            break;
        }
        memset(cv.real, 0, (size_t)cv.n_fft * sizeof *cv.real);
        memcpy(cv.real, in->ref[s.keep[k]], (size_t)n * sizeof *cv.real);
        fftw_execute_dft_r2c(cv.forward, cv.real, (fftw_complex *)ref_spec[k]);
    }
    int all_rows[512];
    for (int k = 0; k < s.n_keep; k++)
        all_rows[k] = k;
    for (int je = 0; je < n_src && !status; je++)
        for (int c = 0; c < n_chan; c++) {
            int e = je * n_chan + c;
            project(&cv, (const double complex *const *)ref_spec, all_rows, s.n_keep,
                    s.d + (size_t)e * s.dim, flen, p_all, length);
            for (int jt = 0; jt < n_src; jt++) {
                project(&cv, (const double complex *const *)ref_spec, own_rows[jt], n_own[jt],
                        own_filters[jt] + (size_t)e * n_own[jt] * flen, flen, p_own, length);
                const double *ref = in->ref[jt * n_chan + c], *est = in->est[e];
                double *acc = sum + ((size_t)je * n_src + jt) * 8 * n_win;
                for (int64_t w = 0; w < n_win; w++) {
                    int64_t t0 = n_win > 1 ? w * hop : 0, t1 = n_win > 1 ? t0 + window : length;
                    if (t1 > length) t1 = length;
                    double a = 0, b = 0, cc = 0, d = 0, ee = 0, ff = 0, g = 0, h = 0;
                    for (int64_t t = t0; t < t1; t++) {
                        double st = t < n ? ref[t] : 0, x = t < n ? est[t] : 0;
                        a += st * st;                            /* s_true */
                        b += (x - st) * (x - st);                /* e_spat + e_interf + e_artif */
                        cc += (p_own[t] - st) * (p_own[t] - st); /* e_spat */
                        d += p_own[t] * p_own[t];                /* s_true + e_spat */
                        ee += (p_all[t] - p_own[t]) * (p_all[t] - p_own[t]); /* e_interf */
                        ff += p_all[t] * p_all[t];            /* s_true + e_spat + e_interf */
                        g += (x - p_all[t]) * (x - p_all[t]); /* e_artif */
                        h += (x - p_own[t]) * (x - p_own[t]); /* e_interf + e_artif */
                    }
                    double v[8] = {a, b, cc, d, ee, ff, g, h};
                    for (int q = 0; q < 8; q++)
                        acc[q * n_win + w] += v[q];
                }
            }
        }
    if (!status) {
        double *sir = malloc(sizeof(double) * n_src * n_src * (size_t)n_win);
        int best[ST_BSS_MAX_SOURCES];
        if (!sir) status = -1;
        for (int k = 0; !status && k < n_src * n_src; k++)
            for (int64_t w = 0; w < n_win; w++) {
                const double *acc = sum + (size_t)k * 8 * n_win;
                sir[(size_t)k * n_win + w] = safe_db(acc[3 * n_win + w], acc[4 * n_win + w]);
            }
        if (!status) best_order(sir, n_src, n_win, in->permute, best);
        for (int i = 0; !status && i < n_src; i++) {
            const double *acc = sum + ((size_t)best[i] * n_src + i) * 8 * n_win;
            out->perm[i] = best[i];
            for (int64_t w = 0; w < n_win; w++) {
                size_t o = (size_t)i * n_win + w;
                if (in->images) {
                    out->sdr[o] = safe_db(acc[0 * n_win + w], acc[1 * n_win + w]);
                    out->isr[o] = safe_db(acc[0 * n_win + w], acc[2 * n_win + w]);
                } else {
                    out->sdr[o] = safe_db(acc[3 * n_win + w], acc[7 * n_win + w]);
                    out->isr[o] = NAN;
                }
                out->sir[o] = safe_db(acc[3 * n_win + w], acc[4 * n_win + w]);
                out->sar[o] = safe_db(acc[5 * n_win + w], acc[6 * n_win + w]);
            }
        }
        free(sir);
    }
    st_fft_planner_lock();
    if (cv.forward) fftw_destroy_plan(cv.forward);
    if (cv.inverse) fftw_destroy_plan(cv.inverse);
    st_fft_planner_unlock();
    for (int k = 0; k < s.n_keep; k++)
        fftw_free(ref_spec[k]);
    for (int j = 0; j < n_src; j++)
        free(own_filters[j]);
    fftw_free(cv.real), fftw_free(cv.spec), fftw_free(cv.acc);
    free(p_all), free(p_own), free(sum);
    free_system(&s);
    if (!status) return 0;
    snprintf(error, error_size, "%s evaluating %d sources", failure(status), n_src);
    return -1;
oom_early:
    snprintf(error, error_size, "%s evaluating %d sources", failure(NO_MEMORY), n_src);
    return -1;
}
