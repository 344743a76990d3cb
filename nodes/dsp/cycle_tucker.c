/* The cycle model (cycle_tucker.h): a Tucker model whose loop types own a
 * whole cycle of P slices.
 *
 * Every update is made from a few slice-sized pieces. With S_b = sum_l
 * A[c(b), l] G[:, :, q(b), l] (rank[0] x rank[1]: slice b's mix of the core)
 * the model of slice b is W S_b H^T, and
 *   W:  numerator sum_b X_b H S_b^T,      denominator W sum_b S_b H^T H S_b^T
 *   H:  numerator sum_b X_b^T W S_b,      denominator H sum_b S_b^T W^T W S_b
 *   A:  numerator sum_{b in c} <Z_b, G_ql>, denominator sum_{b in c} <V_b, G_ql>
 *   G:  numerator sum_{b of phase q} A[c(b), l] Z_b, denominator the same with V_b
 * where Z_b = W^T X_b H and V_b = W^T W S_b H^T H. Only two products touch
 * the cube X (the only large operand), both through cblas_sgemm split in
 * parts fixed by the size, which threads share (the same bits on any number
 * of threads): X times M (M[(t, b), i] = (H S_b^T)[t, i]) for W's
 * numerator, and P = W^T X, from which H's numerator and every Z_b follow.
 * The rest is of rank size and in double, as in dsp/tucker.c. Each update is
 * a multiplicative update of a quadratic in one block with non-negative
 * coefficients (Lee & Seung's auxiliary function), so the error does not
 * increase (tests/unit/test_cycle_tucker.c checks it); with P = 1 the
 * updates are dsp/tucker.c's, and the unit test checks that the errors agree.
 * The error is the inner-product form ||X||^2 - 2 <Z, S> + <V, S>, which
 * loses digits only when the error is small (below 0.1); a song's cube
 * stays far above that.
 */
#include "cycle_tucker.h"
#include "fixed_parts.h"
#include "lapack.h"
#include "rng.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* TensorLy's epsilon = 10e-12, as dsp/tucker.c clips with */
static const double clip_floor = 10e-12;

st_cycle_tucker *st_cycle_tucker_new(const int64_t shape[3], int period, int stagger,
                                     int slice_types, const int rank[3])
{
    if (shape[0] < 1 || shape[1] < 1 || shape[2] < 1 || period < 1 || rank[0] < 1 || rank[1] < 1 ||
        rank[2] < 1 || slice_types < 0 || slice_types > rank[2])
        return NULL;
    st_cycle_tucker *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->n_bins = shape[0], m->n_time = shape[1], m->n_bars = shape[2];
    m->period = period;
    m->stagger = stagger && period > 1;
    m->slice_types = period > 1 ? slice_types : 0;
    m->n_cycles = (shape[2] - 1 + (m->stagger ? period - 1 : 0)) / period + 1;
    if (m->slice_types > 0) m->n_cycles = shape[2];
    for (int k = 0; k < 3; k++)
        m->rank[k] = rank[k];
    m->sound = calloc((size_t)(m->n_bins * rank[0]), sizeof(double));
    m->rhythm = calloc((size_t)(m->n_time * rank[1]), sizeof(double));
    m->cycle = calloc((size_t)(m->n_cycles * rank[2]), sizeof(double));
    m->core = calloc((size_t)rank[0] * rank[1] * period * rank[2], sizeof(double));
    if (!m->sound || !m->rhythm || !m->cycle || !m->core) {
        st_cycle_tucker_free(m);
        return NULL;
    }
    return m;
}

void st_cycle_tucker_free(st_cycle_tucker *m)
{
    if (!m) return;
    free(m->sound), free(m->rhythm), free(m->cycle), free(m->core);
    free(m);
}

static int64_t core_size(const st_cycle_tucker *m)
{
    return (int64_t)m->rank[0] * m->rank[1] * m->period * m->rank[2];
}

void st_cycle_tucker_init_random(st_cycle_tucker *m, uint64_t seed)
{
    uint64_t state = st_rng_seed(seed, 0);
    for (int64_t i = 0; i < core_size(m); i++)
        m->core[i] = st_rng_uniform(&state) + 0.01;
    for (int64_t i = 0; i < m->n_bins * m->rank[0]; i++)
        m->sound[i] = st_rng_uniform(&state);
    for (int64_t i = 0; i < m->n_time * m->rank[1]; i++)
        m->rhythm[i] = st_rng_uniform(&state);
    for (int64_t i = 0; i < m->n_cycles * m->rank[2]; i++)
        m->cycle[i] = st_rng_uniform(&state);
}

/* ---- scratch of one fit ---- */

typedef struct {
    st_cycle_tucker *m;
    const float *x;
    int n_threads;
    int64_t tb;        /* n_time x n_bars: a row of X seen as n_bins x (time, slice) */
    float *wf, *hf;    /* float copies of W and H, for sgemm against X */
    float *mt;         /* (time, slice) x rank[0]: H S_b^T for every slice */
    float *numw;       /* n_bins x rank[0]: X M */
    float *p;          /* rank[0] x (time, slice): W^T X */
    double *pd;        /* the same in double */
    double *s, *z, *v; /* slice x rank[0] x rank[1]: S_b, Z_b, V_b */
    double *wtw, *hth; /* W^T W, H^T H */
    double *k, *tmp;   /* rank x rank scratch */
    double *num, *den; /* the largest block's size */
    double *a;         /* 2 x rank[2]: one slice's activations or sums, per type */
    double xx;         /* ||X||^2 */
} fit;

static void fit_free(fit *f)
{
    free(f->wf), free(f->hf), free(f->mt), free(f->numw), free(f->p), free(f->pd);
    free(f->s), free(f->z), free(f->v), free(f->wtw), free(f->hth), free(f->k), free(f->tmp);
    free(f->num), free(f->den), free(f->a);
}

static int fit_alloc(fit *f)
{
    const st_cycle_tucker *m = f->m;
    const int64_t r0 = m->rank[0], r1 = m->rank[1], rr = r0 > r1 ? r0 : r1;
    f->tb = m->n_time * m->n_bars;
    int64_t big = m->n_bins * r0;
    if (m->n_time * r1 > big) big = m->n_time * r1;
    if (m->n_cycles * m->rank[2] > big) big = m->n_cycles * m->rank[2];
    if (core_size(m) > big) big = core_size(m);
    f->wf = malloc(sizeof(float) * (size_t)(m->n_bins * r0));
    f->hf = malloc(sizeof(float) * (size_t)(m->n_time * r1));
    f->mt = malloc(sizeof(float) * (size_t)(f->tb * r0));
    f->numw = malloc(sizeof(float) * (size_t)(m->n_bins * r0));
    f->p = malloc(sizeof(float) * (size_t)(r0 * f->tb));
    f->pd = malloc(sizeof(double) * (size_t)(r0 * f->tb));
    f->s = malloc(sizeof(double) * (size_t)(m->n_bars * r0 * r1));
    f->z = malloc(sizeof(double) * (size_t)(m->n_bars * r0 * r1));
    f->v = malloc(sizeof(double) * (size_t)(m->n_bars * r0 * r1));
    f->wtw = malloc(sizeof(double) * (size_t)(r0 * r0));
    f->hth = malloc(sizeof(double) * (size_t)(r1 * r1));
    f->k = malloc(sizeof(double) * (size_t)(rr * rr));
    f->tmp = malloc(sizeof(double) * (size_t)(r0 * r1));
    f->num = malloc(sizeof(double) * (size_t)big);
    f->den = malloc(sizeof(double) * (size_t)big);
    f->a = malloc(sizeof(double) * 2 * (size_t)m->rank[2]);
    return f->wf && f->hf && f->mt && f->numw && f->p && f->pd && f->s && f->z && f->v && f->wtw &&
                   f->hth && f->k && f->tmp && f->num && f->den && f->a
               ? 0
               : -1;
}

/* A factor's float copy and Gram matrix, after it changed. */
static void refresh(const double *a, int64_t in, int r, float *af, double *gram)
{
    for (int64_t i = 0; i < in * r; i++)
        af[i] = (float)a[i];
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, r, r, (int)in, 1.0, a, r, a, r, 0.0, gram,
                r);
}

/* ---- the products with X, split over threads ---- */

typedef struct {
    const fit *f;
    int which; /* 0: numw = X M (rows of X); 1: p = W^T X (columns) */
} product_job;

static void product_range(void *arg, int64_t begin, int64_t end)
{
    const product_job *j = arg;
    const fit *f = j->f;
    const int r0 = f->m->rank[0], tb = (int)f->tb, n = (int)(end - begin);
    if (j->which == 0)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, r0, tb, 1.0f, f->x + begin * tb,
                    tb, f->mt, r0, 0.0f, f->numw + begin * r0, r0);
    else
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, r0, n, (int)f->m->n_bins, 1.0f, f->wf,
                    r0, f->x + begin, tb, 0.0f, f->p + begin, tb);
}

static void product_with_x(fit *f, int which)
{
    product_job j = {f, which};
    /* in parts fixed by the size (fixed_parts.h), so that the fit is the
     * same on any number of threads; below a few million multiply-adds one
     * part, as a thread costs more than it saves */
    int n_parts = f->m->n_bins * f->tb * f->m->rank[0] < 4000000 ? 1 : 12;
    st_parallel_parts(f->n_threads, which == 0 ? f->m->n_bins : f->tb, n_parts, product_range, &j);
}

/* ---- slice-sized pieces ---- */

/* a[l]: loop type l's activation in slice b (its cycle's, or the slice's own) */
static void slice_activations(const st_cycle_tucker *m, int64_t b, double *a)
{
    const int L = m->rank[2];
    for (int l = 0; l < L; l++)
        a[l] = m->cycle[st_cycle_of(m, b, l) * L + l];
}

/* S_b = sum_l A[c(b), l] G[:, :, q(b), l] for every slice */
static void make_s(fit *f)
{
    const st_cycle_tucker *m = f->m;
    const int64_t rr = (int64_t)m->rank[0] * m->rank[1];
    const int P = m->period, L = m->rank[2];
    double *a = f->a;
    for (int64_t b = 0; b < m->n_bars; b++) {
        slice_activations(m, b, a);
        const int64_t q = b % P;
        for (int64_t ij = 0; ij < rr; ij++) {
            const double *g = m->core + (ij * P + q) * L;
            double sum = 0;
            for (int l = 0; l < L; l++)
                sum += a[l] * g[l];
            f->s[b * rr + ij] = sum;
        }
    }
}

/* V_b = W^T W S_b H^T H */
static void make_v(fit *f)
{
    const int r0 = f->m->rank[0], r1 = f->m->rank[1];
    for (int64_t b = 0; b < f->m->n_bars; b++) {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r0, r1, r0, 1.0, f->wtw, r0,
                    f->s + b * r0 * r1, r1, 0.0, f->tmp, r1);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r0, r1, r1, 1.0, f->tmp, r1, f->hth,
                    r1, 0.0, f->v + b * r0 * r1, r1);
    }
}

/* P = W^T X (float, then double) and Z_b = P_b H for every slice, where P_b
 * (rank[0] x time) is P's columns of slice b */
static void make_p(fit *f)
{
    product_with_x(f, 1);
    for (int64_t i = 0; i < f->m->rank[0] * f->tb; i++)
        f->pd[i] = f->p[i];
}

static void make_z(fit *f)
{
    const st_cycle_tucker *m = f->m;
    const int r0 = m->rank[0], r1 = m->rank[1], B = (int)m->n_bars, T = (int)m->n_time;
    /* row i of every Z_b: (slice x rank[1]) = P_i^T H, P_i = row i of P as time x slice */
    for (int i = 0; i < r0; i++)
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, B, r1, T, 1.0, f->pd + i * f->tb, B,
                    m->rhythm, r1, 0.0, f->z + i * r1, r0 * r1);
}

static void multiply(double *a, const double *num, const double *den, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        a[i] *= fmax(num[i], clip_floor) / fmax(den[i], clip_floor);
}

/* ---- the updates ---- */

static void update_sound(fit *f)
{
    st_cycle_tucker *m = f->m;
    const int r0 = m->rank[0], r1 = m->rank[1];
    const int64_t B = m->n_bars, rr = (int64_t)r0 * r1;
    /* M[(t, b), i] = sum_j H[t, j] S_b[i, j] */
    for (int64_t t = 0; t < m->n_time; t++)
        for (int64_t b = 0; b < B; b++) {
            const double *h = m->rhythm + t * r1, *s = f->s + b * rr;
            float *row = f->mt + (t * B + b) * r0;
            for (int i = 0; i < r0; i++) {
                double sum = 0;
                for (int j = 0; j < r1; j++)
                    sum += h[j] * s[i * r1 + j];
                row[i] = (float)sum;
            }
        }
    product_with_x(f, 0);
    for (int64_t i = 0; i < m->n_bins * r0; i++)
        f->num[i] = f->numw[i];
    /* K = sum_b S_b H^T H S_b^T */
    for (int64_t b = 0; b < B; b++) {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r0, r1, r1, 1.0, f->s + b * rr, r1,
                    f->hth, r1, 0.0, f->tmp, r1);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r0, r0, r1, 1.0, f->tmp, r1,
                    f->s + b * rr, r1, b ? 1.0 : 0.0, f->k, r0);
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m->n_bins, r0, r0, 1.0, m->sound,
                r0, f->k, r0, 0.0, f->den, r0);
    multiply(m->sound, f->num, f->den, m->n_bins * r0);
    refresh(m->sound, m->n_bins, r0, f->wf, f->wtw);
}

static void update_rhythm(fit *f)
{
    st_cycle_tucker *m = f->m;
    const int r0 = m->rank[0], r1 = m->rank[1], B = (int)m->n_bars, T = (int)m->n_time;
    const int64_t rr = (int64_t)r0 * r1;
    /* numerator sum_i P_i S_i, P_i (time x slice), S_i (slice x rank[1]) = row i of every S_b */
    for (int i = 0; i < r0; i++)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, r1, B, 1.0, f->pd + i * f->tb, B,
                    f->s + i * r1, (int)rr, i ? 1.0 : 0.0, f->num, r1);
    /* K = sum_b S_b^T W^T W S_b */
    for (int64_t b = 0; b < B; b++) {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r0, r1, r0, 1.0, f->wtw, r0,
                    f->s + b * rr, r1, 0.0, f->tmp, r1);
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, r1, r1, r0, 1.0, f->s + b * rr, r1,
                    f->tmp, r1, b ? 1.0 : 0.0, f->k, r1);
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, r1, r1, 1.0, m->rhythm, r1, f->k, r1,
                0.0, f->den, r1);
    multiply(m->rhythm, f->num, f->den, (int64_t)T * r1);
    refresh(m->rhythm, T, r1, f->hf, f->hth);
}

static void update_cycle(fit *f)
{
    st_cycle_tucker *m = f->m;
    const int P = m->period, L = m->rank[2];
    const int64_t rr = (int64_t)m->rank[0] * m->rank[1], n = m->n_cycles * L;
    memset(f->num, 0, sizeof(double) * (size_t)n);
    memset(f->den, 0, sizeof(double) * (size_t)n);
    double *zg = f->a, *vg = f->a + L; /* slice b's sums, per type */
    for (int64_t b = 0; b < m->n_bars; b++) {
        const int64_t q = b % P;
        for (int l = 0; l < L; l++)
            zg[l] = vg[l] = 0;
        for (int64_t ij = 0; ij < rr; ij++) {
            const double z = f->z[b * rr + ij], v = f->v[b * rr + ij];
            const double *g = m->core + (ij * P + q) * L;
            for (int l = 0; l < L; l++)
                zg[l] += z * g[l], vg[l] += v * g[l];
        }
        for (int l = 0; l < L; l++) {
            const int64_t c = st_cycle_of(m, b, l);
            f->num[c * L + l] += zg[l], f->den[c * L + l] += vg[l];
        }
    }
    multiply(m->cycle, f->num, f->den, n);
}

/* A slice type's phases are one template: its numerator and denominator are
 * summed over the phases (the gradient of a shared value), so that one
 * factor multiplies every phase and they stay equal. den may be NULL (the
 * start's projection has none). */
static void tie_phases(const st_cycle_tucker *m, double *num, double *den)
{
    const int P = m->period, L = m->rank[2];
    const int64_t rr = (int64_t)m->rank[0] * m->rank[1];
    for (int64_t ij = 0; ij < rr; ij++)
        for (int l = L - m->slice_types; l < L; l++) {
            double sn = 0, sd = 0;
            for (int q = 0; q < P; q++) {
                sn += num[(ij * P + q) * L + l];
                if (den) sd += den[(ij * P + q) * L + l];
            }
            for (int q = 0; q < P; q++) {
                num[(ij * P + q) * L + l] = sn;
                if (den) den[(ij * P + q) * L + l] = sd;
            }
        }
}

static void update_core(fit *f)
{
    st_cycle_tucker *m = f->m;
    const int P = m->period, L = m->rank[2];
    const int64_t rr = (int64_t)m->rank[0] * m->rank[1], n = core_size(m);
    memset(f->num, 0, sizeof(double) * (size_t)n);
    memset(f->den, 0, sizeof(double) * (size_t)n);
    double *a = f->a;
    for (int64_t b = 0; b < m->n_bars; b++) {
        slice_activations(m, b, a);
        const int64_t q = b % P;
        for (int64_t ij = 0; ij < rr; ij++) {
            const double z = f->z[b * rr + ij], v = f->v[b * rr + ij];
            double *num = f->num + (ij * P + q) * L, *den = f->den + (ij * P + q) * L;
            for (int l = 0; l < L; l++)
                num[l] += a[l] * z, den[l] += a[l] * v;
        }
    }
    tie_phases(m, f->num, f->den);
    multiply(m->core, f->num, f->den, n);
}

static double relative_error(fit *f)
{
    const int64_t n = f->m->n_bars * f->m->rank[0] * f->m->rank[1];
    double zs = 0, vs = 0;
    for (int64_t i = 0; i < n; i++)
        zs += f->z[i] * f->s[i], vs += f->v[i] * f->s[i];
    return sqrt(fmax(f->xx - 2 * zs + vs, 0) / f->xx);
}

static void start(fit *f)
{
    const st_cycle_tucker *m = f->m;
    openblas_set_num_threads(1); /* the threads are ours, as in dsp/tucker.c */
    for (int64_t i = 0; i < m->n_bins * f->tb; i++)
        f->xx += (double)f->x[i] * f->x[i];
    refresh(m->sound, m->n_bins, m->rank[0], f->wf, f->wtw);
    refresh(m->rhythm, m->n_time, m->rank[1], f->hf, f->hth);
}

int st_cycle_tucker_init_from(st_cycle_tucker *m, const float *x, const st_tucker *t, int n_threads)
{
    const int P = m->period, L = m->rank[2];
    memcpy(m->sound, t->factor[0], sizeof(double) * (size_t)(m->n_bins * m->rank[0]));
    memcpy(m->rhythm, t->factor[1], sizeof(double) * (size_t)(m->n_time * m->rank[1]));
    fit f = {.m = m, .x = x, .n_threads = n_threads > 0 ? n_threads : 1};
    int status = fit_alloc(&f);
    if (!status) { /* each cycle's activation: the mean of its slices' (f.num counts them) */
        memset(m->cycle, 0, sizeof(double) * (size_t)(m->n_cycles * L));
        memset(f.num, 0, sizeof(double) * (size_t)(m->n_cycles * L));
        for (int64_t b = 0; b < m->n_bars; b++)
            for (int l = 0; l < L; l++) {
                const int64_t c = st_cycle_of(m, b, l);
                m->cycle[c * L + l] += t->factor[2][b * L + l], f.num[c * L + l] += 1;
            }
        for (int64_t i = 0; i < m->n_cycles * L; i++)
            if (f.num[i] > 0) m->cycle[i] /= f.num[i];
    }
    if (!status) {
        start(&f);
        make_p(&f);
        make_z(&f);
        /* G = the projection: V_b replaced by nothing, only the numerator */
        const int64_t rr = (int64_t)m->rank[0] * m->rank[1];
        memset(m->core, 0, sizeof(double) * (size_t)core_size(m));
        for (int64_t b = 0; b < m->n_bars; b++) {
            double *a = f.a;
            slice_activations(m, b, a);
            for (int64_t ij = 0; ij < rr; ij++) {
                double *g = m->core + (ij * P + b % P) * L;
                for (int l = 0; l < L; l++)
                    g[l] += a[l] * f.z[b * rr + ij];
            }
        }
        /* a slice type's template is the same in every phase: its projection is summed */
        tie_phases(m, m->core, NULL);
    }
    fit_free(&f);
    return status;
}

int st_cycle_tucker_fit(st_cycle_tucker *m, const float *x, int max_iterations, double tol,
                        int n_threads, void (*progress)(void *data, int iteration, double error),
                        void *progress_data, double *errors)
{
    fit f = {.m = m, .x = x, .n_threads = n_threads > 0 ? n_threads : 1};
    int done = -1;
    if (fit_alloc(&f)) goto out;
    start(&f);
    for (done = 0; done < max_iterations;) {
        make_s(&f);
        update_sound(&f);
        make_p(&f);
        update_rhythm(&f);
        make_z(&f);
        make_v(&f);
        update_cycle(&f);
        make_s(&f);
        make_v(&f);
        update_core(&f);
        make_s(&f);
        make_v(&f);
        double e = relative_error(&f);
        errors[done++] = e;
        if (progress) progress(progress_data, done, e);
        if (done > 2 && fabs(errors[done - 2] - e) < tol) break;
    }
out:
    fit_free(&f);
    return done;
}
