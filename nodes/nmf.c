/* nmf: V ~= W H for a non-negative array (a magnitude or power spectrogram)
 * by multiplicative updates for the beta-divergence, as scikit-learn 1.2's
 * NMF(solver="mu") computes them (nodes/dsp/nmf.c). */
#include "../vm/budget.h"
#include "../vm/node.h"
#include "dsp/nmf.h"
#include "dsp/nndsvd.h"
#include "dsp/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const st_param params[] = {
    {"rank", ST_P_INT, .def = 16, .min = 1, .max = 1024,
     .doc = "number of components (templates); a given W or H sets it instead"},
    {"beta", ST_P_NUMBER, .def = 1, .min = 0, .max = 2,
     .doc = "beta-divergence: 2 Euclidean, 1 Kullback-Leibler, 0 Itakura-Saito"},
    {"iterations", ST_P_INT, .def = 200, .min = 1, .max = 1000000,
     .doc = "iterations at most (one = W update then H update)"},
    {"tol", ST_P_NUMBER, .def = 1e-4, .min = 0, .max = 1,
     .doc = "every 10 iterations, stop when the error sqrt(2 D) fell by less than tol times its "
            "first value; 0 runs every iteration"},
    {"init", ST_P_STRING, .def_str = "auto", .choices = "auto|nndsvda|nndsvd|random|given",
     .doc = "start: auto = nndsvda when rank <= min(bins, frames), else random (sklearn's "
            "None); given = the W and H inputs"},
    {"seed", ST_P_INT, .def = 0, .min = 0, .max = 2147483647,
     .doc = "seed of the random start and of the randomised SVD"},
    {"fixed", ST_P_STRING, .def_str = "none", .choices = "none|W|H",
     .doc = "hold the given W (learned templates: new activations, sklearn's transform on the "
            "transposes) or the given H fixed"},
    {"alpha_W", ST_P_NUMBER, .def = 0, .min = 0, .max = 1e9,
     .doc = "regularisation of W, times the number of frames (as sklearn scales it)"},
    {"alpha_H", ST_P_NUMBER, .def = -1, .min = -1, .max = 1e9,
     .doc = "regularisation of H, times the number of bins; -1 takes alpha_W (sklearn's 'same')"},
    {"l1_ratio", ST_P_NUMBER, .def = 0, .min = 0, .max = 1,
     .doc = "share of L1 in the regularisation (the rest is L2)"},
    {"floor", ST_P_NUMBER, .def = 0, .min = 0, .max = 1e9,
     .doc = "added to every entry of V first (Itakura-Saito needs V > 0)"},
    {NULL}};

/* The factors handed in after V: a record with fields W and H (an nmf
 * result), or arrays told apart by where their "rank" axis is. */
static int find_factors(st_ctx *ctx, st_value *const *in, int n_in, const st_array **w,
                        const st_array **h)
{
    *w = *h = NULL;
    for (int i = 1; i < n_in; i++) {
        if (in[i]->type == ST_RECORD) {
            const st_value *fw = st_record_get(in[i], "W"), *fh = st_record_get(in[i], "H");
            if (!fw || !fh || fw->type != ST_ARRAY || fh->type != ST_ARRAY)
                return st_fail(ctx, "input %d is a record without arrays W and H", i + 1);
            *w = &fw->u.array, *h = &fh->u.array;
            continue;
        }
        if (in[i]->type != ST_ARRAY)
            return st_fail(ctx, "input %d is a %s, not an array or an nmf result", i + 1,
                           st_type_name(in[i]->type));
        const st_array *a = &in[i]->u.array;
        int is_h =
            strcmp(a->axis[a->n_axes - 1], "rank") == 0 || (strcmp(a->axis[0], "rank") != 0 && *w);
        if (is_h ? *h != NULL : *w != NULL)
            return st_fail(ctx, "input %d: %s given twice", i + 1, is_h ? "H" : "W");
        if (is_h)
            *h = a;
        else
            *w = a;
    }
    return ST_OK;
}

typedef struct {
    st_ctx *ctx;
} progress_ctx;

/* The bar shows the latest divergence (known at the start and every 10
 * iterations), so a user sees whether the fit still improves. */
static void on_progress(void *data, int iteration, int max_iter, double divergence)
{
    progress_ctx *pc = data;
    char note[32];
    snprintf(note, sizeof note, "divergence %.5g", divergence);
    st_progress_note(pc->ctx, (double)iteration / max_iter, note);
}

static st_value *curve_array(const st_nmf_result *r, int which)
{
    int64_t shape[1] = {r->n_curve};
    static const char *const axes[] = {"check"};
    st_value *v = st_array_new(1, shape, axes);
    for (int i = 0; v && i < r->n_curve; i++)
        v->u.array.data[i] = which ? (float)r->curve_iter[i] : (float)r->curve[i];
    return v;
}

extern const st_node_type st_node_nmf;

static int nmf_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p, st_value **out)
{
    if (in[0]->type != ST_ARRAY)
        return st_fail(ctx, "input V is a %s; give an array (magnitude or power of a spectrum)",
                       st_type_name(in[0]->type));
    const st_array *v = &in[0]->u.array;
    if (v->n_axes < 2 || v->n_axes > 3)
        return st_fail(ctx, "V has %d axes; give (time, freq) or (channel, time, freq)", v->n_axes);
    const int F = (int)v->shape[v->n_axes - 1];
    const int64_t T = v->shape[v->n_axes - 2], C = v->n_axes == 3 ? v->shape[0] : 1;
    const int64_t N = C * T;
    const st_array *gw, *gh;
    if (find_factors(ctx, in, n_in, &gw, &gh)) return ST_ERR;
    const int fixed = st_choice(p, "fixed"); /* 0 none, 1 W, 2 H */
    const char *init = st_str(p, "init");
    const double beta = st_num(p, "beta"), floor_v = st_num(p, "floor");
    int K = st_int(p, "rank");
    if (fixed == 1 && !gw) return st_fail(ctx, "fixed = \"W\" needs W as an input");
    if (fixed == 2 && !gh) return st_fail(ctx, "fixed = \"H\" needs H as an input");
    if (strcmp(init, "given") == 0 && !fixed && (!gw || !gh))
        return st_fail(ctx, "init = \"given\" needs W and H as inputs");
    if (gw) {
        if (gw->n_axes != 2 || gw->shape[1] != F)
            return st_fail(ctx, "W must be (rank, freq) with %d bins, as V", F);
        K = (int)gw->shape[0];
    }
    if (gh) {
        if (gh->n_elems % (N ? N : 1) != 0 || gh->shape[gh->n_axes - 1] * N != gh->n_elems)
            return st_fail(ctx, "H must be (channel, time, rank) with %lld frames, as V",
                           (long long)N);
        int kh = (int)gh->shape[gh->n_axes - 1];
        if (gw && kh != K) return st_fail(ctx, "W has rank %d, H rank %d", K, kh);
        K = kh;
    }
    if (K > 1024) return st_fail(ctx, "rank %d: at most 1024", K);
    { /* V's copy, W and H with their update terms, the per-thread blocks */
        double by_rank = 4.0 * K * (3.0 * (double)N + 4.0 * F), by_input = 4.0 * (double)F * N;
        char what[160];
        snprintf(what, sizeof what, "NMF of rank %d on %d bins x %lld frames", K, F, (long long)N);
        if (st_memory_check(ctx, by_rank + by_input, what,
                            by_rank > by_input ? "lower rank"
                                               : "raise the stft's hop, or split the input"))
            return ST_ERR;
    }

    /* V as F x N column-major: the array itself, or a copy raised by floor */
    float *v_own = NULL;
    const float *V = v->data;
    double sum = 0;
    int has_zero = 0, negative = 0;
    for (int64_t i = 0; i < v->n_elems; i++) {
        float x = v->data[i] + (float)floor_v;
        sum += x;
        has_zero |= x == 0;
        negative |= !(x >= 0);
    }
    if (negative) return st_fail(ctx, "V has negative or NaN entries; NMF needs V >= 0");
    if (sum == 0) return st_fail(ctx, "V is all zeros");
    if (beta <= 0 && has_zero)
        return st_fail(ctx, "beta = %g needs V > 0 but V holds zeros: set floor (e.g. 1e-6)", beta);
    const double mean = sum / (double)v->n_elems;
    if (floor_v > 0) {
        if (!(v_own = malloc((size_t)v->n_elems * sizeof *v_own)))
            return st_fail(ctx, "out of memory");
        for (int64_t i = 0; i < v->n_elems; i++)
            v_own[i] = v->data[i] + (float)floor_v;
        V = v_own;
    }

    static const char *const w_axes[] = {"rank", "freq"};
    static const char *const h_axes3[] = {"channel", "time", "rank"};
    int64_t w_shape[2] = {K, F}, h_shape[3] = {C, T, K};
    st_value *wv = st_array_new(2, w_shape, w_axes);
    st_value *hv = v->n_axes == 3 ? st_array_new(3, h_shape, h_axes3)
                                  : st_array_new(2, h_shape + 1, h_axes3 + 1);
    st_value *curve = NULL, *iters = NULL;
    int status = wv && hv ? ST_OK : st_fail(ctx, "out of memory");
    float *W = wv ? wv->u.array.data : NULL, *H = hv ? hv->u.array.data : NULL;
    const uint64_t seed = (uint64_t)st_int(p, "seed");
    if (status == ST_OK) {
        const float start = (float)sqrt(mean / K);
        if (gw) memcpy(W, gw->data, sizeof(float) * (size_t)K * F);
        if (gh) memcpy(H, gh->data, sizeof(float) * (size_t)K * N);
        if (fixed) {
            /* the free factor starts from sklearn's constant unless it was given */
            float *free_factor = fixed == 1 ? H : W;
            if (!(fixed == 1 ? gh : gw))
                for (size_t i = 0; i < (size_t)K * (fixed == 1 ? N : F); i++)
                    free_factor[i] = start;
        } else if (strcmp(init, "given") != 0) {
            int use_random =
                strcmp(init, "random") == 0 || (strcmp(init, "auto") == 0 && K > (F < N ? F : N));
            if (!use_random && K > (F < N ? F : N)) {
                status = st_fail(ctx, "init = \"%s\" needs rank <= min(bins, frames) = %lld", init,
                                 (long long)(F < N ? F : N));
            } else if (use_random) {
                /* sklearn: avg * |N(0, 1)|, H drawn first */
                uint64_t state = st_rng_seed(seed, 0);
                for (size_t i = 0; i < (size_t)K * N; i++)
                    H[i] = (float)fabs(start * st_gaussian(&state));
                for (size_t i = 0; i < (size_t)K * F; i++)
                    W[i] = (float)fabs(start * st_gaussian(&state));
            } else if (st_nndsvd(V, F, N, K, strcmp(init, "nndsvd") == 0 ? ST_NNDSVD : ST_NNDSVDA,
                                 seed, ctx->n_threads, W, H)) {
                status = st_fail(ctx, "the SVD of V failed (out of memory or not finite)");
            }
        }
    }
    st_nmf_result r = {0};
    if (status == ST_OK) {
        const double alpha_w = st_num(p, "alpha_W"),
                     alpha_h = st_num(p, "alpha_H") < 0 ? alpha_w : st_num(p, "alpha_H"),
                     l1 = st_num(p, "l1_ratio");
        progress_ctx pc = {ctx};
        st_nmf_options o = {.beta = beta,
                            .max_iter = st_int(p, "iterations"),
                            .tol = st_num(p, "tol"),
                            .l1_W = (double)N * alpha_w * l1,
                            .l2_W = (double)N * alpha_w * (1 - l1),
                            .l1_H = (double)F * alpha_h * l1,
                            .l2_H = (double)F * alpha_h * (1 - l1),
                            .update_W = fixed != 1,
                            .update_H = fixed != 2,
                            .n_threads = ctx->n_threads,
                            .progress = on_progress,
                            .progress_data = &pc};
        if (st_nmf_fit(V, F, N, W, H, K, &o, &r)) status = st_fail(ctx, "out of memory");
    }
    if (status == ST_OK) {
        curve = curve_array(&r, 0), iters = curve_array(&r, 1);
        st_value *fields[4] = {wv, hv, curve, iters};
        if (!curve || !iters || !(*out = st_record_of_outputs(&st_node_nmf, fields)))
            status = st_fail(ctx, "out of memory");
    }
    free(r.curve), free(r.curve_iter), free(v_own);
    st_value_unref(wv), st_value_unref(hv), st_value_unref(curve), st_value_unref(iters);
    return status;
}

const st_node_type st_node_nmf = {
    .name = "nmf",
    .doc = "Non-negative matrix factorisation V ~= W H of a (channel, time, freq) array, as "
           "scikit-learn 1.2's NMF(solver=\"mu\"): multiplicative updates for the "
           "beta-divergence, its zero guards, regularisation and stopping rule. The channels "
           "share W; each has its own activations. After V may come an nmf result (or W and H "
           "arrays) as the start (init = \"given\") or as fixed templates (fixed = \"W\"). "
           "Gives W (rank, freq), H (channel, time, rank), the divergence after iterations "
           "0, 10, 20, ... and the last, and those iterations. Slow: cached.",
    .inputs = (const st_port[]){{"in", ST_ANY}, {NULL}},
    .outputs = (const st_port[]){{"W", ST_ARRAY},
                                 {"H", ST_ARRAY},
                                 {"divergence", ST_ARRAY},
                                 {"iteration", ST_ARRAY},
                                 {NULL}},
    .params = params,
    .variadic = 1,
    .slow = 1,
    .version = 4, /* 1: starts drawn from dsp/rng.h; 2: vectorised passes (last digits differ);
                     3: KL up to rank 16 by the fused AVX-512 pass (last digits differ);
                     4: fixed parts, the same bytes on any number of threads */
    .run = nmf_run,
};
