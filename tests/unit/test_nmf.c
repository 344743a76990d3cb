/* NMF against scikit-learn 1.2.1 (corpus conformance/sklearn_nmf): the
 * Euclidean, KL and IS fits from the given start, the transform with a fixed
 * dictionary, the NNDSVDa case; W and H within 1e-3 relative Frobenius
 * distance, the divergence within 1e-4. Skipped without the corpus. */
#include "check.h"

#include "../../nodes/dsp/nmf.h"
#include "../../nodes/dsp/nmf_cluster.h"
#include "../../nodes/dsp/nmf_kl16.h"
#include "../../nodes/dsp/nndsvd.h"
#include "../../nodes/dsp/rng.h"
#include "../../nodes/dsp/rpca.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define F    512
#define N    400
#define K    8
#define COLS 800

/* The numbers of the (nested) list under "key", in reading order; returns how many. */
static int json_numbers(const char *text, const char *key, double *out, int max)
{
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *p = strstr(text, pattern);
    if (!p) return 0;
    p += strlen(pattern);
    int depth = 0, n = 0;
    while (*p) {
        if (*p == '[') {
            depth++, p++;
        } else if (*p == ']') {
            p++;
            if (--depth <= 0) break;
        } else if (*p == ',' || *p == ' ' || *p == '\n') {
            p++;
        } else {
            char *end;
            double v = strtod(p, &end);
            if (end == p) return n;
            if (n < max) out[n] = v;
            n++;
            p = end;
            if (depth == 0) break;
        }
    }
    return n;
}

/* W as a row-major n_rows x rank list -> column-major; H as rank x n_cols -> column-major. */
static void w_from(const double *rows, float *w, int n_rows)
{
    for (int f = 0; f < n_rows; f++)
        for (int k = 0; k < K; k++)
            w[k * n_rows + f] = (float)rows[f * K + k];
}

static void h_from(const double *rows, float *h, int n_cols)
{
    for (int k = 0; k < K; k++)
        for (int t = 0; t < n_cols; t++)
            h[t * K + k] = (float)rows[k * n_cols + t];
}

static double rel_dist(const float *a, const float *b, size_t n)
{
    double d = 0, s = 0;
    for (size_t i = 0; i < n; i++) {
        d += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        s += (double)b[i] * b[i];
    }
    return sqrt(d / s);
}

typedef struct {
    float *X, *Y;
    double *buf;
    float w_want[F * K], h_want[K * N], w[F * K], h[K * N];
} fixture;

static int load_pair(const char *text, const char *wkey, const char *hkey, fixture *fx, float *w,
                     float *h)
{
    if (json_numbers(text, wkey, fx->buf, F * K) != F * K) return 0;
    w_from(fx->buf, w, F);
    if (json_numbers(text, hkey, fx->buf, K * N) != K * N) return 0;
    h_from(fx->buf, h, N);
    return 1;
}

static void fit_case(const char *dir, fixture *fx, const char *file, const char *label, double beta,
                     double offset, const char *wkey0, const char *hkey0)
{
    char *init = check_read_file(dir, wkey0 ? file : "init_custom.json", NULL),
         *want = check_read_file(dir, file, NULL);
    char name[128];
    snprintf(name, sizeof name, "nmf conformance %s: fixture read", label);
    if (!init || !want ||
        !load_pair(init, wkey0 ? wkey0 : "W", hkey0 ? hkey0 : "H", fx, fx->w, fx->h) ||
        !load_pair(want, "W", "H", fx, fx->w_want, fx->h_want)) {
        CHECK(name, 0, "cannot read %s", file);
        free(init), free(want);
        return;
    }
    float *v = malloc(sizeof(float) * F * N);
    for (int i = 0; i < F * N; i++)
        v[i] = (float)((double)fx->X[i] + offset);
    double div_want[2];
    json_numbers(want, "beta_divergence_init", div_want, 1);
    json_numbers(want, "beta_divergence_final", div_want + 1, 1);
    st_nmf_options o = {
        .beta = beta, .max_iter = 100, .tol = 0, .update_W = 1, .update_H = 1, .n_threads = 2};
    st_nmf_result r;
    int status = st_nmf_fit(v, F, N, fx->w, fx->h, K, &o, &r);
    snprintf(name, sizeof name, "nmf conformance %s: runs 100 iterations", label);
    CHECK(name, status == 0 && r.n_iter == 100, "status %d, %d iterations", status, r.n_iter);
    double dw = rel_dist(fx->w, fx->w_want, F * K), dh = rel_dist(fx->h, fx->h_want, K * N);
    double dd = fabs(r.div_final - div_want[1]) / div_want[1];
    double di = fabs(r.div_init - div_want[0]) / div_want[0];
    printf("# nmf %s: W %.2e, H %.2e relative; divergence %.6g vs %.6g (%.1e), init %.1e\n", label,
           dw, dh, r.div_final, div_want[1], dd, di);
    snprintf(name, sizeof name, "nmf conformance %s: W within 1e-3", label);
    CHECK(name, dw < 1e-3, "relative Frobenius distance %.3e", dw);
    snprintf(name, sizeof name, "nmf conformance %s: H within 1e-3", label);
    CHECK(name, dh < 1e-3, "relative Frobenius distance %.3e", dh);
    snprintf(name, sizeof name, "nmf conformance %s: divergence within 1e-4", label);
    CHECK(name, dd < 1e-4 && di < 1e-4, "final %.8g vs %.8g, init %.8g vs %.8g", r.div_final,
          div_want[1], r.div_init, div_want[0]);
    int falls = 1;
    for (int i = 1; i < r.n_curve; i++)
        falls &= r.curve[i] <= r.curve[i - 1] * (1 + 1e-6);
    snprintf(name, sizeof name, "nmf conformance %s: the divergence never rises", label);
    CHECK(name, falls && r.n_curve == 11, "%d points", r.n_curve);
    free(r.curve), free(r.curve_iter), free(v), free(init), free(want);
}

static void transform_case(const char *dir, fixture *fx)
{
    char *dict = check_read_file(dir, "fit_kl.json", NULL),
         *want = check_read_file(dir, "transform_kl.json", NULL);
    if (!dict || !want || json_numbers(dict, "W", fx->buf, F * K) != F * K) {
        CHECK("nmf conformance transform: fixture read", 0, "cannot read transform_kl.json");
        free(dict), free(want);
        return;
    }
    w_from(fx->buf, fx->w, F);
    double start, div_want;
    json_numbers(want, "W_init_value", &start, 1);
    json_numbers(want, "beta_divergence_final", &div_want, 1);
    int n = json_numbers(want, "activations", fx->buf, N * K);
    for (int i = 0; i < N * K; i++) /* (frame, component) rows are our column-major H */
        fx->h_want[i] = (float)fx->buf[i];
    for (int i = 0; i < K * N; i++)
        fx->h[i] = (float)start;
    st_nmf_options o = {
        .beta = 1, .max_iter = 100, .tol = 0, .update_W = 0, .update_H = 1, .n_threads = 2};
    st_nmf_result r;
    float w_before[F * K];
    memcpy(w_before, fx->w, sizeof w_before);
    int status = st_nmf_fit(fx->Y, F, N, fx->w, fx->h, K, &o, &r);
    double dh = rel_dist(fx->h, fx->h_want, K * N), dd = fabs(r.div_final - div_want) / div_want;
    printf("# nmf transform (KL, W fixed): activations %.2e relative; divergence %.6g vs %.6g\n",
           dh, r.div_final, div_want);
    CHECK("nmf conformance transform: W untouched",
          status == 0 && n == N * K && memcmp(w_before, fx->w, sizeof w_before) == 0, "status %d",
          status);
    CHECK("nmf conformance transform: activations within 1e-3", dh < 1e-3, "%.3e", dh);
    CHECK("nmf conformance transform: divergence within 1e-4", dd < 1e-4, "%.8g vs %.8g",
          r.div_final, div_want);
    free(r.curve), free(r.curve_iter), free(dict), free(want);
}

/* Our own NNDSVDa start against sklearn's (made with a randomised SVD of
 * other random numbers): the leading components agree closely. */
static void nndsvda_case(const char *dir, fixture *fx)
{
    char *text = check_read_file(dir, "fit_kl_nndsvda.json", NULL);
    if (!text || !load_pair(text, "W_init", "H_init", fx, fx->w_want, fx->h_want)) {
        CHECK("nmf conformance nndsvda: fixture read", 0, "cannot read fit_kl_nndsvda.json");
        free(text);
        return;
    }
    int status = st_nndsvd(fx->X, F, N, K, ST_NNDSVDA, 0, 2, fx->w, fx->h);
    double dw = rel_dist(fx->w, fx->w_want, F * K), dh = rel_dist(fx->h, fx->h_want, K * N);
    printf("# nmf nndsvda start: W %.2e, H %.2e relative to sklearn's\n", dw, dh);
    CHECK("nmf conformance nndsvda: our start is sklearn's", status == 0 && dw < 1e-2 && dh < 1e-2,
          "status %d, W %.3e, H %.3e", status, dw, dh);
    free(text);
}

/* Robust PCA recovers a planted low-rank matrix and sparse spikes (Candes
 * et al.'s setting: rank 5, 5 % of the entries corrupted). */
static void rpca_case(void)
{
    enum { M_ROWS = 200, M_COLS = 300, RANK = 5 };
    float *a = malloc(sizeof(float) * M_ROWS * RANK), *b = malloc(sizeof(float) * RANK * M_COLS);
    float *l0 = malloc(sizeof(float) * M_ROWS * M_COLS),
          *s0 = calloc(M_ROWS * M_COLS, sizeof(float));
    float *m = malloc(sizeof(float) * M_ROWS * M_COLS),
          *l = malloc(sizeof(float) * M_ROWS * M_COLS);
    float *sp = malloc(sizeof(float) * M_ROWS * M_COLS);
    uint64_t state = st_rng_seed(7, 0);
    for (int i = 0; i < M_ROWS * RANK; i++)
        a[i] = (float)st_gaussian(&state);
    for (int i = 0; i < RANK * M_COLS; i++)
        b[i] = (float)st_gaussian(&state);
    for (int j = 0; j < M_COLS; j++)
        for (int i = 0; i < M_ROWS; i++) {
            double x = 0;
            for (int k = 0; k < RANK; k++)
                x += (double)a[k * M_ROWS + i] * b[j * RANK + k];
            l0[j * M_ROWS + i] = (float)x;
        }
    for (int i = 0; i < M_ROWS * M_COLS; i++) {
        if (st_gaussian(&state) > 1.645) s0[i] = (float)(10 * st_gaussian(&state)); /* 5 % */
        m[i] = l0[i] + s0[i];
    }
    st_rpca_options o = {.max_iter = 100, .tol = 1e-7, .n_threads = 2};
    st_rpca_result r;
    int status = st_rpca(m, M_ROWS, M_COLS, l, sp, &o, &r);
    double dl = rel_dist(l, l0, M_ROWS * M_COLS), ds = rel_dist(sp, s0, M_ROWS * M_COLS);
    printf("# rpca: %d iterations, rank %d, residual %.1e; L %.1e, S %.1e relative\n", r.n_iter,
           r.rank, r.error, dl, ds);
    CHECK("rpca recovers a planted low-rank matrix", status == 0 && dl < 1e-3 && r.rank == RANK,
          "status %d, L %.3e, rank %d", status, dl, r.rank);
    CHECK("rpca recovers the sparse spikes", status == 0 && ds < 1e-3, "S %.3e", ds);
    free(a), free(b), free(l0), free(s0), free(m), free(l), free(sp);
}

/* A harmonic template: partials of f0_hz with amplitudes decaying as
 * 1/h^decay, each a peak a bin wide, on 1025 bins at 44.1 kHz. */
static void comb(float *w, double f0_hz, double decay)
{
    for (int b = 0; b < 1025; b++) {
        double hz = 22050.0 * b / 1024, x = 0;
        for (int h = 1; h * f0_hz < 16000; h++) {
            double d = (hz - h * f0_hz) / 21.5;
            x += exp(-d * d) / pow(h, decay);
        }
        w[b] = (float)x;
    }
}

/* The grouping helpers: pitch-blind distances, weighted k-means, placing
 * points at given distances. */
static void grouping_cases(void)
{
    float *w = malloc(sizeof(float) * 5 * 1025);
    double d2[25];
    comb(w, 220, 1);                           /* a note */
    comb(w + 1025, 220 * pow(2, 5 / 12.0), 1); /* the same instrument a fourth higher */
    comb(w + 2050, 220, 3);                    /* another instrument on the first note */
    for (int b = 0; b < 1025; b++)             /* a noise band, as a hi-hat */
        w[3075 + b] = b > 300 && b < 800 ? 1.0f : 0.0f;
    comb(w + 4100, 440, 1); /* the same instrument an octave higher */
    st_shift_distances(w, 5, 1025, 44100, 48, d2);
    printf("# shift distances: fourth %.3f, octave %.3f, other timbre %.3f, noise %.3f\n", d2[1],
           d2[4], d2[2], d2[3]);
    CHECK("shift distances: a note a fourth and an octave up is near its original",
          d2[1] < 0.1 && d2[4] < 0.1 && fmax(d2[1], d2[4]) < d2[2] / 2 &&
              fmax(d2[1], d2[4]) < d2[3] / 2,
          "fourth %.3f, octave %.3f (others %.3f, %.3f)", d2[1], d2[4], d2[2], d2[3]);
    CHECK("shift distances: symmetric with a zero diagonal", d2[5] == d2[1] && d2[0] == 0, "%g %g",
          d2[5], d2[0]);
    /* on the line 0 2 3 5, k-means pairs (0 2)(3 5); with 3 a hundred times
     * heavier its centre holds 2 and 5, and 0 stands alone */
    const double x[4] = {0, 2, 3, 5}, weight[4] = {1, 1, 100, 1};
    int plain[4], heavy[4];
    st_kmeans_weighted(x, NULL, 4, 1, 2, 5, 1, plain);
    st_kmeans_weighted(x, weight, 4, 1, 2, 5, 1, heavy);
    CHECK("k-means: unweighted pairs the points", plain[0] == plain[1] && plain[2] == plain[3],
          "%d %d %d %d", plain[0], plain[1], plain[2], plain[3]);
    CHECK("k-means: a heavy point pulls its neighbours",
          heavy[1] == heavy[2] && heavy[2] == heavy[3] && heavy[0] != heavy[1], "%d %d %d %d",
          heavy[0], heavy[1], heavy[2], heavy[3]);
    /* classical scaling puts points back at their distances */
    double p[5 * 3], pd[25], e[25], ed[25], worst = 0;
    uint64_t state = st_rng_seed(3, 0);
    for (int i = 0; i < 15; i++)
        p[i] = st_gaussian(&state);
    st_squared_distances(p, 5, 3, pd);
    int status = st_embed_distances(pd, 5, e);
    st_squared_distances(e, 5, 5, ed);
    for (int i = 0; i < 25; i++)
        worst = fmax(worst, fabs(ed[i] - pd[i]));
    CHECK("embedding: points at the given distances", status == 0 && worst < 1e-9, "%d, %.2e",
          status, worst);
    free(w);
}

/* The fused AVX-512 KL pass against the sgemm path: bin tails (45 = 2 x 16
 * + 13, 7, 300), partial tiles and groups of frames (101 on 2 threads, 3,
 * 257), ranks 16, 12, 5 and 1 (below 16 padded), regularisation, a fixed W
 * and a fixed H, the divergence checks of every 10th iteration. They differ only in
 * the order of the products' sums. */
static void kl16_case(void)
{
    if (!st_nmf_kl16_available()) {
        printf("skip nmf fused KL kernel: AVX-512F not allowed here (the CPU or STRATA_SIMD)\n");
        return;
    }
    static const struct {
        int bins, frames, rank, update_W, update_H;
        double l1_H, l2_H;
        const char *label;
    } cases[] = {{45, 101, 16, 1, 1, 0, 0, "45 x 101, rank 16"},
                 {45, 101, 5, 1, 1, 0, 0, "45 x 101, rank 5"},
                 {45, 101, 16, 1, 1, 0.01, 0.02, "45 x 101, rank 16, l1 and l2 on H"},
                 {45, 101, 16, 0, 1, 0, 0, "45 x 101, rank 16, W fixed"},
                 {45, 101, 12, 1, 0, 0, 0, "45 x 101, rank 12, H fixed"},
                 {7, 3, 16, 1, 1, 0, 0, "7 x 3 (one partial chunk, tiny tiles)"},
                 {16, 70, 1, 1, 1, 0, 0, "16 x 70, rank 1"},
                 {300, 257, 16, 1, 1, 0, 0, "300 x 257, rank 16"}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        const int rank = cases[c].rank, bins = cases[c].bins, frames = cases[c].frames;
        uint64_t rng = st_rng_seed(16, c);
        float *v = malloc(sizeof(float) * bins * frames);
        for (int i = 0; i < bins * frames; i++) {
            double u = st_rng_uniform(&rng);
            v[i] = (float)(u * u * u); /* some entries below EPSILON */
        }
        float *w[2], *h[2];
        st_nmf_result r[2];
        uint64_t start = st_rng_seed(17, c);
        for (int m = 0; m < 2; m++) {
            w[m] = malloc(sizeof(float) * bins * rank),
            h[m] = malloc(sizeof(float) * rank * frames);
            uint64_t state = start;
            for (int i = 0; i < bins * rank; i++)
                w[m][i] = (float)st_rng_uniform(&state);
            for (int i = 0; i < rank * frames; i++)
                h[m][i] = (float)(0.1 * st_rng_uniform(&state));
            st_nmf_options o = {.beta = 1,
                                .max_iter = 30,
                                .tol = 0,
                                .l1_H = cases[c].l1_H,
                                .l2_H = cases[c].l2_H,
                                .update_W = cases[c].update_W,
                                .update_H = cases[c].update_H,
                                .n_threads = 2,
                                .sgemm_only = m};
            st_nmf_fit(v, bins, frames, w[m], h[m], rank, &o, &r[m]);
        }
        double dw = rel_dist(w[0], w[1], bins * rank), dh = rel_dist(h[0], h[1], rank * frames);
        double dd = 0;
        int same_curve = r[0].n_curve == r[1].n_curve && r[0].n_curve == 4;
        /* relative to the divergence, floored at a tenth of the first one: a fit
         * that goes to zero (rank 16 on 7 x 3) leaves only the BLAS kernel's rounding */
        for (int i = 0; same_curve && i < r[0].n_curve; i++)
            dd = fmax(dd, fabs(r[0].curve[i] - r[1].curve[i]) /
                              fmax(r[1].curve[i], 0.1 * r[1].curve[0]));
        char name[160];
        snprintf(name, sizeof name, "nmf fused KL kernel, %s: W, H and divergences as sgemm's",
                 cases[c].label);
        CHECK(name, same_curve && dw < 1e-5 && dh < 1e-5 && dd < 1e-6,
              "W %.2e, H %.2e, divergence %.2e, %d and %d points", dw, dh, dd, r[0].n_curve,
              r[1].n_curve);
        for (int m = 0; m < 2; m++)
            free(w[m]), free(h[m]), free(r[m].curve), free(r[m].curve_iter);
        free(v);
    }
}

/* One fit from NNDSVDa on n_threads threads: W, H and the divergence
 * curve (returned; the caller frees them). */
static int fit_on(const float *v, int bins, int frames, int rank, double beta, int update_W,
                  int n_threads, float **w, float **h, st_nmf_result *r)
{
    *w = malloc(sizeof(float) * bins * rank), *h = malloc(sizeof(float) * rank * frames);
    if (!*w || !*h || st_nndsvd(v, bins, frames, rank, ST_NNDSVDA, 3, n_threads, *w, *h)) return -1;
    st_nmf_options o = {.beta = beta,
                        .max_iter = 20,
                        .tol = 0,
                        .update_W = update_W,
                        .update_H = 1,
                        .n_threads = n_threads};
    return st_nmf_fit(v, bins, frames, *w, *h, rank, &o, r);
}

/* The start and the fit have the same bytes on any number of threads (the
 * columns are cut in parts fixed by their number, the SVD's products too),
 * so a result cached from a run on 1 thread is the one 4 would make. The
 * frames are not a multiple of the parts or of a block. */
static void threads_cases(void)
{
    static const struct {
        double beta;
        int rank, update_W;
        const char *label;
    } cases[] = {{2, 5, 1, "Euclidean, rank 5"},
                 {1, 5, 1, "KL, rank 5"},
                 {1, 16, 1, "KL, rank 16"},
                 {0, 4, 1, "IS, rank 4"},
                 {2, 6, 0, "Euclidean, rank 6, W fixed"}};
    const int bins = 301, frames = 1111;
    float *v = malloc(sizeof(float) * bins * frames);
    uint64_t rng = st_rng_seed(21, 0);
    for (int i = 0; i < bins * frames; i++)
        v[i] = (float)(1e-3 + st_rng_uniform(&rng) * st_rng_uniform(&rng));
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        const int rank = cases[c].rank;
        float *w[4] = {0}, *h[4] = {0};
        st_nmf_result r[4] = {{0}};
        int same = 1, failed = 0;
        for (int t = 0; t < 4; t++) {
            failed |= fit_on(v, bins, frames, rank, cases[c].beta, cases[c].update_W, t + 1, &w[t],
                             &h[t], &r[t]);
            same &= !failed && r[t].n_curve == r[0].n_curve &&
                    !memcmp(w[t], w[0], sizeof(float) * bins * rank) &&
                    !memcmp(h[t], h[0], sizeof(float) * rank * frames) &&
                    !memcmp(r[t].curve, r[0].curve, sizeof(double) * r[0].n_curve);
        }
        char name[160];
        snprintf(name, sizeof name,
                 "nmf %s from NNDSVDa on 301 x 1111: the same bytes on 1, 2, 3 and 4 threads",
                 cases[c].label);
        CHECK(name, same && !failed, "%s", failed ? "a fit failed" : "the bytes differ");
        for (int t = 0; t < 4; t++)
            free(w[t]), free(h[t]), free(r[t].curve), free(r[t].curve_iter);
    }
    free(v);
}

void test_nmf(void)
{
    kl16_case();
    threads_cases();
    rpca_case();
    grouping_cases();
    const char *root = getenv("STRATA_CORPUS");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/conformance/sklearn_nmf", root ? root : "../shared/corpus");
    char path[1100];
    snprintf(path, sizeof path, "%s/spectrogram.f32", dir);
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("skip nmf conformance: %s is absent\n", dir);
        return;
    }
    static fixture fx;
    float *spec = malloc(sizeof(float) * F * COLS);
    size_t got = fread(spec, sizeof(float), (size_t)F * COLS, f);
    fclose(f);
    fx.X = malloc(sizeof(float) * F * N);
    fx.Y = malloc(sizeof(float) * F * N);
    fx.buf = malloc(sizeof(double) * F * N);
    for (int b = 0; b < F; b++)
        for (int t = 0; t < N; t++) {
            fx.X[t * F + b] = spec[b * COLS + t];
            fx.Y[t * F + b] = spec[b * COLS + N + t];
        }
    CHECK("nmf conformance: spectrogram read", got == (size_t)F * COLS, "%zu values", got);
    fit_case(dir, &fx, "fit_fro.json", "Euclidean", 2, 0, NULL, NULL);
    fit_case(dir, &fx, "fit_kl.json", "KL", 1, 0, NULL, NULL);
    fit_case(dir, &fx, "fit_is.json", "IS", 0, 1e-6, NULL, NULL);
    fit_case(dir, &fx, "fit_kl_nndsvda.json", "KL from NNDSVDa", 1, 0, "W_init", "H_init");
    transform_case(dir, &fx);
    nndsvda_case(dir, &fx);
    free(spec), free(fx.X), free(fx.Y), free(fx.buf);
}
