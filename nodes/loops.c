/* loops: the loop types of a non-negative Tucker model of a song's cube,
 * placed in the song: templates, activations and each loop's best instance
 * (loop_stems turns them into stems).
 *
 * Loop type k is W C[:,:,k] H^T (freq x time-in-bar), placed in bar b with
 * the weight D[b,k]. From the model (ntd's record) and the mixture's cube:
 *   1. grouping: with fewer loop types wanted than the model has, types whose
 *      activations move together are joined (average-linkage clustering on
 *      the correlation of D's columns);
 *   2. purification (the Unmixer's): an NMF of the core's loop mode,
 *      unfold(C) ~ P R with an L1 penalty on the new recipes R, started from
 *      the grouping; D becomes D P and the core R;
 *   3. refinement (optional): each loop keeps its own full spectrogram
 *      template, fitted with the activations to the cube's bars by
 *      multiplicative updates for the KL divergence;
 *   4. the best instance of each loop: the run of bars_per_loop whole bars
 *      where its share of the bar's model is largest (among bars where it
 *      plays at least at half its peak), not merely where it is loudest.
 */
#include "../vm/node.h"
#include "../vm/parallel.h"
#include "../vm/simd.h"
#include "dsp/loop_groups.h"
#include "dsp/loop_parts.h"
#include "dsp/sound_groups.h"
#include "dsp/lapack.h"
#include "dsp/part_split.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const st_param params[] = {
    {"loops", ST_P_INT, .def = 0, .min = 0, .max = 256,
     .doc = "loop types to return; 0: the model's, joined where their activations correlate "
            "above join_above"},
    {"group", ST_P_STRING, .def_str = "correlation", .choices = "correlation|energy|sound",
     .doc = "how loop types are joined: correlation (average linkage on the correlation of "
            "their activations), energy (the pair whose joining loses the least of the "
            "model's energy when the group must play as one loop, one activation; with period > "
            "1, one template per phase) or sound (average linkage on how alike their spectral "
            "envelopes are, times the part of their activity spent apart, or the cosine of their "
            "templates, or of their activations, whichever is largest: types that take turns "
            "with one sound are one instrument's variations, types that play together two parts "
            "unless they hold the same cells of the bar or keep one level)"},
    {"join_above", ST_P_NUMBER, .def = 0.9, .min = -1, .max = 1,
     .doc = "with loops = 0: join loop types whose activations correlate above this (group = "
            "sound: whose likeness is above it)"},
    {"join_below", ST_P_NUMBER, .def = 0.01, .min = 0, .max = 1,
     .doc = "with loops = 0 and group = energy: join loop types while a joining loses less than "
            "this part of the model's energy"},
    {"purify", ST_P_BOOL, .def = 1,
     .doc = "the Unmixer's purification: an NMF of the core's loop mode (always done when "
            "loop types are joined)"},
    {"sparsity", ST_P_NUMBER, .def = 0.1, .min = 0, .max = 100,
     .doc = "L1 weight on the purified recipes, relative to the core's mean"},
    {"purify_iterations", ST_P_INT, .def = 200, .min = 0, .max = 100000,
     .doc = "multiplicative updates of the purification"},
    {"refine", ST_P_INT, .def = 0, .min = 0, .max = 100000,
     .doc = "KL updates that free each loop's template from the shared sound and rhythm "
            "templates (0: off, the Tucker model as it is)"},
    {"parts", ST_P_INT, .def = 0, .min = 0, .max = 256,
     .doc = "0: group the model's loop types; J: first re-factorise the slices' content in the "
            "core's space into J parts (activations in [0, 1], an L1 weight on their recipes, "
            "so that an instrument heard in several sections is one part, not part of several "
            "recipes), then group the parts"},
    {"split", ST_P_BOOL, .def = 1,
     .doc = "with parts: split each pitched part in two by what differs between the slices it "
            "plays in, and keep the split where both halves are pitched and sound different "
            "(a bass note and the chord above it, following one progression, are one part "
            "until the slices where only one of them plays tell them apart); only with loops "
            "given: with the number chosen from the song the halves would count as loops"},
    {"parts_sparsity", ST_P_NUMBER, .def = 0.1, .min = 0, .max = 100,
     .doc = "with parts: L1 weight on the parts' recipes, relative to the slices' mean content "
            "times the number of slices"},
    {"period", ST_P_INT, .def = 1, .min = 1, .max = 8,
     .doc = "slices in a loop's cycle: a loop longer than the slice (a two-bar drone in one-bar "
            "slices) keeps one template per phase (slice b is in phase b mod period) and one "
            "activation; its tile is the whole cycle (needs refine > 0, unless the model is "
            "ntd's cycle model, whose period it must equal)"},
    {"bars_per_loop", ST_P_INT, .def = 1, .min = 1, .max = 64,
     .doc = "bars in each loop's best instance"},
    {NULL}};

extern const st_node_type st_node_loops;

/* ---- the model's pieces ---- */

typedef struct {
    int64_t n_bins, n_time, n_bars, n_cells; /* n_cells = n_bins * n_time */
    int rank_freq, rank_time, rank_bar;
    int phases; /* 1, or the cycle model's period: C is rank_freq x rank_time x phases x rank_bar */
    const float *sound, *rhythm, *layout, *core; /* W, H, D, C as ntd gives them */
} tucker;

static const st_array *field_array(st_ctx *ctx, const st_value *record, const char *name,
                                   int n_axes)
{
    const st_value *v = st_record_get(record, name);
    if (!v || v->type != ST_ARRAY || v->u.array.n_axes != n_axes) {
        st_fail(ctx, "ntd: the model has no %d-axis array '%s' (is it ntd's record?)", n_axes,
                name);
        return NULL;
    }
    return &v->u.array;
}

static int read_tucker(st_ctx *ctx, const st_value *record, const st_array *cube, tucker *m)
{
    const st_value *c = st_record_get(record, "core");
    const int cycles = c && c->type == ST_ARRAY && c->u.array.n_axes == 4;
    const st_array *core = field_array(ctx, record, "core", cycles ? 4 : 3);
    const st_array *w = core ? field_array(ctx, record, "sound", 2) : NULL;
    const st_array *h = w ? field_array(ctx, record, "rhythm", 2) : NULL;
    const st_array *d = h ? field_array(ctx, record, "layout", 2) : NULL;
    if (!d) return ST_ERR;
    if (cube->n_axes != 3) return st_fail(ctx, "cube: not a (freq, time, bar) array");
    m->n_bins = cube->shape[0], m->n_time = cube->shape[1], m->n_bars = cube->shape[2];
    m->n_cells = m->n_bins * m->n_time;
    m->rank_freq = (int)core->shape[0], m->rank_time = (int)core->shape[1],
    m->phases = cycles ? (int)core->shape[2] : 1, m->rank_bar = (int)core->shape[cycles ? 3 : 2];
    if (w->shape[0] != m->n_bins || w->shape[1] != m->rank_freq || h->shape[0] != m->n_time ||
        h->shape[1] != m->rank_time || d->shape[0] != m->n_bars || d->shape[1] != m->rank_bar)
        return st_fail(ctx,
                       "the model (sound %lldx%lld, rhythm %lldx%lld, layout %lldx%lld, core "
                       "%dx%dx%d) does not fit the cube (%lld x %lld x %lld)",
                       (long long)w->shape[0], (long long)w->shape[1], (long long)h->shape[0],
                       (long long)h->shape[1], (long long)d->shape[0], (long long)d->shape[1],
                       m->rank_freq, m->rank_time, m->rank_bar, (long long)m->n_bins,
                       (long long)m->n_time, (long long)m->n_bars);
    m->sound = w->data, m->rhythm = h->data, m->layout = d->data, m->core = core->data;
    return ST_OK;
}

static int templates(const tucker *m, const float *core, int n_loops, float *lt);

/* ---- 1. grouping by activation ---- */

static double correlation(const double *a, const double *b, int64_t n)
{
    double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
    for (int64_t i = 0; i < n; i++)
        ma += a[i] / n, mb += b[i] / n;
    for (int64_t i = 0; i < n; i++) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    return saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : 0;
}

/* Average-linkage clustering of the columns of D (n_bars x rank) on their
 * correlation: joins the closest pair until n_groups remain (or, with
 * n_groups = 0, while the closest pair correlates above join_above). Writes
 * group[k] in 0..n-1 (numbered by first member) and returns n. */
static int group_by_activation(const float *d, int64_t n_bars, int rank, int n_groups,
                               double join_above, int *group)
{
    double *col = malloc((size_t)rank * (size_t)n_bars * sizeof *col);
    double *r = malloc((size_t)rank * (size_t)rank * sizeof *r);
    int *size = malloc((size_t)rank * sizeof *size);
    if (!col || !r || !size) {
        free(col), free(r), free(size);
        return -1;
    }
    for (int k = 0; k < rank; k++)
        for (int64_t b = 0; b < n_bars; b++)
            col[k * n_bars + b] = d[b * rank + k];
    for (int i = 0; i < rank; i++)
        for (int j = 0; j < rank; j++)
            r[i * rank + j] = correlation(col + i * n_bars, col + j * n_bars, n_bars);
    int numbered = st_average_linkage(r, rank, n_groups, join_above, group, size);
    free(col), free(r), free(size);
    return numbered;
}

/* ---- 2. purification: unfold(C) (rank x M) ~ P (rank x K) R (K x M) ---- */

typedef struct {
    int n_loops;
    float *core;   /* rank_freq x rank_time x n_loops: the purified recipes */
    float *layout; /* n_bars x n_loops: D P */
} purified;

static int purify(const tucker *m, const int *group, int n_loops, int iterations, double sparsity,
                  purified *out)
{
    const int rank = m->rank_bar, n = m->rank_freq * m->rank_time * m->phases, k_n = n_loops;
    double *x = malloc((size_t)rank * n * sizeof *x), *p = malloc((size_t)rank * k_n * sizeof *p);
    double *r = malloc((size_t)k_n * n * sizeof *r), *num = malloc((size_t)k_n * n * sizeof *num);
    double *ptp = malloc((size_t)k_n * k_n * sizeof *ptp),
           *rrt = malloc((size_t)k_n * k_n * sizeof *rrt);
    double *xrt = malloc((size_t)rank * k_n * sizeof *xrt);
    out->core = malloc((size_t)n * k_n * sizeof *out->core);
    out->layout = malloc((size_t)m->n_bars * k_n * sizeof *out->layout);
    out->n_loops = n_loops;
    int status =
        x && p && r && num && ptp && rrt && xrt && out->core && out->layout ? ST_OK : ST_ERR;
    if (status) goto done;
    double mean = 0;
    for (int k = 0; k < rank; k++)
        for (int i = 0; i < n; i++)
            mean += (x[k * n + i] = m->core[(size_t)i * rank + k]) / ((double)rank * n);
    /* start: P the membership, R each group's recipes weighted by their mean activation */
    double *weight = xrt; /* scratch: mean activation of each type */
    for (int k = 0; k < rank; k++) {
        weight[k] = 0;
        for (int64_t b = 0; b < m->n_bars; b++)
            weight[k] += m->layout[b * rank + k] / (double)m->n_bars;
    }
    for (int g = 0; g < k_n; g++) {
        double total = 0;
        for (int k = 0; k < rank; k++)
            if (group[k] == g) total += weight[k];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int k = 0; k < rank; k++)
                if (group[k] == g) s += weight[k] * x[k * n + i];
            r[g * n + i] = total > 0 ? s / total : 0;
        }
        for (int k = 0; k < rank; k++)
            p[k * k_n + g] = group[k] == g ? 1.0 : 0.01;
    }
    const double lambda = sparsity * mean, eps = 1e-12;
    for (int it = 0; it < iterations; it++) {
        /* P <- P * (X R^T) / (P R R^T) */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rank, k_n, n, 1, x, n, r, n, 0, xrt,
                    k_n);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, k_n, k_n, n, 1, r, n, r, n, 0, rrt,
                    k_n);
        for (int k = 0; k < rank; k++)
            for (int g = 0; g < k_n; g++) {
                double den = 0;
                for (int h = 0; h < k_n; h++)
                    den += p[k * k_n + h] * rrt[h * k_n + g];
                p[k * k_n + g] *= xrt[k * k_n + g] / (den + eps);
            }
        /* R <- R * (P^T X) / (P^T P R + lambda) */
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k_n, n, rank, 1, p, k_n, x, n, 0, num,
                    n);
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k_n, k_n, rank, 1, p, k_n, p, k_n, 0,
                    ptp, k_n);
        for (int g = 0; g < k_n; g++)
            for (int i = 0; i < n; i++) {
                double den = lambda + eps;
                for (int h = 0; h < k_n; h++)
                    den += ptp[g * k_n + h] * r[h * n + i];
                r[g * n + i] *= num[g * n + i] / den;
            }
        /* the scale lives in R, so that the penalty means the same every iteration */
        for (int g = 0; g < k_n; g++) {
            double top = 0;
            for (int k = 0; k < rank; k++)
                top = fmax(top, p[k * k_n + g]);
            if (top <= 0) continue;
            for (int k = 0; k < rank; k++)
                p[k * k_n + g] /= top;
            for (int i = 0; i < n; i++)
                r[g * n + i] *= top;
        }
    }
    for (int i = 0; i < n; i++)
        for (int g = 0; g < k_n; g++)
            out->core[(size_t)i * k_n + g] = (float)r[g * n + i];
    for (int64_t b = 0; b < m->n_bars; b++)
        for (int g = 0; g < k_n; g++) {
            double s = 0;
            for (int k = 0; k < rank; k++)
                s += m->layout[b * rank + k] * p[k * k_n + g];
            out->layout[b * k_n + g] = (float)s;
        }
done:
    free(x), free(p), free(r), free(num), free(ptp), free(rrt), free(xrt);
    return status;
}

/* ---- templates: L (cells x loops) = W (C x_2 H), as two products ---- */

static int templates(const tucker *m, const float *core, int n_loops, float *lt)
{
    const int rf = m->rank_freq, rt = m->rank_time;
    /* G[i] (time x loops) = H (time x rt) C[i] (rt x loops) */
    float *g = malloc((size_t)rf * m->n_time * n_loops * sizeof *g);
    if (!g) return ST_ERR;
    for (int i = 0; i < rf; i++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m->n_time, n_loops, rt, 1,
                    m->rhythm, rt, core + (size_t)i * rt * n_loops, n_loops, 0,
                    g + (size_t)i * m->n_time * n_loops, n_loops);
    /* L (freq x (time x loops)) = W (freq x rf) G (rf x (time x loops)) */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m->n_bins,
                (int)(m->n_time * n_loops), rf, 1, m->sound, rf, g, (int)(m->n_time * n_loops), 0,
                lt, (int)(m->n_time * n_loops));
    free(g);
    for (int64_t i = 0; i < m->n_cells * n_loops; i++)
        if (lt[i] < 0) lt[i] = 0;
    return ST_OK;
}

/* ---- 3. refinement: X (cells x bars) ~ L (cells x loops) D^T, KL updates ----
 * Each pass goes over the cells in blocks that stay in cache: the model, the
 * ratio X / model and its products are made block by block and never held
 * whole. The cells are cut in REFINE_CHUNKS chunks fixed by their number, not
 * by the thread count (dsp/fixed_parts.h says why), and D's numerator is
 * summed over the chunks in order: the same bytes on any number of threads. */

enum { REFINE_BLOCK = 256, REFINE_CHUNKS = 8 };

typedef struct {
    const float *x;
    float *lt;
    const float *d;
    int64_t n_cells, n_bars;
    int n_loops, n_chunks, pass; /* pass 0: D's numerator; 1: update L */
    float *partial;              /* pass 0: n_chunks x bars x loops */
    const double *d_sum;         /* pass 1: column sums of D */
    float *q, *num;              /* per chunk: a block's ratio, its L numerator */
} refine_job;

/* q <- x / (q + 1e-9), element by element: the refinement's bulk of work,
 * eight lanes at a time where the CPU has AVX (IEEE division per lane: the
 * same numbers as the plain loop). */
static void ratio_plain(float *q, const float *x, int64_t n)
{
    for (int64_t e = 0; e < n; e++)
        q[e] = x[e] / (q[e] + 1e-9f);
}

#if defined(__x86_64__)
#include <immintrin.h>
__attribute__((target("avx"))) static void ratio_avx(float *q, const float *x, int64_t n)
{
    const __m256 eps = _mm256_set1_ps(1e-9f);
    int64_t e = 0;
    for (; e + 8 <= n; e += 8)
        _mm256_storeu_ps(q + e, _mm256_div_ps(_mm256_loadu_ps(x + e),
                                              _mm256_add_ps(_mm256_loadu_ps(q + e), eps)));
    ratio_plain(q + e, x + e, n - e);
}
#endif

static void ratio(float *q, const float *x, int64_t n)
{
#if defined(__x86_64__)
    if (st_simd_allows(ST_SIMD_AVX)) {
        ratio_avx(q, x, n);
        return;
    }
#endif
    ratio_plain(q, x, n);
}

static void refine_chunk(void *arg, int64_t begin, int64_t end)
{
    refine_job *j = arg;
    const int64_t n_bars = j->n_bars;
    const int n_loops = j->n_loops;
    for (int64_t chunk = begin; chunk < end; chunk++) {
        float *q = j->q + chunk * REFINE_BLOCK * n_bars,
              *num = j->num + chunk * REFINE_BLOCK * n_loops;
        int64_t c0 = j->n_cells * chunk / j->n_chunks, c1 = j->n_cells * (chunk + 1) / j->n_chunks;
        float *partial = j->pass == 0 ? j->partial + chunk * n_bars * n_loops : NULL;
        if (partial) memset(partial, 0, (size_t)n_bars * n_loops * sizeof *partial);
        for (int64_t i0 = c0; i0 < c1; i0 += REFINE_BLOCK) {
            int m = (int)(c1 - i0 < REFINE_BLOCK ? c1 - i0 : REFINE_BLOCK);
            float *l = j->lt + i0 * n_loops;
            const float *x = j->x + i0 * n_bars;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, (int)n_bars, n_loops, 1, l,
                        n_loops, j->d, n_loops, 0, q, (int)n_bars);
            ratio(q, x, (int64_t)m * n_bars);
            if (partial) { /* D's numerator: Q^T L */
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)n_bars, n_loops, m, 1, q,
                            (int)n_bars, l, n_loops, 1, partial, n_loops);
                continue;
            }
            /* L <- L * (Q D) / colsum(D) */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n_loops, (int)n_bars, 1, q,
                        (int)n_bars, j->d, n_loops, 0, num, n_loops);
            for (int e = 0; e < m; e++)
                for (int k = 0; k < n_loops; k++)
                    l[e * n_loops + k] *= num[e * n_loops + k] / (float)(j->d_sum[k] + 1e-12);
        }
    }
}

static int refine(st_ctx *ctx, const float *x, int64_t n_cells, int64_t n_bars, int n_loops,
                  float *lt, float *d, int iterations)
{
    const int n_chunks = REFINE_CHUNKS;
    float *partial = malloc((size_t)n_chunks * n_bars * n_loops * sizeof *partial);
    double *sum = malloc((size_t)n_loops * sizeof *sum);
    float *q = malloc((size_t)n_chunks * REFINE_BLOCK * (size_t)n_bars * sizeof *q);
    float *num = malloc((size_t)n_chunks * REFINE_BLOCK * (size_t)n_loops * sizeof *num);
    int status = partial && sum && q && num ? ST_OK : st_fail(ctx, "out of memory");
    refine_job job = {x, lt, d, n_cells, n_bars, n_loops, n_chunks, 0, partial, sum, q, num};
    for (int it = 0; status == ST_OK && it < iterations; it++) {
        /* D <- D * (Q^T L) / colsum(L) */
        job.pass = 0;
        st_parallel_for(ctx->n_threads, n_chunks, refine_chunk, &job);
        for (int k = 0; k < n_loops; k++)
            sum[k] = 0;
        for (int64_t i = 0; i < n_cells; i++)
            for (int k = 0; k < n_loops; k++)
                sum[k] += lt[i * n_loops + k];
        for (int64_t b = 0; b < n_bars; b++)
            for (int k = 0; k < n_loops; k++) {
                double num = 0;
                for (int c = 0; c < n_chunks; c++)
                    num += partial[((int64_t)c * n_bars + b) * n_loops + k];
                d[b * n_loops + k] *= (float)(num / (sum[k] + 1e-12));
            }
        /* L <- L * (Q D) / colsum(D), block by block */
        for (int k = 0; k < n_loops; k++)
            sum[k] = 0;
        for (int64_t b = 0; b < n_bars; b++)
            for (int k = 0; k < n_loops; k++)
                sum[k] += d[b * n_loops + k];
        job.pass = 1;
        st_parallel_for(ctx->n_threads, n_chunks, refine_chunk, &job);
        st_progress(ctx, 0.2 + 0.6 * (it + 1) / iterations);
    }
    free(partial), free(sum), free(q), free(num);
    return status;
}

/* Each component's activation (bars x n) peaks at 1; its template (cells x n)
 * carries the level. */
static void peak_one(float *act, float *lt, int64_t n_bars, int64_t n_cells, int n)
{
    for (int c = 0; c < n; c++) {
        float top = 0;
        for (int64_t b = 0; b < n_bars; b++)
            top = fmaxf(top, act[b * n + c]);
        if (top <= 0) continue;
        for (int64_t b = 0; b < n_bars; b++)
            act[b * n + c] /= top;
        for (int64_t i = 0; i < n_cells; i++)
            lt[i * n + c] *= top;
    }
}

/* ---- 5. best instances ---- */

/* share[b][k]: loop k's part of the energy of bar b's model plus what the
 * model leaves unexplained there. The residual of each bar is summed over
 * the cells in order; the bars are split over threads, each reading every
 * cell's row of bars (contiguous) for its own. */
typedef struct {
    const float *x, *lt, *d;
    int64_t n_cells, n_bars;
    int n_loops;
    double *residual;
} residual_job;

static void bar_residuals(void *arg, int64_t begin, int64_t end)
{
    const residual_job *j = arg;
    const int n_loops = j->n_loops;
    for (int64_t b = begin; b < end; b++)
        j->residual[b] = 0;
    for (int64_t i = 0; i < j->n_cells; i++) {
        const float *l = j->lt + i * n_loops, *x = j->x + i * j->n_bars;
        for (int64_t b = begin; b < end; b++) {
            double model = 0;
            for (int k = 0; k < n_loops; k++)
                model += (double)l[k] * j->d[b * n_loops + k];
            double e = x[b] - model;
            j->residual[b] += e * e;
        }
    }
}

static int shares(const float *x, const float *lt, const float *d, int64_t n_cells, int64_t n_bars,
                  int n_loops, int n_threads, double *share)
{
    double *energy = calloc((size_t)n_loops + (size_t)n_bars, sizeof *energy);
    if (!energy) return ST_ERR;
    double *residual = energy + n_loops;
    for (int k = 0; k < n_loops; k++)
        for (int64_t i = 0; i < n_cells; i++)
            energy[k] += (double)lt[i * n_loops + k] * lt[i * n_loops + k];
    residual_job job = {x, lt, d, n_cells, n_bars, n_loops, residual};
    st_parallel_for(n_threads, n_bars, bar_residuals, &job);
    for (int64_t b = 0; b < n_bars; b++) {
        double total = 0;
        for (int k = 0; k < n_loops; k++)
            total += energy[k] * d[b * n_loops + k] * d[b * n_loops + k];
        for (int k = 0; k < n_loops; k++)
            share[b * n_loops + k] =
                energy[k] * d[b * n_loops + k] * d[b * n_loops + k] / (total + residual[b] + 1e-30);
    }
    free(energy);
    return ST_OK;
}

static int best_instance(const double *share, const float *d, const float *bar_seconds,
                         int64_t n_bars, int n_loops, int k, int run_bars, float *first_bar,
                         float *n_run)
{
    /* whole bars: at least 90 % of the median bar (the partial first and last are not) */
    double peak = 0;
    for (int64_t b = 0; b < n_bars; b++)
        peak = fmax(peak, d[b * n_loops + k]);
    float *length = malloc((size_t)n_bars * sizeof *length), median = 0;
    if (!length) return ST_ERR;
    for (int64_t b = 0; b < n_bars; b++)
        length[b] = bar_seconds[2 * b + 1] - bar_seconds[2 * b];
    /* a rough median: the middle of the sorted lengths */
    for (int64_t b = 0; b < n_bars; b++) {
        int64_t below = 0;
        for (int64_t c = 0; c < n_bars; c++)
            below += length[c] < length[b];
        if (below <= n_bars / 2 && length[b] > median) median = length[b];
    }
    if (run_bars > n_bars) run_bars = (int)n_bars;
    double best = -1;
    int64_t best_first = 0;
    for (int64_t first = 0; first + run_bars <= n_bars; first++) {
        double s = 0;
        int ok = 1;
        for (int64_t b = first; b < first + run_bars; b++) {
            ok &= length[b] >= 0.9f * median;
            ok &= d[b * n_loops + k] >= 0.5 * peak;
            s += share[b * n_loops + k];
        }
        if (!ok) continue;
        if (s > best) best = s, best_first = first;
    }
    if (best < 0) /* no whole run where it plays: the run holding its largest activation */
        for (int64_t b = 0; b < n_bars; b++)
            if (d[b * n_loops + k] >= peak) {
                best_first = b + run_bars <= n_bars ? b : n_bars - run_bars;
                break;
            }
    *first_bar = (float)best_first;
    *n_run = (float)run_bars;
    free(length);
    return ST_OK;
}

/* 2b. Parts that are two pitched instruments (dsp/part_split.c). Each pitched
 * part (st_harmonic_share above 1/2) is split in two by what differs between
 * its slices, every part is refined again beside the halves, and a split
 * stands when both halves are pitched and sound different: their envelopes'
 * cosine below cos 45 degrees, nearer orthogonal than parallel. A split of
 * one sound (a lead riff's notes, a bass line's octave) or one that takes a
 * drum hit off a pitched part is undone: the part is put back as it was, so
 * with no split standing the parts are unchanged. Otherwise the parts and
 * the standing halves are refined together once more. *lt and *d are
 * replaced and *n_parts grows when a split stands. */
static int split_parts(st_ctx *ctx, const float *x, const tucker *m, int64_t n_cells,
                       int64_t n_bars, int *n_parts, float **lt, float **d, int iterations)
{
    const int n = *n_parts;
    int *split = malloc((size_t)n * sizeof *split), n_two = n, n_kept = 0;
    int status = split ? ST_OK : ST_ERR;
    for (int j = 0; status == ST_OK && j < n; j++) {
        const double h = st_harmonic_share(*lt, m->n_bins, m->n_time, n, j);
        if (h < 0) status = ST_ERR;
        split[j] = h > 0.5;
        n_two += split[j];
    }
    float *lt2 = malloc((size_t)n_cells * n_two * sizeof *lt2);
    float *d2 = malloc((size_t)n_bars * n_two * sizeof *d2);
    int *twin = malloc((size_t)n_two * sizeof *twin);
    float *lt3 = NULL, *d3 = NULL;
    if (!lt2 || !d2 || !twin) status = ST_ERR;
    if (status != ST_OK || n_two == n) goto done;
    if (st_split_parts(x, *lt, *d, n_cells, n_bars, n, split, n_two, lt2, d2, twin)) {
        status = ST_ERR;
        goto done;
    }
    if (iterations > 0 &&
        (status = refine(ctx, x, n_cells, n_bars, n_two, lt2, d2, iterations)) != ST_OK)
        goto done;
    /* which splits stand (twin[i] = -1 where one is undone); n_kept: parts after */
    for (int i = 0, j = 0; j < n; i += split[j] ? 2 : 1, j++) {
        if (!split[j]) {
            n_kept++;
            continue;
        }
        const double hi = st_harmonic_share(lt2, m->n_bins, m->n_time, n_two, i);
        const double hj = st_harmonic_share(lt2, m->n_bins, m->n_time, n_two, i + 1);
        const double cosine = st_envelope_cosine(lt2, m->n_bins, m->n_time, n_two, i, i + 1);
        if (hi < 0 || hj < 0 || cosine < 0) {
            status = ST_ERR;
            goto done;
        }
        if (hi > 0.5 && hj > 0.5 && cosine < sqrt(0.5))
            n_kept += 2;
        else
            twin[i] = twin[i + 1] = -1, n_kept++;
    }
    if (n_kept == n) goto done;
    lt3 = malloc((size_t)n_cells * n_kept * sizeof *lt3);
    d3 = malloc((size_t)n_bars * n_kept * sizeof *d3);
    if (!lt3 || !d3) {
        status = ST_ERR;
        goto done;
    }
    for (int i = 0, j = 0, out = 0; j < n; j++) {
        const int halves = split[j] && twin[i] >= 0;
        for (int h = 0; h < (halves ? 2 : 1); h++, out++) {
            for (int64_t c = 0; c < n_cells; c++)
                lt3[c * n_kept + out] = halves ? lt2[c * n_two + i + h] : (*lt)[c * n + j];
            for (int64_t b = 0; b < n_bars; b++)
                d3[b * n_kept + out] = halves ? d2[b * n_two + i + h] : (*d)[b * n + j];
        }
        i += split[j] ? 2 : 1;
    }
    if (iterations > 0 &&
        (status = refine(ctx, x, n_cells, n_bars, n_kept, lt3, d3, iterations)) != ST_OK)
        goto done;
    free(*lt), free(*d);
    *lt = lt3, *d = d3, *n_parts = n_kept;
    lt3 = NULL, d3 = NULL;
done:
    free(split), free(lt2), free(d2), free(twin), free(lt3), free(d3);
    return status == ST_ERR ? st_fail(ctx, "out of memory") : status;
}

/* ---- parts: loops that are groups of parts ----
 * With parts = J, the model's loop mode is first re-factorised into J parts
 * (dsp/loop_parts.c), each part keeps its own template and activation
 * (refined as the loops are), and the parts are joined into loops by `group`
 * without purification: a loop is the sum of its parts, so a bass line whose
 * two halves are two parts that take turns is one loop with both halves. The
 * stems are made from the parts (part_tiles, part_activation) and summed by
 * part_loop; activation, share, instance and tiles describe the loops. */

static st_value *identity_parts(int n)
{
    static const char *const axes[] = {"part"};
    int64_t shape[1] = {n};
    st_value *v = st_array_new(1, shape, axes);
    for (int k = 0; v && k < n; k++)
        v->u.array.data[k] = (float)k;
    return v;
}

static int parts_run(st_ctx *ctx, tucker *m, const st_array *cube, const st_array *grid,
                     const st_params *p, st_value **out)
{
    int n_parts = st_int(p, "parts");
    const int wanted = st_int(p, "loops");
    const int n_cols = m->rank_freq * m->rank_time, choice = st_choice(p, "group");
    if (m->phases > 1)
        return st_fail(ctx,
                       "parts = %d takes a model of one template per loop type, not ntd's "
                       "cycle model",
                       n_parts);
    if (st_int(p, "period") > 1)
        return st_fail(ctx,
                       "parts = %d: a loop's parts are its variations; period = %d cannot "
                       "be used with them",
                       n_parts, st_int(p, "period"));
    if (wanted > n_parts) return st_fail(ctx, "loops = %d: more than parts = %d", wanted, n_parts);
    const int64_t n_cells = m->n_cells, n_bars = m->n_bars;
    float *core = malloc((size_t)n_cols * n_parts * sizeof *core);
    float *e = malloc((size_t)n_bars * n_parts * sizeof *e);
    float *lc = malloc((size_t)n_cells * n_parts * sizeof *lc);
    int *group = malloc((size_t)n_parts * sizeof *group);
    double *gram = malloc((size_t)n_parts * n_parts * sizeof *gram);
    double *share_part = malloc((size_t)n_bars * n_parts * sizeof *share_part);
    float *d = NULL;
    double *share = NULL;
    st_value *activation = NULL, *share_v = NULL, *instance = NULL, *tiles = NULL;
    st_value *part_tiles = NULL, *part_activation = NULL, *part_loop = NULL;
    int n_loops = 0;
    int status = core && e && lc && group && gram && share_part ? ST_OK : ST_ERR;
    /* 1. the parts, and their templates */
    if (status == ST_OK)
        status = st_loop_parts(m->core, m->layout, n_cols, n_bars, m->rank_bar, n_parts,
                               st_num(p, "parts_sparsity"), 10, 1000, core, e)
                     ? ST_ERR
                     : ST_OK;
    if (status == ST_OK) {
        m->core = core, m->layout = e, m->rank_bar = n_parts;
        status = templates(m, core, n_parts, lc);
    }
    if (status != ST_OK) status = st_fail(ctx, "out of memory");
    st_progress(ctx, 0.1);
    /* 2. each part's own template, fitted with its activation */
    if (status == ST_OK && st_int(p, "refine") > 0)
        status = refine(ctx, cube->data, n_cells, n_bars, n_parts, lc, e, st_int(p, "refine"));
    /* only towards a given number of loops: with the number chosen from the
     * song, the grouping's stop rule keeps a split's halves apart and every
     * song came out with 1-4 more loops than instruments (review8 R12) */
    if (status == ST_OK && st_int(p, "split") && wanted > 0)
        status = split_parts(ctx, cube->data, m, n_cells, n_bars, &n_parts, &lc, &e,
                             st_int(p, "refine"));
    m->layout = e, m->rank_bar = n_parts; /* the split may have replaced them (review8 R8) */
    if (status == ST_OK) {
        free(group), free(gram), free(share_part);
        group = malloc((size_t)n_parts * sizeof *group);
        gram = malloc((size_t)n_parts * n_parts * sizeof *gram);
        share_part = malloc((size_t)n_bars * n_parts * sizeof *share_part);
        if (!group || !gram || !share_part) status = st_fail(ctx, "out of memory");
    }
    if (status == ST_OK) peak_one(e, lc, n_bars, n_cells, n_parts);
    /* 3. parts joined into loops */
    if (status == ST_OK) {
        n_loops = choice == 1   ? st_group_by_energy(lc, e, n_cells, n_bars, n_parts, 1, wanted,
                                                     st_num(p, "join_below"), group)
                  : choice == 2 ? st_group_by_sound(lc, e, m->n_bins, m->n_time, n_bars, n_parts,
                                                    wanted, st_num(p, "join_above"), group)
                                : group_by_activation(e, n_bars, n_parts, wanted,
                                                      st_num(p, "join_above"), group);
        if (n_loops < 1) status = st_fail(ctx, "out of memory");
    }
    if (status == ST_OK) {
        d = malloc((size_t)n_bars * n_loops * sizeof *d);
        share = calloc((size_t)n_bars * n_loops, sizeof *share);
        static const char *const act_axes[] = {"bar", "loop"}, *const inst_axes[] = {"loop",
                                                                                     "field"};
        static const char *const tile_axes[] = {"loop", "freq", "time"};
        static const char *const part_act_axes[] = {"bar", "part"};
        static const char *const part_tile_axes[] = {"part", "freq", "time"};
        int64_t act_shape[2] = {n_bars, n_loops}, inst_shape[2] = {n_loops, 2},
                tile_shape[3] = {n_loops, m->n_bins, m->n_time},
                part_act_shape[2] = {n_bars, n_parts},
                part_tile_shape[3] = {n_parts, m->n_bins, m->n_time};
        activation = st_array_new(2, act_shape, act_axes);
        share_v = st_array_new(2, act_shape, act_axes);
        instance = st_array_new(2, inst_shape, inst_axes);
        tiles = st_array_new(3, tile_shape, tile_axes);
        part_activation = st_array_new(2, part_act_shape, part_act_axes);
        part_tiles = st_array_new(3, part_tile_shape, part_tile_axes);
        part_loop = identity_parts(n_parts);
        if (!d || !share || !activation || !share_v || !instance || !tiles || !part_activation ||
            !part_tiles || !part_loop)
            status = st_fail(ctx, "out of memory");
    }
    /* 4. a loop's level in a slice: the norm of its parts' sum there, peak 1 */
    if (status == ST_OK) {
        for (int i = 0; i < n_parts; i++)
            for (int j = 0; j < n_parts; j++) {
                double s = 0;
                for (int64_t c = 0; c < n_cells; c++)
                    s += (double)lc[c * n_parts + i] * lc[c * n_parts + j];
                gram[i * n_parts + j] = s;
            }
        for (int g = 0; g < n_loops; g++) {
            double peak = 0;
            int64_t peak_bar = 0;
            for (int64_t b = 0; b < n_bars; b++) {
                double energy = 0;
                for (int i = 0; i < n_parts; i++)
                    for (int j = 0; group[i] == g && j < n_parts; j++)
                        if (group[j] == g)
                            energy += (double)e[b * n_parts + i] * e[b * n_parts + j] *
                                      gram[i * n_parts + j];
                d[b * n_loops + g] = (float)sqrt(fmax(0, energy));
                if (d[b * n_loops + g] > peak) peak = d[b * n_loops + g], peak_bar = b;
            }
            for (int64_t b = 0; peak > 0 && b < n_bars; b++)
                d[b * n_loops + g] = (float)(d[b * n_loops + g] / peak);
            /* the tile: the loop at its peak, the sum of its parts there */
            float *tile = tiles->u.array.data + (size_t)g * n_cells;
            for (int64_t c = 0; c < n_cells; c++) {
                double s = 0;
                for (int j = 0; j < n_parts; j++)
                    if (group[j] == g) s += (double)lc[c * n_parts + j] * e[peak_bar * n_parts + j];
                tile[c] = (float)s;
            }
        }
        if (shares(cube->data, lc, e, n_cells, n_bars, n_parts, ctx->n_threads, share_part))
            status = st_fail(ctx, "out of memory");
    }
    if (status == ST_OK) {
        st_progress(ctx, 0.9);
        for (int64_t b = 0; b < n_bars; b++)
            for (int j = 0; j < n_parts; j++)
                share[b * n_loops + group[j]] += share_part[b * n_parts + j];
        for (int64_t i = 0; i < n_bars * n_loops; i++) {
            activation->u.array.data[i] = d[i];
            share_v->u.array.data[i] = (float)share[i];
        }
        for (int64_t i = 0; i < n_bars * n_parts; i++)
            part_activation->u.array.data[i] = e[i];
        for (int j = 0; j < n_parts; j++) {
            part_loop->u.array.data[j] = (float)group[j];
            for (int64_t c = 0; c < n_cells; c++)
                part_tiles->u.array.data[(size_t)j * n_cells + c] = lc[c * n_parts + j];
        }
        for (int g = 0; status == ST_OK && g < n_loops; g++)
            if (best_instance(share, d, grid->data, n_bars, n_loops, g, st_int(p, "bars_per_loop"),
                              &instance->u.array.data[2 * g], &instance->u.array.data[2 * g + 1]))
                status = st_fail(ctx, "out of memory");
        st_value *fields[7] = {activation, share_v,         instance, tiles,
                               part_tiles, part_activation, part_loop};
        if (status == ST_OK && !(*out = st_record_of_outputs(&st_node_loops, fields)))
            status = st_fail(ctx, "out of memory");
    }
    st_value_unref(activation), st_value_unref(share_v), st_value_unref(instance);
    st_value_unref(tiles), st_value_unref(part_tiles), st_value_unref(part_activation);
    st_value_unref(part_loop);
    free(core), free(e), free(lc), free(group), free(gram), free(share_part), free(d), free(share);
    return status;
}

/* ---- the node ---- */

static int loops_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p, st_value **out)
{
    (void)n_in;
    const st_array *cube = &in[1]->u.array, *grid = &in[2]->u.array;
    tucker m = {0};
    if (read_tucker(ctx, in[0], cube, &m)) return ST_ERR;
    if (grid->n_axes != 2 || grid->shape[0] != m.n_bars || grid->shape[1] != 2)
        return st_fail(ctx, "bars: cube's bars output (%lld bars x {start, end}) expected",
                       (long long)m.n_bars);
    for (int64_t i = 0; i < cube->n_elems; i++)
        if (!isfinite(cube->data[i]))
            return st_fail(ctx, "cube: element %lld is %g", (long long)i, cube->data[i]);
    int wanted = st_int(p, "loops");
    /* with parts, the loops are joined parts: parts_run checks against their count */
    if (wanted > m.rank_bar && st_int(p, "parts") == 0)
        return st_fail(ctx, "loops = %d: the model has %d loop types (rank_bar); ask ntd for more",
                       wanted, m.rank_bar);
    const int period = st_int(p, "period");
    if (period > m.n_bars)
        return st_fail(ctx, "period = %d: more than the cube's %lld slices", period,
                       (long long)m.n_bars);
    if (m.phases > 1 && period != m.phases)
        return st_fail(ctx,
                       "period = %d, but the model is ntd's cycle model with %d phases: give "
                       "loops the model's period",
                       period, m.phases);
    if (m.phases > 1 && st_choice(p, "group") >= 1)
        return st_fail(ctx,
                       "group = \"%s\" takes a model of one template per loop type, "
                       "not ntd's cycle model (period %d)",
                       st_str(p, "group"), m.phases);
    /* the phases start as copies of the loop's template: only refine fits them apart
     * (ntd's cycle model has a template per phase already) */
    if (period > 1 && m.phases == 1 && st_int(p, "refine") == 0)
        return st_fail(ctx,
                       "period = %d needs refine > 0 (the refinement fits one template per "
                       "phase; without it every phase would be the same template)",
                       period);
    if (st_int(p, "parts") > 0) return parts_run(ctx, &m, cube, grid, p, out);
    int *group = malloc((size_t)m.rank_bar * sizeof *group);
    if (!group) return st_fail(ctx, "out of memory");
    int n_loops = -1;
    if (st_choice(p, "group") >= 1) {
        float *all = malloc((size_t)m.n_cells * m.rank_bar * sizeof *all);
        if (all && templates(&m, m.core, m.rank_bar, all) == ST_OK)
            n_loops = st_choice(p, "group") == 1
                          ? st_group_by_energy(all, m.layout, m.n_cells, m.n_bars, m.rank_bar,
                                               period, wanted, st_num(p, "join_below"), group)
                          : st_group_by_sound(all, m.layout, m.n_bins, m.n_time, m.n_bars,
                                              m.rank_bar, wanted, st_num(p, "join_above"), group);
        free(all);
    } else
        n_loops = group_by_activation(m.layout, m.n_bars, m.rank_bar, wanted,
                                      st_num(p, "join_above"), group);
    if (n_loops < 1 || n_loops > 256) {
        free(group);
        return n_loops < 1 ? st_fail(ctx, "out of memory")
                           : st_fail(ctx, "%d loop types: at most 256", n_loops);
    }
    purified pure = {0};
    const int do_purify = st_int(p, "purify") || n_loops < m.rank_bar;
    st_value *activation = NULL, *instance = NULL, *tiles = NULL, *share_v = NULL;
    float *lt = malloc((size_t)m.n_cells * n_loops * m.phases * sizeof *lt);
    float *d = malloc((size_t)m.n_bars * n_loops * sizeof *d);
    double *share = malloc((size_t)m.n_bars * n_loops * sizeof *share);
    int status = lt && d && share ? ST_OK : st_fail(ctx, "out of memory");
    if (status == ST_OK && do_purify) {
        if (purify(&m, group, n_loops, st_int(p, "purify_iterations"), st_num(p, "sparsity"),
                   &pure))
            status = st_fail(ctx, "out of memory");
    }
    st_progress(ctx, 0.1);
    if (status == ST_OK) {
        if (templates(&m, do_purify ? pure.core : m.core, n_loops * m.phases, lt))
            status = st_fail(ctx, "out of memory");
        memcpy(d, do_purify ? pure.layout : m.layout, (size_t)m.n_bars * n_loops * sizeof *d);
    }
    /* The phases of each loop's cycle: component k * period + q is loop k's
     * template in the bars of phase q (b mod period); its activation is zero
     * in the other bars, and multiplicative updates keep it so. */
    const int n_comp = n_loops * period;
    float *lc = malloc((size_t)m.n_cells * n_comp * sizeof *lc);
    float *e = calloc((size_t)m.n_bars * n_comp, sizeof *e);
    double *share_comp = malloc((size_t)m.n_bars * n_comp * sizeof *share_comp);
    if (status == ST_OK && !(lc && e && share_comp)) status = st_fail(ctx, "out of memory");
    if (status == ST_OK) {
        for (int64_t i = 0; i < m.n_cells; i++)
            for (int c = 0; c < n_comp; c++)
                lc[i * n_comp + c] = m.phases > 1 /* the model's phase c % period */
                                         ? lt[i * n_comp + (c % period) * n_loops + c / period]
                                         : lt[i * n_loops + c / period];
        for (int64_t b = 0; b < m.n_bars; b++)
            for (int k = 0; k < n_loops; k++)
                e[b * n_comp + k * period + b % period] = d[b * n_loops + k];
    }
    if (status == ST_OK && st_int(p, "refine") > 0)
        status = refine(ctx, cube->data, m.n_cells, m.n_bars, n_comp, lc, e, st_int(p, "refine"));
    /* each phase's activation peaks at 1; its template carries the level */
    if (status == ST_OK) peak_one(e, lc, m.n_bars, m.n_cells, n_comp);
    if (status == ST_OK)
        for (int64_t b = 0; b < m.n_bars; b++)
            for (int k = 0; k < n_loops; k++)
                d[b * n_loops + k] = e[b * n_comp + k * period + b % period];
    if (status == ST_OK) {
        static const char *const act_axes[] = {"bar", "loop"};
        static const char *const inst_axes[] = {"loop", "field"};
        static const char *const tile_axes[] = {"loop", "freq", "time"};
        int64_t act_shape[2] = {m.n_bars, n_loops}, inst_shape[2] = {n_loops, 2},
                tile_shape[3] = {n_loops, m.n_bins, m.n_time * period};
        activation = st_array_new(2, act_shape, act_axes);
        share_v = st_array_new(2, act_shape, act_axes);
        instance = st_array_new(2, inst_shape, inst_axes);
        tiles = st_array_new(3, tile_shape, tile_axes);
        if (!activation || !share_v || !instance || !tiles) status = st_fail(ctx, "out of memory");
    }
    if (status == ST_OK) {
        st_progress(ctx, 0.9);
        if (shares(cube->data, lc, e, m.n_cells, m.n_bars, n_comp, ctx->n_threads, share_comp))
            status = st_fail(ctx, "out of memory");
        for (int64_t b = 0; status == ST_OK && b < m.n_bars; b++)
            for (int k = 0; k < n_loops; k++)
                share[b * n_loops + k] = share_comp[b * n_comp + k * period + b % period];
        for (int64_t i = 0; status == ST_OK && i < m.n_bars * n_loops; i++) {
            activation->u.array.data[i] = d[i];
            share_v->u.array.data[i] = (float)share[i];
        }
        /* an instance is whole cycles: any period consecutive bars loop seamlessly */
        int run_bars = (st_int(p, "bars_per_loop") + period - 1) / period * period;
        for (int k = 0; status == ST_OK && k < n_loops; k++) {
            if (best_instance(share, d, grid->data, m.n_bars, n_loops, k, run_bars,
                              &instance->u.array.data[2 * k], &instance->u.array.data[2 * k + 1]))
                status = st_fail(ctx, "out of memory");
            /* the tile: the loop's phases one after the other, its whole cycle */
            float *tile = tiles->u.array.data + (size_t)k * m.n_cells * period;
            for (int64_t f = 0; f < m.n_bins; f++)
                for (int q = 0; q < period; q++)
                    for (int64_t t = 0; t < m.n_time; t++)
                        tile[(f * period + q) * m.n_time + t] =
                            lc[(f * m.n_time + t) * n_comp + k * period + q];
        }
        /* each loop is its own part */
        st_value *part_loop = status == ST_OK ? identity_parts(n_loops) : NULL;
        if (status == ST_OK && !part_loop) status = st_fail(ctx, "out of memory");
        st_value *fields[7] = {activation, share_v, instance, tiles, tiles, activation, part_loop};
        if (status == ST_OK && !(*out = st_record_of_outputs(&st_node_loops, fields)))
            status = st_fail(ctx, "out of memory");
        st_value_unref(part_loop);
    }
    st_value_unref(activation), st_value_unref(share_v);
    st_value_unref(instance), st_value_unref(tiles);
    free(pure.core), free(pure.layout);
    free(group), free(lt), free(d), free(share), free(lc), free(e), free(share_comp);
    return status;
}

const st_node_type st_node_loops = {
    .name = "loops",
    .doc = "The loop types of a Tucker model of a song (ntd's record, three-way or its cycle "
           "model, and the cube it modelled), "
           "placed in the song: loop k is W C[:,:,k] H^T in bar b with weight D[b,k]. Joins loop "
           "types whose activations move together (to `loops` of them), purifies the recipes "
           "as the Unmixer does (an NMF of the core's loop mode with an L1 penalty), optionally "
           "frees each loop's template (KL refinement on the cube), and gives: activation (bar x "
           "loop, each loop's "
           "peak 1), share (bar x loop: the loop's part of the bar), instance (loop x {first "
           "bar, bars}: the run of whole bars where it is most dominant) and tiles (loop x freq "
           "x time: each loop's spectrogram at its peak; loop k in slice b is tiles[k] x "
           "activation[b][k]). loop_stems makes the stems from them.",
    .inputs = (const st_port[]){{"ntd", ST_RECORD}, {"cube", ST_ARRAY}, {"bars", ST_ARRAY}, {NULL}},
    .outputs = (const st_port[]){{"activation", ST_ARRAY},
                                 {"share", ST_ARRAY},
                                 {"instance", ST_ARRAY},
                                 {"tiles", ST_ARRAY},
                                 {"part_tiles", ST_ARRAY},
                                 {"part_activation", ST_ARRAY},
                                 {"part_loop", ST_ARRAY},
                                 {NULL}},
    .params = params,
    .slow = 0,
    .run = loops_run,
};
