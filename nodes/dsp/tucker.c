/* Non-negative Tucker decomposition, as TensorLy 0.9 computes it.
 *
 * Every update needs X multiplied along all modes but one by the transposed
 * factors, Y_n = X x_{m != n} A_m^T. Those products are made one mode at a
 * time with the small factors (never a Khatri-Rao or Kronecker matrix), in
 * an order that shares work: P = X x2 A2^T for mode 0, whose numerator is
 * P_(0) (G x1 A1)_(0)^T; T = X x0 A0^T, then T x2 A2^T for mode 1 and
 * T x1 A1^T for mode 2, which times A2^T is also the core's numerator
 * X x_all A^T. MU makes P and T in one read of X, a slab of bins at a time
 * (fused_mode_0); HALS reads X twice.
 *
 * Precision. The products that touch X (the only large operand) run in
 * float32 through cblas_sgemm: X and the factors are non-negative, so those
 * sums have no cancellation and keep ~1e-7 relative accuracy (TensorLy itself
 * run in float32 stays within 2e-7 of its float64 errors on the conformance
 * cube). Everything of rank size is double (cblas_dgemm), for two reasons:
 *  - the error comes from rank-sized inner products,
 *    e^2 = (||X||^2 - 2 <X x_all A^T, G> + ||G x_all A||^2) / ||X||^2,
 *    whose terms are ~4 times e^2 at e = 0.5: in float32 that difference
 *    would be off in the 6th digit, too close to the 1e-5 we promise, while
 *    double keeps it to the float32 accuracy of the inputs (~1e-7);
 *  - HALS's inner solvers stop on tests at 1e-8 of their first sweep (a
 *    squared change in hals_nnls, a signed sum in FISTA), finer than float32
 *    resolves: in float32 they would run a different number of sweeps than
 *    TensorLy's and drift from it.
 * When the error gets small (e < 0.1) the inner-product form loses digits to
 * cancellation, so the residual is then summed directly, in double.
 */
#include "tucker.h"
#include "fixed_parts.h"
#include "lapack.h"
#include "rng.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { N = ST_TUCKER_MODES };

/* TensorLy's epsilon = 10e-12: numerators and denominators are clipped to it. */
static const double clip_floor = 10e-12;

/* Thread-count independence. Every result of this file has the same bits
 * on any number of threads: work is cut in parts fixed by its size
 * (fixed_parts.h), threads take whole parts, and sums over parts are added
 * in part order. The part counts:
 *  - BIN_PARTS: mode 0's rows (MU's fused read of X, HALS's numerator), each
 *    part with its own scratch and, in the fused read, its own partial sum
 *    of X x0 A0^T; FUSED_BINS bins per slab of the fused read;
 *  - PRODUCT_PARTS: the other products with X, split along an outer
 *    dimension (12 share evenly among 1, 2, 3, 4 or 6 threads);
 *  - GRAM_PARTS: the SVD start's Gram matrices, summed in float parts. */
enum { BIN_PARTS = 4, FUSED_BINS = 64, PRODUCT_PARTS = 12, GRAM_PARTS = 4 };

/* ---- mode products ----
 * t (row-major, dims d) times op(a) along mode: out has d[mode] replaced by
 * j. op(a) = a^T with a stored d[mode] x j when trans, else a stored
 * j x d[mode]. Seen as (L, I, R) around the mode, out_l = op(a) t_l. */
static void split(const int64_t d[N], int mode, int64_t *left, int64_t *right)
{
    *left = *right = 1;
    for (int k = 0; k < mode; k++)
        *left *= d[k];
    for (int k = mode + 1; k < N; k++)
        *right *= d[k];
}

/* The products with X, split in PRODUCT_PARTS fixed parts along an outer
 * dimension (rows for the last mode, columns for the first, slices for the
 * middle one), which threads share; OpenBLAS itself runs single-threaded
 * inside (its own threads spin, which costs more than it gives on the small
 * sides of these products). */
typedef struct {
    const float *t, *a;
    float *out;
    int64_t left, in, right, j;
    int trans;
} product_job;

static void product_range(void *ctx, int64_t begin, int64_t end)
{
    const product_job *p = ctx;
    const int lda = (int)(p->trans ? p->j : p->in), n = (int)(end - begin);
    if (p->right == 1) /* rows begin..end of out (L x j) = t (L x I) op(a)^T */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, p->trans ? CblasNoTrans : CblasTrans, n, (int)p->j,
                    (int)p->in, 1.0f, p->t + begin * p->in, (int)p->in, p->a, lda, 0.0f,
                    p->out + begin * p->j, (int)p->j);
    else if (p->left == 1) /* columns begin..end of out (j x R) = op(a) t (I x R) */
        cblas_sgemm(CblasRowMajor, p->trans ? CblasTrans : CblasNoTrans, CblasNoTrans, (int)p->j, n,
                    (int)p->in, 1.0f, p->a, lda, p->t + begin, (int)p->right, 0.0f, p->out + begin,
                    (int)p->right);
    else
        for (int64_t l = begin; l < end; l++)
            cblas_sgemm(CblasRowMajor, p->trans ? CblasTrans : CblasNoTrans, CblasNoTrans,
                        (int)p->j, (int)p->right, (int)p->in, 1.0f, p->a, lda,
                        p->t + l * p->in * p->right, (int)p->right, 0.0f,
                        p->out + l * p->j * p->right, (int)p->right);
}

static void mode_product_f(const float *t, const int64_t d[N], int mode, const float *a, int64_t j,
                           int trans, float *out, int n_threads)
{
    product_job p = {t, a, out, 1, d[mode], 1, j, trans};
    split(d, mode, &p.left, &p.right);
    int64_t items = p.right == 1 || p.left > 1 ? p.left : p.right;
    /* below a few million multiply-adds a thread costs more than it saves:
     * one part, decided by the size alone */
    int n_parts = p.left * p.in * p.right * j < 4000000 ? 1 : PRODUCT_PARTS;
    st_parallel_parts(n_threads, items, n_parts, product_range, &p);
}

static void mode_product_d(const double *t, const int64_t d[N], int mode, const double *a,
                           int64_t j, int trans, double *out)
{
    int64_t left, right, in = d[mode];
    split(d, mode, &left, &right);
    int lda = (int)(trans ? j : in);
    if (right == 1) {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, trans ? CblasNoTrans : CblasTrans, (int)left,
                    (int)j, (int)in, 1.0, t, (int)in, a, lda, 0.0, out, (int)j);
        return;
    }
    for (int64_t l = 0; l < left; l++)
        cblas_dgemm(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, CblasNoTrans, (int)j,
                    (int)right, (int)in, 1.0, a, lda, t + l * in * right, (int)right, 0.0,
                    out + l * j * right, (int)right);
}

/* out (d[mode] x r) = unfold(y, mode) unfold(g, mode)^T, where g has the
 * dims of y but r along mode: the contraction over every other index. */
static void unfold_dot(const double *y, const int64_t d[N], const double *g, int64_t r, int mode,
                       double *out)
{
    int64_t left, right, in = d[mode];
    split(d, mode, &left, &right);
    if (right == 1) { /* y (L x I), g (L x r): out = y^T g */
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)in, (int)r, (int)left, 1.0, y,
                    (int)in, g, (int)r, 0.0, out, (int)r);
        return;
    }
    for (int64_t l = 0; l < left; l++)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)in, (int)r, (int)right, 1.0,
                    y + l * in * right, (int)right, g + l * r * right, (int)right, l ? 1.0 : 0.0,
                    out, (int)r);
}

static void widen(const float *f, int64_t n, double *d)
{
    for (int64_t i = 0; i < n; i++)
        d[i] = f[i];
}

static void narrow(const double *d, int64_t n, float *f)
{
    for (int64_t i = 0; i < n; i++)
        f[i] = (float)d[i];
}

static double dot(const double *a, const double *b, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static int64_t product(const int64_t *d, int n)
{
    int64_t p = 1;
    for (int i = 0; i < n; i++)
        p *= d[i];
    return p;
}

/* ---- the model ---- */

st_tucker *st_tucker_new(const int64_t shape[N], const int rank[N])
{
    st_tucker *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    int64_t core = 1;
    for (int n = 0; n < N; n++) {
        t->shape[n] = shape[n], t->rank[n] = rank[n], core *= rank[n];
        if (!(t->factor[n] = calloc((size_t)(shape[n] * rank[n]), sizeof(double)))) break;
    }
    t->core = calloc((size_t)core, sizeof(double));
    if (!t->core || !t->factor[N - 1]) {
        st_tucker_free(t);
        return NULL;
    }
    return t;
}

void st_tucker_free(st_tucker *t)
{
    if (!t) return;
    for (int n = 0; n < N; n++)
        free(t->factor[n]);
    free(t->core);
    free(t);
}

static int64_t core_size(const st_tucker *t)
{
    return (int64_t)t->rank[0] * t->rank[1] * t->rank[2];
}

void st_tucker_abs(st_tucker *t)
{
    for (int64_t i = 0; i < core_size(t); i++)
        t->core[i] = fabs(t->core[i]);
    for (int n = 0; n < N; n++)
        for (int64_t i = 0; i < t->shape[n] * t->rank[n]; i++)
            t->factor[n][i] = fabs(t->factor[n][i]);
}

void st_tucker_init_random(st_tucker *t, uint64_t seed)
{
    uint64_t state = st_rng_seed(seed, 0);
    for (int64_t i = 0; i < core_size(t); i++)
        t->core[i] = st_rng_uniform(&state) + 0.01;
    for (int n = 0; n < N; n++)
        for (int64_t i = 0; i < t->shape[n] * t->rank[n]; i++)
            t->factor[n][i] = st_rng_uniform(&state);
}

/* ---- SVD initialisation ---- */

/* X x0 A0^T x1 A1^T x2 A2^T into core (double), the factors given in float. */
static int project(const float *x, const int64_t shape[N], const int rank[N], float *const af[N],
                   double *core, int n_threads)
{
    int64_t d0[N] = {rank[0], shape[1], shape[2]}, d1[N] = {rank[0], rank[1], shape[2]};
    float *t0 = malloc(sizeof(float) * (size_t)product(d0, N));
    float *t1 = malloc(sizeof(float) * (size_t)product(d1, N));
    if (!t0 || !t1) {
        free(t0), free(t1);
        return -1;
    }
    mode_product_f(x, shape, 0, af[0], rank[0], 1, t0, n_threads);
    mode_product_f(t0, d0, 1, af[1], rank[1], 1, t1, n_threads);
    const int64_t n1 = product(d1, N), r2 = rank[2];
    double *t1d = malloc(sizeof(double) * (size_t)n1);
    double *a2 = malloc(sizeof(double) * (size_t)(shape[2] * r2));
    if (t1d && a2) {
        widen(t1, n1, t1d);
        widen(af[2], shape[2] * r2, a2);
        mode_product_d(t1d, d1, 2, a2, r2, 1, core);
    }
    int status = t1d && a2 ? 0 : -1;
    free(t0), free(t1), free(t1d), free(a2);
    return status;
}

/* The Gram matrix unfold(x, mode) unfold(x, mode)^T (I_n x I_n), both
 * triangles, in double: each thread sums a share of the unfolding's columns
 * (float32 ssyrk: non-negative terms) into its own matrix. */
typedef struct {
    const float *x;
    int64_t left, in, right;
    int n_parts;
    float *part; /* n_parts x in x in */
} gram_job;

static void gram_parts(void *ctx, int64_t begin, int64_t end)
{
    const gram_job *j = ctx;
    const int in = (int)j->in;
    for (int64_t k = begin; k < end; k++) {
        float *g = j->part + k * j->in * j->in;
        if (j->right == 1) { /* rows of x (L x I) */
            int64_t r0 = j->left * k / j->n_parts, r1 = j->left * (k + 1) / j->n_parts;
            cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, in, (int)(r1 - r0), 1.0f,
                        j->x + r0 * j->in, in, 0.0f, g, in);
        } else if (j->left == 1) { /* columns of x (I x R) */
            int64_t c0 = j->right * k / j->n_parts, c1 = j->right * (k + 1) / j->n_parts;
            cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, in, (int)(c1 - c0), 1.0f,
                        j->x + c0, (int)j->right, 0.0f, g, in);
        } else { /* slices l of x (L x I x R) */
            int64_t l0 = j->left * k / j->n_parts, l1 = j->left * (k + 1) / j->n_parts;
            memset(g, 0, sizeof(float) * (size_t)(j->in * j->in));
            for (int64_t l = l0; l < l1; l++)
                cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, in, (int)j->right, 1.0f,
                            j->x + l * j->in * j->right, (int)j->right, 1.0f, g, in);
        }
    }
}

/* Summed in n_parts parts (on up to n_threads threads): the sum depends on
 * n_parts only, not on which thread made which part. */
static int unfolding_gram(const float *x, const int64_t d[N], int mode, double *gd, int n_parts,
                          int n_threads)
{
    gram_job j = {x, 1, d[mode], 1, n_parts, NULL};
    split(d, mode, &j.left, &j.right);
    if (!(j.part = malloc(sizeof(float) * (size_t)(n_parts * j.in * j.in)))) return -1;
    st_parallel_for(n_threads, n_parts, gram_parts, &j);
    for (int64_t i = 0; i < j.in; i++)
        for (int64_t k = i; k < j.in; k++) {
            double sum = 0;
            for (int p = 0; p < n_parts; p++)
                sum += j.part[(p * j.in + i) * j.in + k];
            gd[i * j.in + k] = gd[k * j.in + i] = sum;
        }
    free(j.part);
    return 0;
}

/* The r leading eigenpairs of the symmetric n x n matrix a (destroyed),
 * largest first: vectors as the columns of u (n x r, row-major). */
static int leading_eigen(double *a, int n, int r, double *values, double *u)
{
    int il = n - r + 1, iu = n, m = 0, info = 0, lwork = -1, liwork = -1, iwork_q = 0;
    double vl = 0, vu = 0, abstol = 0, work_q = 0;
    double *w = malloc(sizeof(double) * (size_t)n), *z = malloc(sizeof(double) * (size_t)n * r);
    int *isuppz = malloc(sizeof(int) * 2 * (size_t)r);
    dsyevr_("V", "I", "U", &n, a, &n, &vl, &vu, &il, &iu, &abstol, &m, w, z, &n, isuppz, &work_q,
            &lwork, &iwork_q, &liwork, &info);
    lwork = (int)work_q, liwork = iwork_q;
    double *work = malloc(sizeof(double) * (size_t)lwork);
    int *iwork = malloc(sizeof(int) * (size_t)liwork);
    int status = -1;
    if (w && z && isuppz && work && iwork) {
        dsyevr_("V", "I", "U", &n, a, &n, &vl, &vu, &il, &iu, &abstol, &m, w, z, &n, isuppz, work,
                &lwork, iwork, &liwork, &info);
        if (info == 0 && m == r) {
            for (int j = 0; j < r; j++) { /* ascending -> descending */
                values[j] = w[r - 1 - j];
                for (int i = 0; i < n; i++)
                    u[(int64_t)i * r + j] = z[(int64_t)(r - 1 - j) * n + i];
            }
            status = 0;
        } else {
            status = info ? info : -2;
        }
    }
    free(w), free(z), free(isuppz), free(work), free(iwork);
    return status;
}

/* One factor of the SVD start: U from the Gram matrix gd (in x in, made
 * here when NULL in n_parts parts; destroyed), TensorLy's svd_flip (each
 * column positive at its largest |entry|), then make_svd_non_negative
 * (NNDSVDa), which needs the norms of the positive and negative parts of
 * each right singular vector v_j = unfold(X)^T u_j / s_j. On one thread. */
static int svd_factor(const float *x, const int64_t shape[N], int mode, int rank, double mean,
                      double *factor, int n_parts, double *gram, char *error, size_t error_size)
{
    const int n_threads = 1;
    const int64_t in = shape[mode];
    int64_t dz[N] = {shape[0], shape[1], shape[2]};
    dz[mode] = rank;
    const int64_t nz = product(dz, N);
    double *gd = gram ? gram : malloc(sizeof(double) * (size_t)(in * in));
    double *s = malloc(sizeof(double) * (size_t)rank),
           *u = malloc(sizeof(double) * (size_t)(in * rank));
    double *pos = calloc((size_t)rank, sizeof(double)), *neg = calloc((size_t)rank, sizeof(double));
    float *uf = malloc(sizeof(float) * (size_t)(in * rank)),
          *z = malloc(sizeof(float) * (size_t)nz);
    int status = -1;
    if (!gd || !s || !u || !pos || !neg || !uf || !z) {
        snprintf(error, error_size, "out of memory");
        goto done;
    }
    if (!gram && unfolding_gram(x, shape, mode, gd, n_parts, n_threads)) {
        snprintf(error, error_size, "out of memory");
        goto done;
    }
    int info = leading_eigen(gd, (int)in, rank, s, u);
    if (info) {
        snprintf(error, error_size, "the eigensolver (dsyevr) failed on mode %d (info %d)", mode,
                 info);
        goto done;
    }
    for (int j = 0; j < rank; j++) {
        s[j] = s[j] > 0 ? sqrt(s[j]) : 0;
        int64_t big = 0;
        for (int64_t i = 1; i < in; i++)
            if (fabs(u[i * rank + j]) > fabs(u[big * rank + j])) big = i;
        if (u[big * rank + j] < 0)
            for (int64_t i = 0; i < in; i++)
                u[i * rank + j] = -u[i * rank + j];
    }
    /* z = X x_mode U^T: slice j along the mode is s_j v_j */
    narrow(u, in * rank, uf);
    mode_product_f(x, shape, mode, uf, rank, 1, z, n_threads);
    int64_t left, right;
    split(dz, mode, &left, &right);
    for (int64_t l = 0; l < left; l++)
        for (int j = 0; j < rank; j++)
            for (int64_t r = 0; r < right; r++) {
                double v = z[(l * rank + j) * right + r];
                if (v > 0)
                    pos[j] += v * v;
                else
                    neg[j] += v * v;
            }
    for (int64_t i = 0; i < in; i++)
        factor[i * rank] = sqrt(s[0]) * fabs(u[i * rank]);
    for (int j = 1; j < rank; j++) {
        double xp = 0, xn = 0;
        for (int64_t i = 0; i < in; i++) {
            double v = u[i * rank + j];
            if (v > 0)
                xp += v * v;
            else
                xn += v * v;
        }
        xp = sqrt(xp), xn = sqrt(xn);
        double yp = s[j] > 0 ? sqrt(pos[j]) / s[j] : 0, yn = s[j] > 0 ? sqrt(neg[j]) / s[j] : 0;
        double mp = xp * yp, mn = xn * yn;
        int positive = mp > mn;
        double sigma = positive ? mp : mn, norm = positive ? xp : xn;
        /* a zero part (a rank-deficient unfolding) leaves a zero column, which
         * NNDSVDa fills with the mean below (TensorLy would divide 0 by 0) */
        double scale = sigma > 0 ? sqrt(s[j] * sigma) / norm : 0;
        for (int64_t i = 0; i < in; i++) {
            double v = u[i * rank + j];
            factor[i * rank + j] = positive ? (v > 0 ? v * scale : 0) : (v < 0 ? -v * scale : 0);
        }
    }
    /* NNDSVDa: entries below machine epsilon (of the float64 that TensorLy
     * ran in) take the mean of the tensor */
    for (int64_t i = 0; i < in * rank; i++)
        if (factor[i] < DBL_EPSILON) factor[i] = mean;
    status = 0;
done:
    if (!gram) free(gd);
    free(s), free(u), free(pos), free(neg), free(uf), free(z);
    return status;
}

/* The factors of the SVD start on two threads. Mode 0's Gram matrix, by far
 * the largest product of the start (I0^2 I1 I2 / 2 multiply-adds), is made
 * first on every thread; then its eigenpairs (dsyevr on I0 x I0, one
 * thread) run on one thread while the other makes modes 1 and 2. Every Gram
 * matrix is summed in n_parts (GRAM_PARTS) parts whatever the threads, so
 * the start does not depend on the schedule. Ownership: x and t are the
 * caller's; gram0 is made and freed by st_tucker_init_svd (svd_factor's
 * dsyevr overwrites it); status[n] and error[n] have one writer each, the
 * thread that makes mode n. */
typedef struct {
    const float *x;
    st_tucker *t;
    double mean, *gram0;
    int n_parts, status[N];
    char error[N][200];
} svd_job;

static void svd_modes(void *ctx, int64_t begin, int64_t end)
{
    svd_job *j = ctx;
    for (int64_t item = begin; item < end; item++)
        for (int n = item ? 1 : 0; n < (item ? N : 1); n++)
            j->status[n] =
                svd_factor(j->x, j->t->shape, n, j->t->rank[n], j->mean, j->t->factor[n],
                           j->n_parts, n ? NULL : j->gram0, j->error[n], sizeof j->error[n]);
}

int st_tucker_init_svd(st_tucker *t, const float *x, int n_threads, char *error, size_t error_size)
{
    openblas_set_num_threads(1);
    if (n_threads < 1) n_threads = 1;
    const int64_t n_elems = product(t->shape, N);
    double sum = 0;
    for (int64_t i = 0; i < n_elems; i++)
        sum += x[i];
    svd_job job = {.x = x, .t = t, .mean = sum / (double)n_elems, .n_parts = GRAM_PARTS};
    const int64_t i0 = t->shape[0];
    if (!(job.gram0 = malloc(sizeof(double) * (size_t)(i0 * i0))) ||
        unfolding_gram(x, t->shape, 0, job.gram0, GRAM_PARTS, n_threads)) {
        free(job.gram0);
        snprintf(error, error_size, "out of memory");
        return -1;
    }
    st_parallel_for(n_threads, 2, svd_modes, &job);
    free(job.gram0);
    for (int n = 0; n < N; n++)
        if (job.status[n]) {
            snprintf(error, error_size, "%s", job.error[n]);
            return -1;
        }
    float *af[N] = {0};
    int status = 0;
    for (int n = 0; n < N && !status; n++)
        if ((af[n] = malloc(sizeof(float) * (size_t)(t->shape[n] * t->rank[n]))))
            narrow(t->factor[n], t->shape[n] * t->rank[n], af[n]);
        else
            status = -1;
    if (!status) status = project(x, t->shape, t->rank, af, t->core, n_threads);
    for (int n = 0; n < N; n++)
        free(af[n]);
    if (status) {
        snprintf(error, error_size, "out of memory");
        return -1;
    }
    st_tucker_abs(t);
    return 0;
}

/* ---- the iterations ---- */

/* Mode 0's numerator rows are made NUMERATOR_ROWS at a time (see
 * numerator_rows). */
enum { NUMERATOR_ROWS = 32 };

/* Scratch of one fit, allocated by fit_alloc before the first iteration
 * and freed by fit_free, so that the iterations allocate no buffer of X's
 * or a factor's size; the exceptions: full (X's size, made once, the first
 * time the error falls below 0.1) and HALS's rank-sized eigenvalue
 * workspaces (largest_eigenvalue). Owned by st_tucker_fit. */
typedef struct {
    st_tucker *t;
    const float *x;
    const st_tucker_options *o;
    int n_threads;
    int64_t dx[N], dr[N]; /* the tensor's and the core's dims */
    float *af[N];         /* float copies of the factors, for sgemm against X */
    double *gram[N];      /* A_n^T A_n */
    float *p, *q;         /* X x2 A2^T (I0,I1,R2); G x0 A0 (I0,R1,R2) for the residual */
    double *k;            /* G x1 A1 (R0,I1,R2) */
    float *t0, *u, *v;    /* X x0 A0^T (R0,I1,I2); x2 A2^T (R0,I1,R2); x1 A1^T (R0,R1,I2) */
    double *y;            /* the mode being updated: Y_n in double */
    double *num, *den;    /* I_n x R_n (the largest n) */
    double *btb;          /* R_n x R_n */
    double *s, *s2;       /* core-sized scratch */
    double *proj;         /* X x_all A^T, core-sized */
    double *x_update;     /* HALS's core update (fista), core-sized */
    double *gradient;     /* its gradient, core-sized */
    float *core_f;        /* the core in float, for the residual */
    float *full;          /* the reconstruction, made only when the error is small */
    double *rows;         /* each bin part's NUMERATOR_ROWS rows of P in double */
    double *den_rows;     /* each bin part's NUMERATOR_ROWS rows of MU's denominator */
    int fused;            /* MU with a free sound factor: X is read once (fused_mode_0) */
    float *t0_part;       /* its BIN_PARTS partial sums of X x0 A0^T */
    double xx;            /* ||X||^2 */
} fit;

static void fit_free(fit *f)
{
    for (int n = 0; n < N; n++)
        free(f->af[n]), free(f->gram[n]);
    free(f->p), free(f->q), free(f->t0), free(f->u), free(f->v), free(f->y), free(f->num);
    free(f->k), free(f->den), free(f->btb), free(f->s), free(f->s2), free(f->proj), free(f->full);
    free(f->x_update), free(f->gradient), free(f->core_f), free(f->rows), free(f->den_rows);
    free(f->t0_part);
}

static int fit_alloc(fit *f)
{
    const int64_t *dim = f->dx, *rk = f->dr;
    int64_t big_i = 0, big_r = 0, big_y = 0, core = product(rk, N);
    for (int n = 0; n < N; n++) {
        if (dim[n] * rk[n] > big_i) big_i = dim[n] * rk[n];
        if (rk[n] > big_r) big_r = rk[n];
        int64_t y = core / rk[n] * dim[n];
        if (y > big_y) big_y = y;
        f->af[n] = malloc(sizeof(float) * (size_t)(dim[n] * rk[n]));
        f->gram[n] = malloc(sizeof(double) * (size_t)(rk[n] * rk[n]));
        if (!f->af[n] || !f->gram[n]) return -1;
    }
    f->p = malloc(sizeof(float) * (size_t)(dim[0] * dim[1] * rk[2]));
    f->q = malloc(sizeof(float) * (size_t)(dim[0] * rk[1] * rk[2]));
    f->k = malloc(sizeof(double) * (size_t)(rk[0] * dim[1] * rk[2]));
    f->t0 = malloc(sizeof(float) * (size_t)(rk[0] * dim[1] * dim[2]));
    f->u = malloc(sizeof(float) * (size_t)(rk[0] * dim[1] * rk[2]));
    f->v = malloc(sizeof(float) * (size_t)(rk[0] * rk[1] * dim[2]));
    f->y = malloc(sizeof(double) * (size_t)big_y);
    f->num = malloc(sizeof(double) * (size_t)big_i);
    f->den = malloc(sizeof(double) * (size_t)big_i);
    f->btb = malloc(sizeof(double) * (size_t)(big_r * big_r));
    f->s = malloc(sizeof(double) * (size_t)core);
    f->s2 = malloc(sizeof(double) * (size_t)core);
    f->proj = malloc(sizeof(double) * (size_t)core);
    f->x_update = malloc(sizeof(double) * (size_t)core);
    f->gradient = malloc(sizeof(double) * (size_t)core);
    f->core_f = malloc(sizeof(float) * (size_t)core);
    f->rows = malloc(sizeof(double) * (size_t)(BIN_PARTS * NUMERATOR_ROWS * dim[1] * rk[2]));
    f->den_rows = malloc(sizeof(double) * (size_t)(BIN_PARTS * NUMERATOR_ROWS * rk[0]));
    /* the fused read's partial sums: only MU with a free sound factor reads X that way */
    f->fused = !f->o->fixed[0] && f->o->algorithm == ST_TUCKER_MU;
    if (f->fused)
        f->t0_part = malloc(sizeof(float) * (size_t)(BIN_PARTS * rk[0] * dim[1] * dim[2]));
    return f->p && f->q && f->k && f->t0 && f->u && f->v && f->y && f->num && f->den && f->btb &&
                   f->s && f->s2 && f->proj && f->x_update && f->gradient && f->core_f && f->rows &&
                   f->den_rows && (f->t0_part || !f->fused)
               ? 0
               : -1;
}

/* The factor's float copy and Gram matrix, after it changed. */
static void refresh(fit *f, int n)
{
    const int64_t in = f->dx[n], r = f->dr[n];
    narrow(f->t->factor[n], in * r, f->af[n]);
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)r, (int)r, (int)in, 1.0,
                f->t->factor[n], (int)r, f->t->factor[n], (int)r, 0.0, f->gram[n], (int)r);
}

/* out = core x_m gram_m for every m but skip (skip = -1: all). */
static void core_times_grams(fit *f, const double *core, int skip, double *out)
{
    const double *from = core;
    double *buffer[2] = {f->s2, out};
    int k = 0, count = 0;
    for (int m = 0; m < N; m++)
        count += m != skip;
    /* alternate buffers so that the last product lands in out */
    k = count % 2 ? 1 : 0;
    for (int m = 0; m < N; m++) {
        if (m == skip) continue;
        mode_product_d(from, f->dr, m, f->gram[m], f->dr[m], 0, buffer[k]);
        from = buffer[k];
        k ^= 1;
    }
}

/* TensorLy's hals_nnls(UtM, UtU, V = A^T, n_iter_max=100, tol=1e-8), on
 * a (I x R) = V^T in place; mtu = UtM^T. The change it stops on is, as
 * TensorLy writes it, ||V - newV||^2 with the new row broadcast against every
 * row of V. */
static void hals_nnls(const double *mtu, const double *utu, double *a, int64_t in, int r,
                      double sparsity)
{
    double first = 0;
    for (int sweep = 0; sweep < 100; sweep++) {
        double change = 0;
        for (int k = 0; k < r; k++) {
            const double dkk = utu[k * r + k];
            if (dkk == 0) continue;
            for (int64_t c = 0; c < in; c++) {
                double *row = a + c * r;
                double num = mtu[c * r + k] - dot(utu + k * r, row, r) + dkk * row[k] - sparsity;
                double fresh = num / dkk;
                if (fresh < 0) fresh = 0;
                for (int j = 0; j < r; j++)
                    change += (row[j] - fresh) * (row[j] - fresh);
                row[k] = fresh;
            }
        }
        if (sweep == 0) first = change;
        if (change < 1e-8 * first) break;
    }
}

/* Largest eigenvalue of a small symmetric positive semi-definite matrix. */
static double largest_eigenvalue(const double *g, int r)
{
    double *a = malloc(sizeof(double) * (size_t)(r * r)), *w = malloc(sizeof(double) * (size_t)r);
    double value = NAN;
    if (a && w) {
        memcpy(a, g, sizeof(double) * (size_t)(r * r));
        int lwork = -1, liwork = -1, iwork_q = 0, info = 0;
        double work_q = 0;
        dsyevd_("N", "U", &r, a, &r, w, &work_q, &lwork, &iwork_q, &liwork, &info);
        lwork = (int)work_q, liwork = iwork_q;
        double *work = malloc(sizeof(double) * (size_t)lwork);
        int *iwork = malloc(sizeof(int) * (size_t)liwork);
        if (work && iwork) {
            dsyevd_("N", "U", &r, a, &r, w, work, &lwork, iwork, &liwork, &info);
            if (info == 0) value = w[r - 1];
        }
        free(work), free(iwork);
    }
    free(a), free(w);
    return value;
}

/* TensorLy's fista(UtM = X x_all A^T, UtU = the Gram matrices, x = core,
 * n_iter_max, sparsity_coef, lr = prod 1/sigma_max): non-negative with a
 * floor of 1e-8; stops when |sum(x - x_new)| < 1e-8 x its first value. */
static void fista(fit *f, int n_iter_max, double sparsity)
{
    const int64_t n = product(f->dr, N);
    double lr = 1;
    for (int m = 0; m < N; m++)
        lr *= 1 / largest_eigenvalue(f->gram[m], (int)f->dr[m]);
    double *x = f->t->core, *x_update = f->x_update, *gradient = f->gradient;
    memcpy(x_update, x, sizeof(double) * (size_t)n);
    double momentum_old = 1, norm_0 = 0;
    for (int it = 0; it < n_iter_max; it++) {
        core_times_grams(f, x_update, -1, gradient);
        double momentum = (1 + sqrt(1 + 4 * momentum_old * momentum_old)) / 2;
        double step = (momentum_old - 1) / momentum, norm = 0;
        for (int64_t i = 0; i < n; i++) {
            double g = -f->proj[i] + gradient[i] + sparsity;
            double fresh = x_update[i] - lr * g;
            if (fresh < 1e-8) fresh = 1e-8;
            x_update[i] = fresh + step * (fresh - x[i]);
            norm += x[i] - fresh;
            x[i] = fresh;
        }
        momentum_old = momentum;
        norm = fabs(norm);
        if (it == 0) norm_0 = norm;
        if (norm < 1e-8 * norm_0) break;
    }
}

/* B^T B of mode n's update into f->btb: B = (G x_{m != n} A_m)_(n)^T,
 * so B^T B = G_(n) (G x_{m != n} A_m^T A_m)_(n)^T, rank-sized. */
static void prepare_factor(fit *f, int n)
{
    core_times_grams(f, f->t->core, n, f->s);
    unfold_dot(f->s, f->dr, f->t->core, f->dr[n], n, f->btb);
}

/* Kim & Choi's MU on rows of a (n_rows x r), from their numerator rows num;
 * den is scratch for as many rows. Each row depends only on its own row of
 * the numerator (and on B^T B), which is what lets mode 0 be updated a slab
 * of bins at a time (fused_mode_0). */
static void mu_rows(double *a, const double *num, const double *btb, int64_t n_rows, int64_t r,
                    double *den)
{
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n_rows, (int)r, (int)r, 1.0, a,
                (int)r, btb, (int)r, 0.0, den, (int)r);
    for (int64_t i = 0; i < n_rows * r; i++)
        a[i] *= fmax(num[i], clip_floor) / fmax(den[i], clip_floor);
}

/* One factor: MU (Kim & Choi) or HALS, from f->num = X_(n) B. */
static void update_factor(fit *f, int n)
{
    st_tucker *t = f->t;
    const int64_t in = f->dx[n], r = f->dr[n];
    prepare_factor(f, n);
    double *a = t->factor[n];
    if (f->o->algorithm == ST_TUCKER_HALS) {
        hals_nnls(f->num, f->btb, a, in, (int)r, f->o->sparsity[n]);
    } else {
        mu_rows(a, f->num, f->btb, in, r, f->den);
    }
    refresh(f, n);
}

/* ||X - model||^2 summed directly (for small errors, where the inner-product
 * form cancels). */
static double residual(fit *f)
{
    const int64_t *dim = f->dx, *rk = f->dr, n_core = product(rk, N), n_x = product(dim, N);
    if (!f->full && !(f->full = malloc(sizeof(float) * (size_t)n_x))) return NAN;
    float *core = f->core_f;
    narrow(f->t->core, n_core, core);
    int64_t d1[N] = {dim[0], rk[1], rk[2]}, d2[N] = {dim[0], dim[1], rk[2]};
    mode_product_f(core, rk, 0, f->af[0], dim[0], 0, f->q, f->n_threads);
    mode_product_f(f->q, d1, 1, f->af[1], dim[1], 0, f->p, f->n_threads);
    mode_product_f(f->p, d2, 2, f->af[2], dim[2], 0, f->full, f->n_threads);
    double sum = 0;
    for (int64_t i = 0; i < n_x; i++) {
        double d = (double)f->x[i] - f->full[i];
        sum += d * d;
    }
    return sum;
}

static double relative_error(fit *f)
{
    const int64_t n_core = product(f->dr, N);
    core_times_grams(f, f->t->core, -1, f->s);
    double e2 = f->xx - 2 * dot(f->proj, f->t->core, n_core) + dot(f->s, f->t->core, n_core);
    if (e2 < 0.01 * f->xx) e2 = residual(f);
    return sqrt(fmax(e2, 0) / f->xx);
}

/* Mode 0's numerator, P_(0) K_(0)^T with P = X x2 A2^T (I0 x I1 R2): P's
 * rows are widened to double (HALS drifts if this sum is float32)
 * NUMERATOR_ROWS at a time, into a buffer that stays in cache, and
 * multiplied. n (at most NUMERATOR_ROWS) rows of the numerator from P's
 * rows p, widened into rows (the part's scratch). */
static void numerator_rows(const float *p, const double *k, int64_t n, int64_t width, int64_t r0,
                           double *rows, double *num)
{
    widen(p, n * width, rows);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)r0, (int)width, 1.0, rows,
                (int)width, k, (int)width, 0.0, num, (int)r0);
}

/* The numerator for the bins of parts begin..end (BIN_PARTS parts), each
 * part in blocks of NUMERATOR_ROWS from its first bin. */
static void numerator_0_parts(void *ctx, int64_t begin, int64_t end)
{
    fit *f = ctx;
    const int64_t i0 = f->dx[0], width = f->dx[1] * f->dr[2], r0 = f->dr[0];
    for (int part = (int)begin; part < end; part++) {
        double *rows = f->rows + part * NUMERATOR_ROWS * width;
        const int64_t b1 = st_part_begin(i0, BIN_PARTS, part + 1);
        for (int64_t r = st_part_begin(i0, BIN_PARTS, part); r < b1; r += NUMERATOR_ROWS) {
            const int64_t n = b1 - r < NUMERATOR_ROWS ? b1 - r : NUMERATOR_ROWS;
            numerator_rows(f->p + r * width, f->k, n, width, r0, rows, f->num + r * r0);
        }
    }
}

/* MU's mode 0 and the first product of modes 1 and 2 in one read of X.
 * Bin i0's row of the new A0 depends only on X's slice at bin i0 (its
 * numerator is P_(0)'s row i0, with P = X x2 A2^T), so a slab of bins is
 * read once: P for the slab, the slab's rows of A0 updated, then the slab's
 * share of T0 = X x0 A0^T added, while the slab is still in cache. The bins
 * are cut into BIN_PARTS parts whose partial sums are added in part order.
 * Slabs of FUSED_BINS bins: large enough that T0's partial (R0 x I1 I2) is
 * read and written few times, small enough to stay in L2/L3 between the two
 * products. */
static void fused_parts(void *ctx, int64_t begin, int64_t end)
{
    fit *f = ctx;
    const int64_t i0 = f->dx[0], i1 = f->dx[1], i2 = f->dx[2], r0 = f->dr[0], r2 = f->dr[2];
    const int64_t pw = i1 * r2, width = i1 * i2; /* a row of P_(0), of X_(0) */
    double *a0 = f->t->factor[0];
    for (int part = (int)begin; part < end; part++) {
        float *t0 = f->t0_part + part * r0 * width;
        double *rows = f->rows + part * NUMERATOR_ROWS * pw;
        double *den = f->den_rows + part * NUMERATOR_ROWS * r0;
        const int64_t b0 = st_part_begin(i0, BIN_PARTS, part),
                      b1 = st_part_begin(i0, BIN_PARTS, part + 1);
        if (b0 == b1) /* fewer bins than parts */
            memset(t0, 0, sizeof(float) * (size_t)(r0 * width));
        for (int64_t b = b0; b < b1; b += FUSED_BINS) {
            const int64_t nb = b1 - b < FUSED_BINS ? b1 - b : FUSED_BINS;
            const float *xs = f->x + b * width;
            float *ps = f->p + b * pw;
            /* P's rows for the slab: (nb I1 x I2) A2 */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(nb * i1), (int)r2, (int)i2,
                        1.0f, xs, (int)i2, f->af[2], (int)r2, 0.0f, ps, (int)r2);
            for (int64_t r = b; r < b + nb; r += NUMERATOR_ROWS) {
                const int64_t n = b + nb - r < NUMERATOR_ROWS ? b + nb - r : NUMERATOR_ROWS;
                numerator_rows(f->p + r * pw, f->k, n, pw, r0, rows, f->num + r * r0);
                mu_rows(a0 + r * r0, f->num + r * r0, f->btb, n, r0, den);
                narrow(a0 + r * r0, n * r0, f->af[0] + r * r0);
            }
            /* the slab's share of T0 = X x0 A0^T */
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)r0, (int)width, (int)nb, 1.0f,
                        f->af[0] + b * r0, (int)r0, xs, (int)width, b > b0 ? 1.0f : 0.0f, t0,
                        (int)width);
        }
    }
}

/* T0 = the parts' sum, in part order, split over columns (each column's
 * sum is the same whichever thread adds it). */
static void sum_parts(void *ctx, int64_t begin, int64_t end)
{
    fit *f = ctx;
    const int64_t n = f->dr[0] * f->dx[1] * f->dx[2];
    for (int64_t i = begin; i < end; i++) {
        float sum = f->t0_part[i];
        for (int p = 1; p < BIN_PARTS; p++)
            sum += f->t0_part[p * n + i];
        f->t0[i] = sum;
    }
}

static void fused_mode_0(fit *f)
{
    const int64_t *dim = f->dx, *rk = f->dr;
    mode_product_d(f->t->core, rk, 1, f->t->factor[1], dim[1], 0, f->k);
    prepare_factor(f, 0);
    st_parallel_for(f->n_threads, BIN_PARTS, fused_parts, f);
    st_parallel_for(f->n_threads, rk[0] * dim[1] * dim[2], sum_parts, f);
    refresh(f, 0);
}

static void iterate(fit *f)
{
    st_tucker *t = f->t;
    const float *x = f->x;
    const int64_t *dim = f->dx, *rk = f->dr;
    const int *fixed = f->o->fixed;
    /* mode 0: X_(0) B = (X x2 A2^T)_(0) K_(0)^T with K = G x1 A1 (R0, I1, R2),
     * one product where Y_0 = X x2 A2^T x1 A1^T would take one per bin */
    if (f->fused) {
        fused_mode_0(f);
    } else if (!fixed[0]) {
        mode_product_d(t->core, rk, 1, t->factor[1], dim[1], 0, f->k);
        mode_product_f(x, dim, 2, f->af[2], rk[2], 1, f->p, f->n_threads);
        st_parallel_for(f->n_threads, BIN_PARTS, numerator_0_parts, f);
        update_factor(f, 0);
    }
    /* mode 1: Y_1 = (X x0 A0^T) x2 A2^T */
    int64_t dt[N] = {rk[0], dim[1], dim[2]}, dy1[N] = {rk[0], dim[1], rk[2]},
            dy2[N] = {rk[0], rk[1], dim[2]};
    if (!f->fused) mode_product_f(x, dim, 0, f->af[0], rk[0], 1, f->t0, f->n_threads);
    if (!fixed[1]) {
        mode_product_f(f->t0, dt, 2, f->af[2], rk[2], 1, f->u, f->n_threads);
        widen(f->u, product(dy1, N), f->y);
        unfold_dot(f->y, dy1, t->core, rk[1], 1, f->num);
        update_factor(f, 1);
    }
    /* mode 2: Y_2 = (X x0 A0^T) x1 A1^T */
    mode_product_f(f->t0, dt, 1, f->af[1], rk[1], 1, f->v, f->n_threads);
    widen(f->v, product(dy2, N), f->y);
    if (!fixed[2]) {
        unfold_dot(f->y, dy2, t->core, rk[2], 2, f->num);
        update_factor(f, 2);
    }
    /* the core, from X x_all A^T = Y_2 x2 A2^T */
    mode_product_d(f->y, dy2, 2, t->factor[2], rk[2], 1, f->proj);
    const int64_t n_core = product(rk, N);
    if (f->o->algorithm == ST_TUCKER_HALS) {
        fista(f, f->o->max_iterations, f->o->core_sparsity);
        return;
    }
    core_times_grams(f, t->core, -1, f->s);
    for (int64_t i = 0; i < n_core; i++)
        t->core[i] *= fmax(f->proj[i], clip_floor) / fmax(f->s[i], clip_floor);
}

int st_tucker_fit(st_tucker *t, const float *x, const st_tucker_options *o, double *errors)
{
    fit f = {.t = t, .x = x, .o = o, .n_threads = o->n_threads > 0 ? o->n_threads : 1};
    for (int n = 0; n < N; n++)
        f.dx[n] = t->shape[n], f.dr[n] = t->rank[n];
    int done = -1;
    if (fit_alloc(&f)) goto out;
    openblas_set_num_threads(1); /* the threads are ours: see mode_product_f */
    const int64_t n_x = product(f.dx, N);
    for (int64_t i = 0; i < n_x; i++)
        f.xx += (double)x[i] * x[i];
    for (int n = 0; n < N; n++)
        refresh(&f, n);
    for (done = 0; done < o->max_iterations;) {
        iterate(&f);
        double e = relative_error(&f);
        errors[done++] = e;
        if (o->progress) o->progress(o->progress_data, done, e);
        if (done > 2 && fabs(errors[done - 2] - e) < o->tol) break;
    }
out:
    fit_free(&f);
    return done;
}
