/* Multiplicative-update NMF for the beta-divergence, as scikit-learn 1.2's
 * _fit_multiplicative_update computes it, reorganised for the cache.
 *
 * scikit-learn forms W H over the whole matrix twice per iteration. Here the
 * columns (frames) are cut into blocks that stay in the cache: for each block
 * the H update (which only needs that block) runs, then W H of the updated
 * block is formed once more and feeds both the divergence and the numerator
 * of the next W update, summed per thread. The arithmetic is the reference's;
 * only the order of the sums differs. Each thread takes a range of blocks and
 * calls a single-threaded sgemm.
 */
#include "nmf.h"

#include "../../vm/parallel.h"
#include "fixed_parts.h"
#include "lapack.h"
#include "nmf_kl16.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE__
#include <xmmintrin.h>
#endif

#define BLOCK_COLS 64
/* The columns are cut in at most MAX_PARTS parts fixed by their number
 * alone (dsp/fixed_parts.h says why), each with its own partial sums added
 * in part order, so a fit gives the same bytes on any number of threads;
 * threads take whole parts. */
#define MAX_PARTS 16
#define EPS       ST_NMF_EPSILON

/* The element-wise loops are half of an iteration's time: they are
 * vectorised, and compiled for AVX-512 and AVX2 beside the baseline (the
 * loader picks the widest the CPU has). Every lane does the same IEEE
 * operations (ISO C: no contraction into FMAs), so results do not depend on
 * which version runs. no-trapping-math lets selects (x == 0 ? EPS : x)
 * vectorise; it changes no value. Functions inlined into those loops carry
 * the same options (VECTOR_MATH), or their selects stay branches. */
#if defined(__GNUC__) && !defined(__clang__)
#define VECTOR_MATH __attribute__((optimize("tree-vectorize", "no-trapping-math")))
#else
#define VECTOR_MATH
#endif
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) &&                             \
    !defined(__SANITIZE_ADDRESS__)
#define ELEMENTWISE VECTOR_MATH __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define ELEMENTWISE VECTOR_MATH
#endif

/* Lanes of the divergence sums: independent double accumulators, so the sum
 * vectorises and its order is fixed (the same on every CPU). */
#define LANES 16

/* What one pass over the column blocks does and needs. Owned by st_nmf_fit. */
typedef struct {
    const float *V;
    int F, K;
    int64_t N;
    float *W, *H;
    double beta;
    float gamma;
    int h_rules; /* 1: H is sklearn's H; 0: H is the free factor of a transform */
    float l1_H, l2_H;
    const float *w_sum; /* KL: column sums of W (the H update's denominator) */
    const float *wtw;   /* Euclidean: W^T W */
    float *wtx;         /* Euclidean with W fixed: W^T V, computed on the first pass */
    int wtx_ready;
    int n_threads, n_parts;
    float *scratch[MAX_PARTS]; /* per part: 2 x F x BLOCK_COLS + 3 x K x BLOCK_COLS */
    float *num_w[MAX_PARTS];   /* per part: F x K partial numerators of the W update */
    float *den_w[MAX_PARTS];   /* per part: F x K partial denominators (beta not 1 or 2) */
    double div[MAX_PARTS][3];  /* per part: partial divergence sums */
    /* what this pass does */
    int update_h, accumulate_w, divergence;
    /* KL at rank 16 on an AVX-512 CPU: the fused kernel of nmf_kl16.c */
    int kl16;
    float *w_rows; /* W by rows, for the kernel */
} pass_ctx;

static int is_beta(double beta, double b) { return beta == b; }

/* How many parts n_cols columns are cut in: one per block of columns, at
 * most MAX_PARTS. */
static int parts_of(int64_t n_cols)
{
    const int64_t n_blocks = (n_cols + BLOCK_COLS - 1) / BLOCK_COLS;
    return n_blocks < 1 ? 1 : n_blocks > MAX_PARTS ? MAX_PARTS : (int)n_blocks;
}

/* The threads worth starting for n_parts parts. */
static int threads_for(int n_threads, int n_parts)
{
    return n_threads < 1 ? 1 : n_threads > n_parts ? n_parts : n_threads;
}

/* Entries that decay below float's normal range (W under KL is never
 * zeroed) would make every product with them a hundred times slower; they
 * are flushed to zero during the passes (sklearn's float64 keeps them, but
 * at 1e-38 of the largest they weigh nothing). Returns the mode to restore. */
static unsigned flush_denormals(void)
{
#ifdef __SSE__
    unsigned old = _mm_getcsr();
    _mm_setcsr(old | 0x8040); /* flush to zero, denormals are zero */
    return old;
#else
    return 0;
#endif
}

static void restore_denormals(unsigned old)
{
#ifdef __SSE__
    _mm_setcsr(old);
#else
    (void)old;
#endif
}

/* Natural logarithm of a positive normal float, vectorisable (Cephes'
 * logf: the mantissa in [sqrt(1/2), sqrt(2)), a degree-9 polynomial, within
 * 2 ulp). The divergence needs a log per entry; libm's double log, called
 * one entry at a time, was 15 % of a KL run. */
VECTOR_MATH static inline float log_positive(float x)
{
    int32_t bits;
    memcpy(&bits, &x, sizeof bits);
    float e = (float)(((bits >> 23) & 0xff) - 126);
    bits = (bits & 0x807fffff) | 0x3f000000; /* the mantissa, in [0.5, 1) */
    float m;
    memcpy(&m, &bits, sizeof m);
    const int low = m < 0.707106781186547524f;
    e = low ? e - 1 : e;
    m = low ? m + m - 1 : m - 1;
    const float z = m * m;
    float y = 7.0376836292e-2f;
    y = y * m - 1.1514610310e-1f;
    y = y * m + 1.1676998740e-1f;
    y = y * m - 1.2420140846e-1f;
    y = y * m + 1.4249322787e-1f;
    y = y * m - 1.6668057665e-1f;
    y = y * m + 2.0000714765e-1f;
    y = y * m - 2.4999993993e-1f;
    y = y * m + 3.3333331174e-1f;
    y = y * m * z;
    y += -2.12194440e-4f * e;
    y += -0.5f * z;
    return m + y + 0.693359375f * e;
}

/* One term of KL's (beta 1) or IS's (beta 0) divergence, as sklearn sums
 * them over the entries of V above EPSILON (0 elsewhere), exact zeros of
 * W H read as EPSILON; branch-free so that the loops vectorise. */
VECTOR_MATH static inline float kl_term(float v, float wh)
{
    const float r = v / (wh == 0 ? EPS : wh), term = v * log_positive(r) - v;
    return v > EPS ? term : 0;
}

VECTOR_MATH static inline float is_term(float v, float wh)
{
    const float r = v / (wh == 0 ? EPS : wh), term = r - log_positive(r);
    return v > EPS ? term : 0;
}

/* The sum of one block's terms: each term in float (its rounding is 1e-7
 * of the term), the sum in double. */
ELEMENTWISE static double log_divergence_block(int is, const float *restrict x,
                                               const float *restrict wh, int64_t n)
{
    double lane[LANES] = {0};
    const int64_t n_full = n / LANES * LANES;
    if (is)
        for (int64_t i = 0; i < n_full; i += LANES)
            for (int j = 0; j < LANES; j++)
                lane[j] += is_term(x[i + j], wh[i + j]);
    else
        for (int64_t i = 0; i < n_full; i += LANES)
            for (int j = 0; j < LANES; j++)
                lane[j] += kl_term(x[i + j], wh[i + j]);
    double a = 0;
    for (int64_t i = n_full; i < n; i++)
        a += is ? is_term(x[i], wh[i]) : kl_term(x[i], wh[i]);
    for (int j = 0; j < LANES; j++)
        a += lane[j];
    return a;
}

/* The divergence sums of one block of W H (not 2): sklearn's _beta_divergence
 * term by term, over the entries of V above EPSILON (all entries for the
 * sum of (W H)^beta), in double. */
static void divergence_block(double beta, const float *x, const float *wh, int64_t n, double *acc)
{
    if (is_beta(beta, 1) || is_beta(beta, 0)) {
        acc[0] += log_divergence_block(is_beta(beta, 0), x, wh, n);
        return;
    }
    double a1 = 0, a2 = 0, a3 = 0;
    for (int64_t i = 0; i < n; i++) {
        double w = wh[i] == 0 ? EPS : wh[i];
        a3 += pow(wh[i], beta);
        if (!(x[i] > EPS)) continue;
        a1 += pow(x[i], beta);
        a2 += (double)x[i] * pow(w, beta - 1);
    }
    acc[0] += a1, acc[1] += a2, acc[2] += a3;
}

/* The ratio terms of the updates for one block of W H, in place in wh:
 * r1 = V * WH^(beta-2) with exact zeros of W H read as EPSILON, and (beta
 * not 1) r2 = WH^(beta-1), guarded too when beta < 1. Vectorised: these
 * loops are half the time of an iteration otherwise. */
ELEMENTWISE static void ratio_block(double beta, const float *restrict x, float *restrict wh,
                                    float *restrict r2, int64_t n)
{
    if (is_beta(beta, 1)) {
        for (int64_t i = 0; i < n; i++)
            wh[i] = x[i] / (wh[i] == 0 ? EPS : wh[i]);
    } else if (is_beta(beta, 0)) {
        for (int64_t i = 0; i < n; i++) {
            float inv = 1.0f / (wh[i] == 0 ? EPS : wh[i]);
            wh[i] = inv * inv * x[i];
            r2[i] = inv;
        }
    } else {
        const float bm1 = (float)(beta - 1), bm2 = (float)(beta - 2);
        for (int64_t i = 0; i < n; i++) {
            float raw = wh[i], w = raw == 0 ? EPS : raw;
            r2[i] = beta < 1 ? powf(w, bm1) : powf(raw, bm1);
            wh[i] = powf(w, bm2) * x[i];
        }
    }
}

/* Entries of H below this become 0 (sklearn zeroes H after its update for
 * beta <= 1, a transform's free factor only for beta < 1). */
static float zero_below_h(const pass_ctx *c)
{
    return c->h_rules ? (c->beta <= 1 ? (float)DBL_EPSILON : 0)
                      : (c->beta < 1 ? (float)DBL_EPSILON : 0);
}

/* The H update of one block from its numerator and denominator. */
ELEMENTWISE static void update_h_block(const pass_ctx *c, float *h, float *num, float *den,
                                       int64_t n)
{
    const float zero_below = zero_below_h(c);
    for (int64_t i = 0; i < n; i++) {
        float d = den[i];
        if (c->l1_H > 0) d += c->l1_H;
        if (c->l2_H > 0) d += c->l2_H * h[i];
        if (d == 0) d = EPS;
        float delta = num[i] / d;
        if (c->gamma != 1) delta = powf(delta, c->gamma);
        h[i] *= delta;
        if (h[i] < zero_below) h[i] = 0;
    }
}

/* W^T A for a block A (F x nb) into out (K x nb), formed as (A^T W)^T:
 * OpenBLAS runs that shape faster (the long inner dimension packs better
 * on the side with many outputs; 37 -> 51 GFLOP/s at nb = 64). */
static void wt_times(const pass_ctx *c, const float *a, int nb, float *out, float *tmp)
{
    const int F = c->F, K = c->K;
    cblas_sgemm(CblasColMajor, CblasTrans, CblasNoTrans, nb, K, F, 1.0f, a, F, c->W, F, 0.0f, tmp,
                nb);
    for (int j = 0; j < nb; j++)
        for (int k = 0; k < K; k++)
            out[(size_t)j * K + k] = tmp[(size_t)k * nb + j];
}

static void pass_part(pass_ctx *c, int t)
{
    const int F = c->F, K = c->K;
    const int64_t begin = st_part_begin(c->N, c->n_parts, t),
                  end = st_part_begin(c->N, c->n_parts, t + 1);
    float *wh = c->scratch[t], *r2 = wh + (size_t)F * BLOCK_COLS;
    float *num = r2 + (size_t)F * BLOCK_COLS, *den = num + (size_t)K * BLOCK_COLS;
    float *tmp = den + (size_t)K * BLOCK_COLS;
    const int euclid = is_beta(c->beta, 2), kl = is_beta(c->beta, 1);
    double *acc = c->divergence ? c->div[t] : NULL;
    unsigned mode = flush_denormals();
    if (c->kl16) {
        const st_nmf_kl16_pass p = {.V = c->V,
                                    .F = F,
                                    .W = c->W,
                                    .w_rows = c->w_rows,
                                    .H = c->H,
                                    .w_sum = c->w_sum,
                                    .l1_H = c->l1_H,
                                    .l2_H = c->l2_H,
                                    .zero_below = zero_below_h(c),
                                    .update_h = c->update_h,
                                    .accumulate_w = c->accumulate_w,
                                    .divergence = c->divergence};
        st_nmf_kl16_range(&p, begin, end, c->num_w[t], &c->div[t][0], c->scratch[t]);
        restore_denormals(mode);
        return;
    }
    for (int64_t c0 = begin; c0 < end; c0 += BLOCK_COLS) {
        const int nb = (int)(end - c0 < BLOCK_COLS ? end - c0 : BLOCK_COLS);
        const float *x = c->V + (size_t)c0 * F;
        float *h = c->H + (size_t)c0 * K;
        const int64_t n_x = (int64_t)F * nb, n_h = (int64_t)K * nb;
        if (c->update_h) {
            if (euclid) {
                if (c->wtx && c->wtx_ready) {
                    memcpy(num, c->wtx + (size_t)c0 * K, (size_t)n_h * sizeof *num);
                } else {
                    wt_times(c, x, nb, num, tmp);
                    if (c->wtx) memcpy(c->wtx + (size_t)c0 * K, num, (size_t)n_h * sizeof *num);
                }
                cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, K, nb, K, 1.0f, c->wtw, K, h,
                            K, 0.0f, den, K);
            } else {
                cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, F, nb, K, 1.0f, c->W, F, h,
                            K, 0.0f, wh, F);
                ratio_block(c->beta, x, wh, r2, n_x);
                wt_times(c, wh, nb, num, tmp);
                if (kl)
                    for (int j = 0; j < nb; j++)
                        memcpy(den + (size_t)j * K, c->w_sum, (size_t)K * sizeof *den);
                else
                    wt_times(c, r2, nb, den, tmp);
            }
            update_h_block(c, h, num, den, n_h);
        }
        if (!c->accumulate_w && !c->divergence) continue;
        if (euclid) {
            /* V H^T: the numerator of the W update; the divergence follows from it */
            cblas_sgemm(CblasColMajor, CblasNoTrans, CblasTrans, F, K, nb, 1.0f, x, F, h, K, 1.0f,
                        c->num_w[t], F);
            continue;
        }
        cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, F, nb, K, 1.0f, c->W, F, h, K, 0.0f,
                    wh, F);
        if (acc) divergence_block(c->beta, x, wh, n_x, acc);
        ratio_block(c->beta, x, wh, r2, n_x);
        if (!c->accumulate_w) continue;
        cblas_sgemm(CblasColMajor, CblasNoTrans, CblasTrans, F, K, nb, 1.0f, wh, F, h, K, 1.0f,
                    c->num_w[t], F);
        if (!kl)
            cblas_sgemm(CblasColMajor, CblasNoTrans, CblasTrans, F, K, nb, 1.0f, r2, F, h, K, 1.0f,
                        c->den_w[t], F);
    }
    restore_denormals(mode);
}

static void pass_range(void *ctx, int64_t part, int64_t part_end)
{
    for (; part < part_end; part++)
        pass_part(ctx, (int)part);
}

/* One pass; the per-part W sums are added into num_w[0] and den_w[0]. */
static void run_pass(pass_ctx *c, int update_h, int accumulate_w, int divergence)
{
    const size_t fk = (size_t)c->F * c->K;
    c->update_h = update_h;
    c->accumulate_w = accumulate_w || (divergence && is_beta(c->beta, 2));
    c->divergence = divergence;
    for (int t = 0; t < c->n_parts; t++) {
        if (c->accumulate_w) {
            memset(c->num_w[t], 0, fk * sizeof(float));
            memset(c->den_w[t], 0, fk * sizeof(float));
        }
        c->div[t][0] = c->div[t][1] = c->div[t][2] = 0;
    }
    st_parallel_for(c->n_threads, c->n_parts, pass_range, c);
    if (c->wtx) c->wtx_ready = 1;
    for (int t = 1; c->accumulate_w && t < c->n_parts; t++)
        for (size_t i = 0; i < fk; i++) {
            c->num_w[0][i] += c->num_w[t][i];
            c->den_w[0][i] += c->den_w[t][i];
        }
    for (int t = 1; t < c->n_parts; t++)
        for (int j = 0; j < 3; j++)
            c->div[0][j] += c->div[t][j];
}

static void row_sums(const float *H, int K, int64_t N, double *out)
{
    for (int k = 0; k < K; k++)
        out[k] = 0;
    for (int64_t j = 0; j < N; j++)
        for (int k = 0; k < K; k++)
            out[k] += H[(size_t)j * K + k];
}

static void col_sums(const float *W, int F, int K, double *out)
{
    for (int k = 0; k < K; k++) {
        double s = 0;
        for (int f = 0; f < F; f++)
            s += W[(size_t)k * F + f];
        out[k] = s;
    }
}

/* The divergence from the sums of a pass (beta not 2). */
static double divergence_of(const pass_ctx *c, const double *acc)
{
    const double beta = c->beta;
    if (is_beta(beta, 1)) {
        double w_sum[1024], h_sum[1024], total = 0;
        col_sums(c->W, c->F, c->K, w_sum);
        row_sums(c->H, c->K, c->N, h_sum);
        for (int k = 0; k < c->K; k++)
            total += w_sum[k] * h_sum[k];
        return acc[0] + total;
    }
    if (is_beta(beta, 0)) return acc[0] - (double)c->F * (double)c->N;
    return (acc[0] - beta * acc[1] + (beta - 1) * acc[2]) / (beta * (beta - 1));
}

/* Euclidean: (|V|^2 - 2 <W, V H^T> + <W^T W, H H^T>) / 2 from the pass's V H^T. */
static double euclid_divergence(const pass_ctx *c, double v_norm2, const float *vht,
                                const float *wtw, float *hht)
{
    const int F = c->F, K = c->K;
    cblas_sgemm(CblasColMajor, CblasNoTrans, CblasTrans, K, K, (int)c->N, 1.0f, c->H, K, c->H, K,
                0.0f, hht, K);
    double cross = 0, model = 0;
    for (size_t i = 0; i < (size_t)F * K; i++)
        cross += (double)c->W[i] * vht[i];
    for (int i = 0; i < K * K; i++)
        model += (double)wtw[i] * hht[i];
    double d = (v_norm2 - 2 * cross + model) / 2;
    return d > 0 ? d : 0;
}

typedef struct {
    const float *V;
    int F, K;
    int64_t N;
    const float *W, *H;
    double beta;
    float *scratch[MAX_PARTS];
    double acc[MAX_PARTS][3];
    int n_parts;
} div_ctx;

static void div_part(div_ctx *d, int t)
{
    const int F = d->F, K = d->K;
    const int64_t begin = st_part_begin(d->N, d->n_parts, t),
                  end = st_part_begin(d->N, d->n_parts, t + 1);
    float *wh = d->scratch[t];
    for (int64_t c0 = begin; c0 < end; c0 += BLOCK_COLS) {
        const int nb = (int)(end - c0 < BLOCK_COLS ? end - c0 : BLOCK_COLS);
        const float *x = d->V + (size_t)c0 * F;
        cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, F, nb, K, 1.0f, d->W, F,
                    d->H + (size_t)c0 * K, K, 0.0f, wh, F);
        if (is_beta(d->beta, 2)) {
            double a = 0;
            for (int64_t i = 0; i < (int64_t)F * nb; i++) {
                double e = (double)x[i] - wh[i];
                a += e * e;
            }
            d->acc[t][0] += a;
        } else {
            divergence_block(d->beta, x, wh, (int64_t)F * nb, d->acc[t]);
        }
    }
}

static void div_range(void *ctx, int64_t part, int64_t part_end)
{
    for (; part < part_end; part++)
        div_part(ctx, (int)part);
}

double st_nmf_divergence(const float *V, int n_rows, int64_t n_cols, const float *W, const float *H,
                         int rank, double beta, int n_threads)
{
    const int n_parts = parts_of(n_cols);
    div_ctx d = {V, n_rows, rank, n_cols, W, H, beta, {0}, {{0}}, n_parts};
    for (int t = 0; t < n_parts; t++)
        if (!(d.scratch[t] = malloc(2 * (size_t)n_rows * BLOCK_COLS * sizeof(float)))) {
            for (int u = 0; u < t; u++)
                free(d.scratch[u]);
            return NAN;
        }
    openblas_set_num_threads(1);
    st_parallel_for(threads_for(n_threads, n_parts), n_parts, div_range, &d);
    for (int t = 1; t < n_parts; t++)
        for (int j = 0; j < 3; j++)
            d.acc[0][j] += d.acc[t][j];
    for (int t = 0; t < n_parts; t++)
        free(d.scratch[t]);
    if (is_beta(beta, 2)) return d.acc[0][0] / 2;
    pass_ctx c = {.V = V,
                  .F = n_rows,
                  .K = rank,
                  .N = n_cols,
                  .W = (float *)W,
                  .H = (float *)H,
                  .beta = beta};
    return divergence_of(&c, d.acc[0]);
}

/* The W update from the sums of the last pass (sklearn's _multiplicative_update_w). */
static void update_w(pass_ctx *c, const st_nmf_options *o, float *hht)
{
    const int F = c->F, K = c->K;
    float *num = c->num_w[0], *den = c->den_w[0];
    if (is_beta(c->beta, 2)) {
        cblas_sgemm(CblasColMajor, CblasNoTrans, CblasTrans, K, K, (int)c->N, 1.0f, c->H, K, c->H,
                    K, 0.0f, hht, K);
        cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, F, K, K, 1.0f, c->W, F, hht, K, 0.0f,
                    den, F);
    } else if (is_beta(c->beta, 1)) {
        double h_sum[1024];
        row_sums(c->H, K, c->N, h_sum);
        for (int k = 0; k < K; k++)
            for (int f = 0; f < F; f++)
                den[(size_t)k * F + f] = (float)h_sum[k];
    }
    const float l1 = (float)o->l1_W, l2 = (float)o->l2_W;
    const float zero_below = c->beta < 1 ? (float)DBL_EPSILON : 0;
    for (size_t i = 0; i < (size_t)F * K; i++) {
        float d = den[i];
        if (l1 > 0) d += l1;
        if (l2 > 0) d += l2 * c->W[i];
        if (d == 0) d = EPS;
        float delta = num[i] / d;
        if (c->gamma != 1) delta = powf(delta, c->gamma);
        c->W[i] *= delta;
        if (c->W[i] < zero_below) c->W[i] = 0;
    }
}

/* The denominators of the H update that depend on W alone. */
static void prepare_h(pass_ctx *c, float *w_sum, float *wtw)
{
    const int F = c->F, K = c->K;
    if (c->kl16)
        for (int f = 0; f < F; f++)
            for (int k = 0; k < K; k++)
                c->w_rows[(size_t)f * K + k] = c->W[(size_t)k * F + f];
    if (is_beta(c->beta, 1)) {
        double s[1024];
        col_sums(c->W, F, K, s);
        for (int k = 0; k < K; k++)
            /* sklearn's H update turns empty templates' sums into 1; its W update
             * (a transform's free factor) only guards exact zeros with EPSILON */
            w_sum[k] = s[k] == 0 ? (c->h_rules ? 1.0f : 0.0f) : (float)s[k];
    } else if (is_beta(c->beta, 2)) {
        cblas_sgemm(CblasColMajor, CblasTrans, CblasNoTrans, K, K, F, 1.0f, c->W, F, c->W, F, 0.0f,
                    wtw, K);
    }
}

static int push_curve(st_nmf_result *r, int iteration, double value)
{
    double *curve = realloc(r->curve, (size_t)(r->n_curve + 1) * sizeof *curve);
    if (!curve) return -1;
    r->curve = curve;
    int *at = realloc(r->curve_iter, (size_t)(r->n_curve + 1) * sizeof *at);
    if (!at) return -1;
    r->curve_iter = at;
    r->curve[r->n_curve] = value;
    r->curve_iter[r->n_curve++] = iteration;
    return 0;
}

static int uses_kl16(const st_nmf_options *o, int rank)
{
    return is_beta(o->beta, 1) && rank <= 16 && !o->sgemm_only && st_nmf_kl16_available();
}

/* KL below rank 16 on the rank-16 kernel: W and H padded with zero
 * components, which stay zero (their numerators are 0) and add exact zeros
 * to every sum, so the real components see the same arithmetic. */
static int fit_padded(const float *V, int F, int64_t N, float *W, float *H, int K,
                      const st_nmf_options *o, st_nmf_result *r)
{
    float *w16 = calloc((size_t)F * 16, sizeof(float)),
          *h16 = calloc((size_t)N * 16, sizeof(float));
    int status = -1;
    if (w16 && h16) {
        memcpy(w16, W, (size_t)F * K * sizeof(float));
        for (int64_t j = 0; j < N; j++)
            memcpy(h16 + j * 16, H + j * K, (size_t)K * sizeof(float));
        status = st_nmf_fit(V, F, N, w16, h16, 16, o, r);
        if (status == 0) {
            memcpy(W, w16, (size_t)F * K * sizeof(float));
            for (int64_t j = 0; j < N; j++)
                memcpy(H + j * K, h16 + j * 16, (size_t)K * sizeof(float));
        }
    }
    free(w16), free(h16);
    return status;
}

int st_nmf_fit(const float *V, int n_rows, int64_t n_cols, float *W, float *H, int rank,
               const st_nmf_options *o, st_nmf_result *r)
{
    memset(r, 0, sizeof *r);
    if (rank < 1 || rank > 1024 || n_rows < 1 || n_cols < 1) return -1;
    if (rank < 16 && uses_kl16(o, rank)) return fit_padded(V, n_rows, n_cols, W, H, rank, o, r);
    const int F = n_rows, K = rank;
    const int64_t N = n_cols;
    const int n_parts = parts_of(N), n_threads = threads_for(o->n_threads, n_parts);
    pass_ctx c = {.V = V,
                  .F = F,
                  .K = K,
                  .N = N,
                  .W = W,
                  .H = H,
                  .beta = o->beta,
                  .h_rules = o->update_W,
                  .l1_H = (float)o->l1_H,
                  .l2_H = (float)o->l2_H,
                  .n_threads = n_threads,
                  .n_parts = n_parts};
    c.gamma = o->beta < 1   ? (float)(1.0 / (2.0 - o->beta))
              : o->beta > 2 ? (float)(1.0 / (o->beta - 1.0))
                            : 1.0f;
    c.kl16 = K == 16 && uses_kl16(o, K);
    const size_t fk = (size_t)F * K;
    float *small = calloc(3 * (size_t)K * K + K, sizeof(float));
    float *w_sum = small, *wtw = small + K, *hht = wtw + (size_t)K * K, *hht2 = hht + (size_t)K * K;
    int status = small ? 0 : -1;
    if (c.kl16 && !(c.w_rows = calloc((size_t)st_nmf_kl16_rows_floats(F), sizeof(float))))
        status = -1;
    size_t scratch_floats = (2 * (size_t)F + 3 * (size_t)K) * BLOCK_COLS;
    if (c.kl16 && (size_t)st_nmf_kl16_scratch_floats(F) > scratch_floats)
        scratch_floats = (size_t)st_nmf_kl16_scratch_floats(F);
    for (int t = 0; status == 0 && t < n_parts; t++) {
        c.scratch[t] = malloc(scratch_floats * sizeof(float));
        c.num_w[t] = malloc(fk * sizeof(float));
        c.den_w[t] = calloc(fk, sizeof(float));
        if (!c.scratch[t] || !c.num_w[t] || !c.den_w[t]) status = -1;
    }
    const int euclid = is_beta(o->beta, 2);
    if (status == 0 && euclid && !o->update_W) {
        c.wtx = malloc((size_t)K * (size_t)N * sizeof(float));
        if (!c.wtx) status = -1;
    }
    double v_norm2 = 0;
    if (euclid)
        for (int64_t i = 0; i < (int64_t)F * N; i++)
            v_norm2 += (double)V[i] * V[i];
    if (status == 0) {
        r->div_init = st_nmf_divergence(V, F, N, W, H, K, o->beta, n_threads);
        if (isnan(r->div_init) || push_curve(r, 0, r->div_init)) status = -1;
    }
    openblas_set_num_threads(1);
    c.l1_H = (float)o->l1_H, c.l2_H = (float)o->l2_H;
    /* the numerator of the first W update (V H^T once and for all when H is fixed) */
    if (status == 0 && o->update_W) run_pass(&c, 0, 1, 0);
    const double error_at_init = sqrt(2 * fmax(r->div_init, 0));
    double previous_error = error_at_init, last_div = r->div_init;
    int it;
    for (it = 1; status == 0 && it <= o->max_iter; it++) {
        if (o->update_W) update_w(&c, o, hht);
        const int last = it == o->max_iter, check = it % 10 == 0 && !last;
        if (o->update_H) {
            prepare_h(&c, w_sum, wtw);
            c.wtw = wtw, c.w_sum = w_sum;
            run_pass(&c, 1, o->update_W && !last, check);
        } else if (!euclid && (!last || check)) {
            run_pass(&c, 0, !last, check);
        }
        if (check) {
            double d;
            if (euclid) {
                prepare_h(&c, w_sum, wtw);
                d = euclid_divergence(&c, v_norm2, c.num_w[0], wtw, hht2);
            } else {
                d = divergence_of(&c, c.div[0]);
            }
            last_div = d;
            if (push_curve(r, it, d)) status = -1;
            double error = sqrt(2 * fmax(d, 0));
            if (o->tol > 0 && (previous_error - error) / error_at_init < o->tol) {
                it++;
                break;
            }
            previous_error = error;
        }
        if (o->progress) o->progress(o->progress_data, it, o->max_iter, last_div);
    }
    r->n_iter = it - 1;
    if (status == 0) {
        r->div_final = st_nmf_divergence(V, F, N, W, H, K, o->beta, n_threads);
        if (r->n_curve && r->curve_iter[r->n_curve - 1] == r->n_iter)
            r->curve[r->n_curve - 1] = r->div_final;
        else if (push_curve(r, r->n_iter, r->div_final))
            status = -1;
    }
    for (int t = 0; t < n_parts; t++)
        free(c.scratch[t]), free(c.num_w[t]), free(c.den_w[t]);
    free(c.wtx);
    free(c.w_rows);
    free(small);
    if (status) {
        free(r->curve), free(r->curve_iter);
        r->curve = NULL, r->curve_iter = NULL, r->n_curve = 0;
    }
    return status;
}
