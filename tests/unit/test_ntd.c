/* The ntd node against TensorLy 0.9.0 (corpus conformance/tensorly_ntd):
 * from the fixture's random start, every iteration's error within 1e-5 and
 * the final factors and core within 1e-3 relative Frobenius distance, for MU
 * and HALS; from init = "svd", the same iteration count and final error
 * within 1e-4. Prints the figures as "# " lines (doc/ntd.md quotes them). */
#include "../../nodes/dsp/cycle_tucker.h"
#include "../../nodes/dsp/tucker.h"
#include "../../vm/node.h"
#include "check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const st_node_type st_node_ntd;

/* The numbers of the JSON value after "key": (nested lists), in order. */
static int64_t numbers(const char *json, const char *key, double *out, int64_t max)
{
    char quoted[64];
    snprintf(quoted, sizeof quoted, "\"%s\":", key);
    const char *s = strstr(json, quoted);
    if (!s) return -1;
    s += strlen(quoted);
    while (*s == ' ' || *s == '\n')
        s++;
    int depth = 0;
    int64_t n = 0;
    do {
        if (*s == '[')
            depth++, s++;
        else if (*s == ']')
            depth--, s++;
        else if (*s == ',' || *s == ' ' || *s == '\n')
            s++;
        else {
            char *end;
            double v = strtod(s, &end);
            if (end == s || n == max) return -1;
            out[n++] = v;
            s = end;
        }
    } while (depth > 0 && *s);
    return n;
}

static st_value *array_from(int n_axes, const int64_t *shape, const double *data)
{
    static const char *const axes[] = {"a", "b", "c"};
    st_value *v = st_array_new(n_axes, shape, axes);
    for (int64_t i = 0; i < v->u.array.n_elems; i++)
        v->u.array.data[i] = (float)data[i];
    return v;
}

static double rel_distance(const float *got, const double *want, int64_t n)
{
    double d = 0, w = 0;
    for (int64_t i = 0; i < n; i++)
        d += (got[i] - want[i]) * (got[i] - want[i]), w += want[i] * want[i];
    return sqrt(d / w);
}

typedef struct {
    double *core, *factors, *errors;
    int64_t n_core, n_factors, n_errors;
} reference;

static int load_reference(const char *dir, const char *name, reference *r)
{
    char *json = check_read_file(dir, name, NULL);
    if (!json) return -1;
    r->core = malloc(sizeof(double) * 100000);
    r->factors = malloc(sizeof(double) * 100000);
    r->errors = malloc(sizeof(double) * 1000);
    r->n_core = numbers(json, "core", r->core, 100000);
    r->n_factors = numbers(json, "factors", r->factors, 100000);
    r->n_errors = strstr(json, "\"errors\":") ? numbers(json, "errors", r->errors, 1000) : 0;
    free(json);
    return r->n_core > 0 && r->n_factors > 0 ? 0 : -1;
}

static void free_reference(reference *r) { free(r->core), free(r->factors), free(r->errors); }

typedef struct {
    const char *name, *file, *algorithm, *init;
    int iterations;
    double tol;
} conformance_case;

static void run_case(const char *dir, st_value *cube, const int64_t *shape, const int *rank,
                     const reference *start, const conformance_case *c)
{
    reference want;
    char label[160];
    if (load_reference(dir, c->file, &want)) {
        snprintf(label, sizeof label, "ntd conformance %s: reads %s", c->name, c->file);
        CHECK(label, 0, "cannot parse the fixture");
        return;
    }
    /* the node itself, through its descriptor */
    st_params p = {&st_node_ntd, NULL, NULL};
    int n_params = st_param_count(st_node_ntd.params);
    p.value = calloc((size_t)n_params, sizeof *p.value);
    for (int i = 0; i < n_params; i++) {
        const st_param *d = &st_node_ntd.params[i];
        p.value[i].num = d->def;
        p.value[i].str = (char *)d->def_str;
        if (!strcmp(d->name, "rank_freq")) p.value[i].num = rank[0];
        if (!strcmp(d->name, "rank_time")) p.value[i].num = rank[1];
        if (!strcmp(d->name, "rank_bar")) p.value[i].num = rank[2];
        if (!strcmp(d->name, "iterations")) p.value[i].num = c->iterations;
        if (!strcmp(d->name, "tol")) p.value[i].num = c->tol;
        if (!strcmp(d->name, "algorithm")) p.value[i].str = (char *)c->algorithm;
        if (!strcmp(d->name, "init")) p.value[i].str = (char *)c->init;
    }
    st_value *in[5] = {cube, NULL};
    int n_in = 1;
    if (!strcmp(c->init, "given")) {
        int64_t core_shape[3] = {rank[0], rank[1], rank[2]};
        in[1] = array_from(3, core_shape, start->core);
        const double *f = start->factors;
        for (int m = 0; m < 3; m++) {
            int64_t fs[2] = {shape[m], rank[m]};
            in[2 + m] = array_from(2, fs, f);
            f += shape[m] * rank[m];
        }
        n_in = 5;
    }
    char error[512] = "";
    st_ctx ctx = {.node_name = "ntd", .error = error, .error_size = sizeof error, .n_threads = 2};
    st_value *out = NULL;
    int status = st_node_ntd.run(&ctx, in, n_in, &p, &out);
    snprintf(label, sizeof label, "ntd conformance %s: runs", c->name);
    CHECK(label, status == ST_OK && out, "%s", error);
    if (status == ST_OK && out) {
        const st_array *errors = &st_record_get(out, "errors")->u.array;
        double worst = 0;
        for (int64_t i = 0; i < errors->n_elems && i < want.n_errors; i++)
            worst = fmax(worst, fabs(errors->data[i] - want.errors[i]));
        /* the error array is float32: compare what it rounds */
        snprintf(label, sizeof label, "ntd conformance %s: %d iterations as TensorLy", c->name,
                 (int)want.n_errors);
        CHECK(label, errors->n_elems == want.n_errors, "ran %lld", (long long)errors->n_elems);
        double final = fabs(errors->data[errors->n_elems - 1] - want.errors[want.n_errors - 1]);
        if (!strcmp(c->init, "given")) {
            snprintf(label, sizeof label, "ntd conformance %s: every error within 1e-5", c->name);
            CHECK(label, worst <= 1e-5, "worst difference %.3g", worst);
            const st_array *core = &st_record_get(out, "core")->u.array;
            double dc = rel_distance(core->data, want.core, want.n_core), df = 0;
            static const char *const names[] = {"sound", "rhythm", "layout"};
            const double *f = want.factors;
            for (int m = 0; m < 3; m++) {
                const st_array *a = &st_record_get(out, names[m])->u.array;
                df = fmax(df, rel_distance(a->data, f, a->n_elems));
                f += a->n_elems;
            }
            snprintf(label, sizeof label,
                     "ntd conformance %s: factors and core within 1e-3 (relative Frobenius)",
                     c->name);
            CHECK(label, dc <= 1e-3 && df <= 1e-3, "core %.3g, worst factor %.3g", dc, df);
            printf("# ntd %s: %lld iterations, worst error difference %.2e, final error %.9f "
                   "(TensorLy %.9f), core %.2e, worst factor %.2e (relative Frobenius)\n",
                   c->name, (long long)errors->n_elems, worst, errors->data[errors->n_elems - 1],
                   want.errors[want.n_errors - 1], dc, df);
        } else {
            snprintf(label, sizeof label, "ntd conformance %s: final error within 1e-4", c->name);
            CHECK(label, final <= 1e-4, "difference %.3g", final);
            printf("# ntd %s: %lld iterations (TensorLy %lld), final error %.9f (TensorLy %.9f), "
                   "worst error difference %.2e\n",
                   c->name, (long long)errors->n_elems, (long long)want.n_errors,
                   errors->data[errors->n_elems - 1], want.errors[want.n_errors - 1], worst);
        }
        st_value_unref(out);
    }
    for (int i = 1; i < 5; i++)
        st_value_unref(in[i]);
    free(p.value);
    free_reference(&want);
}

/* The SVD start alone against initialize_tucker's (information for the docs,
 * and a check that the start is TensorLy's, not merely a good one). */
static void check_svd_start(const char *dir, const float *x, const int64_t *shape, const int *rank)
{
    reference want;
    if (load_reference(dir, "init_svd.json", &want)) return;
    st_tucker *t = st_tucker_new(shape, rank);
    char error[256] = "";
    int status = st_tucker_init_svd(t, x, 2, error, sizeof error);
    CHECK("ntd svd start: computes", status == 0, "%s", error);
    if (status == 0) {
        double worst = 0;
        const double *f = want.factors;
        float *tmp = malloc(sizeof(float) * 100000);
        for (int m = 0; m < 3; m++) {
            int64_t n = shape[m] * rank[m];
            for (int64_t i = 0; i < n; i++)
                tmp[i] = (float)t->factor[m][i];
            worst = fmax(worst, rel_distance(tmp, f, n));
            f += n;
        }
        int64_t nc = (int64_t)rank[0] * rank[1] * rank[2];
        for (int64_t i = 0; i < nc; i++)
            tmp[i] = (float)t->core[i];
        double dc = rel_distance(tmp, want.core, nc);
        free(tmp);
        CHECK("ntd svd start: factors and core within 1e-3 of initialize_tucker's",
              worst <= 1e-3 && dc <= 1e-3, "worst factor %.3g, core %.3g", worst, dc);
        printf("# ntd svd start: worst factor %.2e, core %.2e (relative Frobenius)\n", worst, dc);
    }
    st_tucker_free(t);
    free_reference(&want);
}

/* ---- MU against a plain double transcription of TensorLy's updates ----
 * On small cubes whose bins do not fill tucker.c's slabs and parts (fewer
 * bins than parts; a last slab cut short), and on 1, 2 and 3 threads. */

/* t x_m a over all three modes at once: out[i][j][k] = sum g[a][b][c]
 * f0[i][a] f1[j][b] f2[k][c], dims d (out) and r (g). */
static void expand(const double *g, const int *r, double *const f[3], const int64_t *d, double *out)
{
    for (int64_t i = 0; i < d[0]; i++)
        for (int64_t j = 0; j < d[1]; j++)
            for (int64_t k = 0; k < d[2]; k++) {
                double sum = 0;
                for (int a = 0; a < r[0]; a++)
                    for (int b = 0; b < r[1]; b++)
                        for (int c = 0; c < r[2]; c++)
                            sum += g[(a * r[1] + b) * r[2] + c] * f[0][i * r[0] + a] *
                                   f[1][j * r[1] + b] * f[2][k * r[2] + c];
                out[(i * d[1] + j) * d[2] + k] = sum;
            }
}

/* One MU iteration (factors in mode order, then the core), as TensorLy's
 * non_negative_tucker: A_n *= max(X_(n) B, eps) / max(A_n B^T B, eps). */
static void naive_mu(const float *x, const int64_t *d, const int *r, double *g, double *f[3])
{
    const double eps = 10e-12;
    int64_t n_x = d[0] * d[1] * d[2];
    double *model = malloc(sizeof(double) * (size_t)n_x);
    for (int n = 0; n < 4; n++) {
        /* the gradient's two parts along factor n (n = 3: the core), from the
         * data and from the model: X and G x A contracted with every other factor */
        int64_t size = n < 3 ? d[n] * r[n] : (int64_t)r[0] * r[1] * r[2];
        double *num = calloc((size_t)size, sizeof(double)),
               *den = calloc((size_t)size, sizeof(double));
        expand(g, r, f, d, model);
        for (int64_t i = 0; i < d[0]; i++)
            for (int64_t j = 0; j < d[1]; j++)
                for (int64_t k = 0; k < d[2]; k++) {
                    int64_t e = (i * d[1] + j) * d[2] + k, idx[3] = {i, j, k};
                    for (int a = 0; a < r[0]; a++)
                        for (int b = 0; b < r[1]; b++)
                            for (int c = 0; c < r[2]; c++) {
                                int rr[3] = {a, b, c};
                                double w = 1;
                                for (int m = 0; m < 3; m++)
                                    if (m != n) w *= f[m][idx[m] * r[m] + rr[m]];
                                if (n < 3) w *= g[(a * r[1] + b) * r[2] + c];
                                int64_t o =
                                    n < 3 ? idx[n] * r[n] + rr[n] : (a * r[1] + b) * r[2] + c;
                                num[o] += x[e] * w, den[o] += model[e] * w;
                            }
                }
        double *target = n < 3 ? f[n] : g;
        for (int64_t i = 0; i < size; i++)
            target[i] *= fmax(num[i], eps) / fmax(den[i], eps);
        free(num), free(den);
    }
    free(model);
}

/* A seeded non-negative cube with a few exact zeros (the caller frees it). */
static float *small_cube(const int64_t *shape)
{
    const int64_t n_x = shape[0] * shape[1] * shape[2];
    float *x = malloc(sizeof(float) * (size_t)n_x);
    uint64_t state = 12345;
    for (int64_t i = 0; i < n_x; i++) {
        state = state * 6364136223846793005u + 1442695040888963407u;
        x[i] = (state >> 40) % 7 == 0 ? 0.0f : (float)((state >> 33) % 1000) / 100.0f;
    }
    return x;
}

/* The SVD start (what strata unmix uses) is the same, bit for bit, on 1, 2
 * and 3 threads: its Gram matrices are summed in parts fixed apart from the
 * thread count. */
static void svd_start_on_threads(const int64_t *shape, const int *rank)
{
    float *x = small_cube(shape);
    st_tucker *t[3];
    char error[256] = "";
    int status = 0;
    for (int k = 0; k < 3; k++) {
        t[k] = st_tucker_new(shape, rank);
        status |= st_tucker_init_svd(t[k], x, k + 1, error, sizeof error);
    }
    int same = status == 0;
    const int64_t n_core = (int64_t)rank[0] * rank[1] * rank[2];
    for (int k = 1; k < 3 && same; k++) {
        same &= !memcmp(t[k]->core, t[0]->core, sizeof(double) * (size_t)n_core);
        for (int m = 0; m < 3; m++)
            same &= !memcmp(t[k]->factor[m], t[0]->factor[m],
                            sizeof(double) * (size_t)(shape[m] * rank[m]));
    }
    CHECK("ntd svd start: the same factors and core on 1, 2 and 3 threads", same, "%s",
          status ? error : "they differ");
    for (int k = 0; k < 3; k++)
        st_tucker_free(t[k]);
    free(x);
}

/* ---- the same bits on any number of threads ----
 * The ntd node's cache key leaves out --threads, so every fit must give the
 * same bytes (core, factors, error curve) on 1, 2, 3 and 4 threads. The cube
 * is large enough that the products with it are split in parts (tucker.c's
 * PRODUCT_PARTS, above 4 M multiply-adds), its sizes odd: 301 bins make
 * BIN_PARTS parts whose slabs and numerator blocks end short. noise = 0.001
 * takes the error below 0.1, where it is summed from the residual. */

static uint64_t hash_bytes(uint64_t h, const void *data, size_t n)
{
    const unsigned char *c = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ c[i]) * 1099511628211u;
    return h;
}

/* A structured non-negative cube plus seeded noise (the caller frees it). */
static float *odd_cube(const int64_t *shape, float noise)
{
    const int64_t n_x = shape[0] * shape[1] * shape[2];
    float *x = malloc(sizeof(float) * (size_t)n_x);
    uint64_t state = 12345;
    for (int64_t i = 0; i < n_x; i++) {
        state = state * 6364136223846793005u + 1442695040888963407u;
        const float u = (float)(state >> 40) / 16777216.0f;
        const int64_t a = i / (shape[1] * shape[2]), b = i / shape[2] % shape[1], c = i % shape[2];
        x[i] = noise * u * u + (float)((a % 7) * (b % 5 + 1) * (c % 3 + 1)) * 0.1f;
    }
    return x;
}

enum { FIT_MU, FIT_MU_FIXED_SOUND, FIT_HALS, FIT_CYCLE, N_FITS };

/* A hash of every byte one fit gives from the SVD start on n_threads. */
static uint64_t fit_bytes(const float *x, const int64_t *shape, const int *rank, int kind,
                          int n_threads)
{
    uint64_t h = 1469598103934665603u;
    char error[256];
    double errors[12];
    st_tucker *t = st_tucker_new(shape, rank);
    if (!t || st_tucker_init_svd(t, x, n_threads, error, sizeof error)) {
        st_tucker_free(t);
        return 0;
    }
    int done;
    if (kind == FIT_CYCLE) {
        st_cycle_tucker *m = st_cycle_tucker_new(shape, 2, 0, 0, rank);
        done = m && !st_cycle_tucker_init_from(m, x, t, n_threads)
                   ? st_cycle_tucker_fit(m, x, 8, 0, n_threads, NULL, NULL, errors)
                   : -1;
        if (m) {
            h = hash_bytes(h, m->core, sizeof(double) * (size_t)(rank[0] * rank[1] * 2 * rank[2]));
            h = hash_bytes(h, m->sound, sizeof(double) * (size_t)(shape[0] * rank[0]));
            h = hash_bytes(h, m->rhythm, sizeof(double) * (size_t)(shape[1] * rank[1]));
            h = hash_bytes(h, m->cycle, sizeof(double) * (size_t)(m->n_cycles * rank[2]));
        }
        st_cycle_tucker_free(m);
    } else {
        st_tucker_options o = {.algorithm = kind == FIT_HALS ? ST_TUCKER_HALS : ST_TUCKER_MU,
                               .max_iterations = kind == FIT_HALS ? 4 : 12,
                               .tol = 0,
                               .sparsity = {kind == FIT_HALS ? 0.1 : 0, 0, 0},
                               .fixed = {kind == FIT_MU_FIXED_SOUND, 0, 0},
                               .n_threads = n_threads};
        done = st_tucker_fit(t, x, &o, errors);
        h = hash_bytes(h, t->core, sizeof(double) * (size_t)(rank[0] * rank[1] * rank[2]));
        for (int m = 0; m < 3; m++)
            h = hash_bytes(h, t->factor[m], sizeof(double) * (size_t)(shape[m] * rank[m]));
    }
    st_tucker_free(t);
    return done > 0 ? hash_bytes(h, errors, sizeof(double) * (size_t)done) : 0;
}

static void fits_on_threads(float noise)
{
    static const char *const names[N_FITS] = {"mu", "mu with the sound fixed", "hals",
                                              "the cycle model"};
    const int64_t shape[3] = {301, 47, 37};
    const int rank[3] = {16, 16, 8};
    float *x = odd_cube(shape, noise);
    for (int kind = 0; kind < N_FITS; kind++) {
        if (noise < 1 && kind != FIT_MU) continue; /* the residual: one fit is enough */
        uint64_t h[4];
        int same = 1;
        for (int threads = 1; threads <= 4; threads++) {
            h[threads - 1] = fit_bytes(x, shape, rank, kind, threads);
            same &= h[threads - 1] != 0 && h[threads - 1] == h[0];
        }
        char name[160];
        snprintf(name, sizeof name,
                 "ntd %s from svd on 301 x 47 x 37%s: the same bytes on 1, 2, 3 and 4 threads",
                 names[kind], noise < 1 ? " (error below 0.1)" : "");
        CHECK(name, same, "hashes %016llx %016llx %016llx %016llx", (unsigned long long)h[0],
              (unsigned long long)h[1], (unsigned long long)h[2], (unsigned long long)h[3]);
    }
    free(x);
}

static void mu_against_naive(const int64_t *shape, const int *rank, int n_iterations)
{
    const int64_t n_x = shape[0] * shape[1] * shape[2];
    float *x = small_cube(shape);
    double sum_xx = 0;
    for (int64_t i = 0; i < n_x; i++)
        sum_xx += (double)x[i] * x[i];
    st_tucker *start = st_tucker_new(shape, rank);
    st_tucker_init_random(start, 7);
    /* the plain transcription's errors */
    double *f[3], *g = malloc(sizeof(double) * (size_t)(rank[0] * rank[1] * rank[2]));
    memcpy(g, start->core, sizeof(double) * (size_t)(rank[0] * rank[1] * rank[2]));
    for (int m = 0; m < 3; m++) {
        f[m] = malloc(sizeof(double) * (size_t)(shape[m] * rank[m]));
        memcpy(f[m], start->factor[m], sizeof(double) * (size_t)(shape[m] * rank[m]));
    }
    double *expected = malloc(sizeof(double) * (size_t)n_iterations);
    double *model = malloc(sizeof(double) * (size_t)n_x);
    for (int it = 0; it < n_iterations; it++) {
        naive_mu(x, shape, rank, g, f);
        expand(g, rank, f, shape, model);
        double e2 = 0;
        for (int64_t i = 0; i < n_x; i++)
            e2 += (x[i] - model[i]) * (x[i] - model[i]);
        expected[it] = sqrt(e2 / sum_xx);
    }
    double *errors[3];
    double worst = 0;
    int same = 1;
    for (int threads = 1; threads <= 3; threads++) {
        st_tucker *t = st_tucker_new(shape, rank);
        memcpy(t->core, start->core, sizeof(double) * (size_t)(rank[0] * rank[1] * rank[2]));
        for (int m = 0; m < 3; m++)
            memcpy(t->factor[m], start->factor[m], sizeof(double) * (size_t)(shape[m] * rank[m]));
        errors[threads - 1] = malloc(sizeof(double) * (size_t)n_iterations);
        st_tucker_options o = {.algorithm = ST_TUCKER_MU,
                               .max_iterations = n_iterations,
                               .tol = 0,
                               .n_threads = threads};
        int done = st_tucker_fit(t, x, &o, errors[threads - 1]);
        same &= done == n_iterations;
        for (int it = 0; it < n_iterations && done == n_iterations; it++) {
            double diff = fabs(errors[threads - 1][it] - expected[it]);
            if (diff > worst || isnan(diff)) worst = isnan(diff) ? INFINITY : diff;
            same &= errors[threads - 1][it] == errors[0][it];
        }
        st_tucker_free(t);
    }
    char name[160];
    snprintf(name, sizeof name,
             "ntd mu on %lld x %lld x %lld: every error within 1e-6 of the plain transcription's",
             (long long)shape[0], (long long)shape[1], (long long)shape[2]);
    CHECK(name, worst < 1e-6, "worst difference %.3g", worst);
    snprintf(name, sizeof name,
             "ntd mu on %lld x %lld x %lld: the same errors on 1, 2 and 3 threads",
             (long long)shape[0], (long long)shape[1], (long long)shape[2]);
    CHECK(name, same, "they differ");
    for (int k = 0; k < 3; k++)
        free(errors[k]);
    for (int m = 0; m < 3; m++)
        free(f[m]);
    free(g), free(expected), free(model), free(x);
    st_tucker_free(start);
}

void test_ntd(void)
{
    /* 3 bins: fewer than the slabs' parts; 700: parts of 175 bins, the last
     * slab of each cut short */
    mu_against_naive((const int64_t[]){3, 5, 4}, (const int[]){2, 3, 2}, 12);
    mu_against_naive((const int64_t[]){700, 6, 5}, (const int[]){4, 3, 2}, 12);
    svd_start_on_threads((const int64_t[]){700, 30, 20}, (const int[]){8, 6, 4});
    fits_on_threads(1.0f);
    fits_on_threads(0.001f);

    const char *root = getenv("STRATA_CORPUS");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/conformance/tensorly_ntd", root ? root : "../shared/corpus");
    long size = 0;
    char *raw = check_read_file(dir, "input_cube.f32", &size);
    const int64_t shape[3] = {256, 214, 16};
    const int rank[3] = {16, 12, 4};
    if (!raw || size != 256 * 214 * 16 * 4) {
        printf("skip ntd conformance: %s is absent\n", dir);
        free(raw);
        return;
    }
    static const char *const axes[] = {"freq", "time", "bar"};
    st_value *cube = st_array_new(3, shape, axes);
    memcpy(cube->u.array.data, raw, (size_t)size); /* little-endian, as this machine */
    free(raw);
    reference start;
    if (load_reference(dir, "init_random.json", &start)) {
        CHECK("ntd conformance: reads init_random.json", 0, "cannot parse it");
        st_value_unref(cube);
        return;
    }
    static const conformance_case cases[] = {
        {"mu (case a)", "case_a_mu_random_init.json", "mu", "given", 50, 0},
        {"mu from svd (case b)", "case_b_mu_svd_init.json", "mu", "svd", 200, 1e-4},
        {"hals (case c)", "case_c_hals_random_init.json", "hals", "given", 50, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(dir, cube, shape, rank, &start, &cases[i]);
    check_svd_start(dir, cube->u.array.data, shape, rank);
    free_reference(&start);
    st_value_unref(cube);
}
