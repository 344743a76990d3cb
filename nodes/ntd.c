/* ntd: non-negative Tucker decomposition of a spectral cube (freq x time in
 * bar x bar), as TensorLy 0.9's non_negative_tucker (MU) and
 * non_negative_tucker_hals. The numerics are in dsp/tucker.c. */
#include "../vm/node.h"
#include "dsp/cycle_tucker.h"
#include "dsp/tucker.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const mode_names[ST_TUCKER_MODES] = {"freq", "time", "bar"};
static const char *const factor_names[ST_TUCKER_MODES] = {"sound", "rhythm", "layout"};

static const st_param params[] = {
    {"rank_freq", ST_P_INT, .def = 16, .min = 1, .max = 65536,
     .doc = "sound templates: columns of `sound` (at most the cube's bins)"},
    {"rank_time", ST_P_INT, .def = 16, .min = 1, .max = 65536,
     .doc = "rhythm templates: columns of `rhythm` (at most the frames per bar)"},
    {"rank_bar", ST_P_INT, .def = 8, .min = 1, .max = 65536,
     .doc = "loop types: columns of `layout` (at most the bars)"},
    {"algorithm", ST_P_STRING, .def_str = "mu", .choices = "mu|hals",
     .doc = "mu: Kim & Choi's multiplicative updates (TensorLy's non_negative_tucker); hals: "
            "HALS factors and a FISTA core (non_negative_tucker_hals)"},
    {"iterations", ST_P_INT, .def = 100, .min = 1, .max = 1000000,
     .doc = "at most this many iterations (sweeps over every factor and the core)"},
    {"tol", ST_P_NUMBER, .def = 1e-4, .min = 0, .max = 1,
     .doc = "stop when the relative error changes by less than this (an absolute change, "
            "tested from the third iteration on); 0 runs every iteration"},
    {"init", ST_P_STRING, .def_str = "svd", .choices = "svd|random|given",
     .doc = "svd: TensorLy's (NNDSVDa of each unfolding); random: seeded uniform; given: four "
            "more array inputs after the cube: core, sound, rhythm, layout"},
    {"seed", ST_P_INT, .def = 0, .min = 0, .max = 2147483647, .doc = "seed of init = \"random\""},
    {"sparsity_sound", ST_P_NUMBER, .def = 0, .min = 0, .max = 1e30,
     .doc = "hals: l1 weight on `sound` (TensorLy's sparsity_coefficients[0])"},
    {"sparsity_rhythm", ST_P_NUMBER, .def = 0, .min = 0, .max = 1e30,
     .doc = "hals: l1 weight on `rhythm`"},
    {"sparsity_layout", ST_P_NUMBER, .def = 0, .min = 0, .max = 1e30,
     .doc = "hals: l1 weight on `layout`"},
    {"sparsity_core", ST_P_NUMBER, .def = 0, .min = 0, .max = 1e30,
     .doc = "hals: l1 weight on the core (core_sparsity_coefficient)"},
    {"fix_sound", ST_P_BOOL, .def = 0,
     .doc = "keep `sound` as initialised (TensorLy's fixed_modes; both algorithms)"},
    {"fix_rhythm", ST_P_BOOL, .def = 0, .doc = "keep `rhythm` as initialised"},
    {"fix_layout", ST_P_BOOL, .def = 0, .doc = "keep `layout` as initialised"},
    {"period", ST_P_INT, .def = 1, .min = 1, .max = 8,
     .doc = "slices in a loop type's cycle: above 1, the cycle model, in which each loop type "
            "owns a whole cycle (one template per phase, slice b in phase b mod period, and one "
            "activation per cycle); the core is then rank_freq x rank_time x period x rank_bar "
            "and `layout` gives each slice its cycle's activation (mu only; see doc/ntd.md)"},
    {"stagger", ST_P_BOOL, .def = 0,
     .doc = "with period > 1: loop type l's cycles start at the slices b with (b + l) mod period "
            "= 0, so that a loop that starts or stops at any slice has types whose cycles line "
            "up with it (each slice still uses the template of phase b mod period)"},
    {"slice_types", ST_P_INT, .def = 0, .min = 0, .max = 65536,
     .doc = "with period > 1: the last this many loop types own one slice instead of a cycle "
            "(one template for every phase, an activation per slice), so that the model chooses "
            "loop by loop between a one-slice loop and a whole cycle"},
    {NULL}};

static int ntd_check(st_ctx *ctx, const st_params *p)
{
    static const char *const names[] = {"sparsity_sound", "sparsity_rhythm", "sparsity_layout",
                                        "sparsity_core"};
    const int period = st_int(p, "period");
    if (period > 1 && st_choice(p, "algorithm") != ST_TUCKER_MU)
        return st_fail(ctx, "period = %d (the cycle model) needs algorithm = \"mu\"", period);
    if (period > 1 && st_choice(p, "init") == 2)
        return st_fail(ctx,
                       "period = %d (the cycle model) starts from init = \"svd\" or "
                       "\"random\", not \"given\"",
                       period);
    if (period == 1 && (st_int(p, "stagger") || st_int(p, "slice_types") > 0))
        return st_fail(ctx, "%s acts only with period > 1 (the cycle model)",
                       st_int(p, "stagger") ? "stagger" : "slice_types");
    if (st_int(p, "slice_types") > st_int(p, "rank_bar"))
        return st_fail(ctx, "slice_types = %d exceeds rank_bar = %d", st_int(p, "slice_types"),
                       st_int(p, "rank_bar"));
    if (period > 1 &&
        (st_int(p, "fix_sound") || st_int(p, "fix_rhythm") || st_int(p, "fix_layout")))
        return st_fail(ctx, "period = %d (the cycle model) fixes no factor (fix_*)", period);
    if (st_choice(p, "algorithm") == ST_TUCKER_MU)
        for (int i = 0; i < 4; i++)
            if (st_num(p, names[i]) != 0)
                return st_fail(ctx, "%s = %g needs algorithm = \"hals\"", names[i],
                               st_num(p, names[i]));
    return ST_OK;
}

/* An array input of the given init, checked against the shape it must have. */
static int given_array(st_ctx *ctx, const st_value *v, const char *what, int n_axes,
                       const int64_t *shape, int64_t *n)
{
    const st_array *a = &v->u.array;
    int ok = a->n_axes == n_axes;
    for (int k = 0; ok && k < n_axes; k++)
        ok = a->shape[k] == shape[k];
    if (!ok) {
        char want[64];
        if (n_axes == 3)
            snprintf(want, sizeof want, "%lld x %lld x %lld", (long long)shape[0],
                     (long long)shape[1], (long long)shape[2]);
        else
            snprintf(want, sizeof want, "%lld x %lld", (long long)shape[0], (long long)shape[1]);
        return st_fail(ctx, "init = \"given\": %s must be %s", what, want);
    }
    *n = a->n_elems;
    for (int64_t i = 0; i < a->n_elems; i++)
        if (!isfinite(a->data[i]))
            return st_fail(ctx, "init = \"given\": %s holds a non-finite value", what);
    return ST_OK;
}

static int take_given(st_ctx *ctx, st_value *const *in, st_tucker *t)
{
    int64_t n, core_shape[3] = {t->rank[0], t->rank[1], t->rank[2]};
    if (given_array(ctx, in[1], "core (input 2)", 3, core_shape, &n)) return ST_ERR;
    for (int64_t i = 0; i < n; i++)
        t->core[i] = in[1]->u.array.data[i];
    for (int m = 0; m < ST_TUCKER_MODES; m++) {
        char what[32];
        snprintf(what, sizeof what, "%s (input %d)", factor_names[m], m + 3);
        int64_t shape[2] = {t->shape[m], t->rank[m]};
        if (given_array(ctx, in[2 + m], what, 2, shape, &n)) return ST_ERR;
        for (int64_t i = 0; i < n; i++)
            t->factor[m][i] = in[2 + m]->u.array.data[i];
    }
    st_tucker_abs(t);
    return ST_OK;
}

typedef struct {
    st_ctx *ctx;
    int max_iterations;
} progress_state;

static void show_progress(void *data, int iteration, double error)
{
    progress_state *ps = data;
    char note[32];
    snprintf(note, sizeof note, "error %.6f", error);
    st_progress_note(ps->ctx, (double)iteration / ps->max_iterations, note);
}

/* A 2-axis array of an I x R factor, or the core, in float32. */
static st_value *array_of(int n_axes, const int64_t *shape, const char *const *axes,
                          const double *data)
{
    st_value *v = st_array_new(n_axes, shape, axes);
    if (v)
        for (int64_t i = 0; i < v->u.array.n_elems; i++)
            v->u.array.data[i] = (float)data[i];
    return v;
}

extern const st_node_type st_node_ntd;

/* The cycle model (dsp/cycle_tucker.h), started from t (the SVD start of
 * the three-way model) or from its own seeded random start. */
static int cycle_run(st_ctx *ctx, const st_array *cube, const st_tucker *t, const st_params *p,
                     const st_tucker_options *o, double *errors, st_value **out)
{
    const int period = st_int(p, "period");
    if (st_int(p, "slice_types") > t->rank[2])
        return st_fail(ctx, "slice_types = %d exceeds rank_bar = %d", st_int(p, "slice_types"),
                       t->rank[2]);
    st_cycle_tucker *m = st_cycle_tucker_new(cube->shape, period, st_int(p, "stagger"),
                                             st_int(p, "slice_types"), t->rank);
    double *layout = m ? malloc(sizeof(double) * (size_t)(m->n_bars * m->rank[2])) : NULL;
    st_value *fields[5] = {0};
    int status = m && layout ? ST_OK : st_fail(ctx, "out of memory");
    if (status == ST_OK) {
        if (st_choice(p, "init") == 1)
            st_cycle_tucker_init_random(m, (uint64_t)st_int(p, "seed"));
        else if (st_cycle_tucker_init_from(m, cube->data, t, ctx->n_threads))
            status = st_fail(ctx, "out of memory");
    }
    int done = -1;
    if (status == ST_OK &&
        (done = st_cycle_tucker_fit(m, cube->data, o->max_iterations, o->tol, ctx->n_threads,
                                    o->progress, o->progress_data, errors)) < 0)
        status = st_fail(ctx, "out of memory");
    if (status == ST_OK) {
        const int rank_bar = m->rank[2];
        for (int64_t b = 0; b < m->n_bars; b++) /* each slice: its cycle's activation */
            for (int l = 0; l < rank_bar; l++)
                layout[b * rank_bar + l] = m->cycle[st_cycle_of(m, b, l) * rank_bar + l];
        static const char *const core_axes[] = {"rank_freq", "rank_time", "phase", "rank_bar"};
        static const char *const error_axes[] = {"iteration"};
        int64_t core_shape[4] = {m->rank[0], m->rank[1], period, rank_bar}, n_done = done;
        const double *data[3] = {m->sound, m->rhythm, layout};
        fields[0] = array_of(4, core_shape, core_axes, m->core);
        for (int k = 0; k < ST_TUCKER_MODES; k++) {
            const char *axes[2] = {cube->axis[k][0] ? cube->axis[k] : mode_names[k], "rank"};
            int64_t shape[2] = {cube->shape[k], m->rank[k]};
            fields[1 + k] = array_of(2, shape, axes, data[k]);
        }
        fields[4] = array_of(1, &n_done, error_axes, errors);
        if (!(*out = st_record_of_outputs(&st_node_ntd, fields)))
            status = st_fail(ctx, "out of memory");
    }
    for (int i = 0; i < 5; i++)
        st_value_unref(fields[i]);
    free(layout);
    st_cycle_tucker_free(m);
    return status;
}

static int ntd_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p, st_value **out)
{
    const st_array *cube = &in[0]->u.array;
    const int given = st_choice(p, "init") == 2;
    if (cube->n_axes != 3)
        return st_fail(ctx, "the cube must have 3 axes (freq, time, bar), not %d", cube->n_axes);
    if (given && n_in != 5)
        return st_fail(ctx,
                       "init = \"given\" takes four arrays after the cube (core, sound, rhythm, "
                       "layout); got %d",
                       n_in - 1);
    if (!given && n_in != 1)
        return st_fail(ctx, "%d inputs after the cube: they are for init = \"given\"", n_in - 1);
    static const char *const rank_params[] = {"rank_freq", "rank_time", "rank_bar"};
    int rank[ST_TUCKER_MODES];
    for (int m = 0; m < ST_TUCKER_MODES; m++) {
        rank[m] = st_int(p, rank_params[m]);
        if (rank[m] > cube->shape[m])
            return st_fail(ctx, "%s = %d exceeds the cube's %lld %s", rank_params[m], rank[m],
                           (long long)cube->shape[m],
                           m == 0   ? "bins"
                           : m == 1 ? "frames per bar"
                                    : "bars");
    }
    for (int64_t i = 0; i < cube->n_elems; i++)
        if (!(cube->data[i] >= 0 && cube->data[i] < INFINITY))
            return st_fail(ctx,
                           "the cube holds %s at element %lld: it must be finite and "
                           "non-negative (a magnitude)",
                           isnan(cube->data[i]) ? "NaN" : "a negative or infinite value",
                           (long long)i);
    const int period = st_int(p, "period");
    if (period > cube->shape[2])
        return st_fail(ctx, "period = %d exceeds the cube's %lld bars", period,
                       (long long)cube->shape[2]);
    st_tucker_options o = {
        .algorithm = st_choice(p, "algorithm"),
        .max_iterations = st_int(p, "iterations"),
        .tol = st_num(p, "tol"),
        .sparsity = {st_num(p, "sparsity_sound"), st_num(p, "sparsity_rhythm"),
                     st_num(p, "sparsity_layout")},
        .core_sparsity = st_num(p, "sparsity_core"),
        .fixed = {st_int(p, "fix_sound"), st_int(p, "fix_rhythm"), st_int(p, "fix_layout")},
        .n_threads = ctx->n_threads,
        .progress = show_progress,
    };
    progress_state ps = {ctx, o.max_iterations};
    o.progress_data = &ps;
    st_tucker *t = st_tucker_new(cube->shape, rank);
    double *errors = malloc(sizeof(double) * (size_t)o.max_iterations);
    int status = ST_OK, done = 0;
    st_value *fields[5] = {0};
    if (!t || !errors) {
        status = st_fail(ctx, "out of memory");
        goto end;
    }
    double sum = 0;
    for (int64_t i = 0; i < cube->n_elems; i++)
        sum += cube->data[i];
    if (sum == 0) {
        status = st_fail(ctx, "the cube is all zeros: nothing to factorize");
        goto end;
    }
    if (given) {
        if ((status = take_given(ctx, in, t))) goto end;
    } else if (st_choice(p, "init") == 1) {
        st_tucker_init_random(t, (uint64_t)st_int(p, "seed"));
    } else {
        char why[200];
        if (st_tucker_init_svd(t, cube->data, ctx->n_threads, why, sizeof why)) {
            status = st_fail(ctx, "init = \"svd\": %s", why);
            goto end;
        }
    }
    if (period > 1) {
        status = cycle_run(ctx, cube, t, p, &o, errors, out);
        goto end;
    }
    if ((done = st_tucker_fit(t, cube->data, &o, errors)) < 0) {
        status = st_fail(ctx, "out of memory");
        goto end;
    }
    static const char *const core_axes[] = {"rank_freq", "rank_time", "rank_bar"};
    int64_t core_shape[3] = {rank[0], rank[1], rank[2]}, n_done = done;
    fields[0] = array_of(3, core_shape, core_axes, t->core);
    for (int m = 0; m < ST_TUCKER_MODES; m++) {
        const char *axes[2] = {cube->axis[m][0] ? cube->axis[m] : mode_names[m], "rank"};
        int64_t shape[2] = {cube->shape[m], rank[m]};
        fields[1 + m] = array_of(2, shape, axes, t->factor[m]);
    }
    static const char *const error_axes[] = {"iteration"};
    fields[4] = array_of(1, &n_done, error_axes, errors);
    if (!(*out = st_record_of_outputs(&st_node_ntd, fields)))
        status = st_fail(ctx, "out of memory");
end:
    for (int i = 0; i < 5; i++)
        st_value_unref(fields[i]);
    st_tucker_free(t);
    free(errors);
    return status;
}

const st_node_type st_node_ntd = {
    .name = "ntd",
    .doc = "Non-negative Tucker decomposition of a spectral cube (freq x time in bar x bar): "
           "cube ~ core x1 sound x2 rhythm x3 layout, as TensorLy 0.9's non_negative_tucker "
           "(algorithm = \"mu\") or non_negative_tucker_hals (\"hals\"). Gives the core "
           "(rank_freq x rank_time x rank_bar), sound (bins x rank_freq), rhythm (frames x "
           "rank_time), layout (bars x rank_bar) and errors (the relative Frobenius error "
           "||cube - model|| / ||cube|| after each iteration). With period > 1, the cycle model: "
           "each loop type owns a cycle of `period` slices (a template per phase, one "
           "activation per cycle), and the core gets a phase axis. See doc/ntd.md.",
    .inputs = (const st_port[]){{"cube", ST_ARRAY}, {NULL}},
    .outputs = (const st_port[]){{"core", ST_ARRAY},
                                 {"sound", ST_ARRAY},
                                 {"rhythm", ST_ARRAY},
                                 {"layout", ST_ARRAY},
                                 {"errors", ST_ARRAY},
                                 {NULL}},
    .params = params,
    .variadic = 1,
    .slow = 1,
    .version = 3, /* 3: every fit the same on any number of threads */
    .check = ntd_check,
    .run = ntd_run,
};
