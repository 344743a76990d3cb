/* beat_metrics: mir_eval.beat's scores of estimated against reference beats,
 * and the F-measure of the downbeats. The numerics are in dsp/beats.c. */
#include "../vm/node.h"
#include "dsp/beats.h"

#include <math.h>
#include <stdlib.h>

static const st_param params[] = {
    {"trim", ST_P_BOOL, .def = 0,
     .doc = "ignore beats before min_time, as mir_eval.beat.evaluate does"},
    {"min_time", ST_P_NUMBER, .def = 5, .min = 0, .max = 1e6, .doc = "seconds: the trim point"},
    {"window", ST_P_NUMBER, .def = 0.07, .min = 1e-4, .max = 10,
     .doc = "F-measure tolerance in seconds"},
    {NULL}};

extern const st_node_type st_node_beat_metrics;
enum { N_SCORES = 11 };

/* Beat times (all, or only label == 1) at or after min_time. */
static double *pick(const st_events *e, int downbeats, double min_time, int *n)
{
    double *t = malloc(((size_t)e->n_events + 1) * sizeof *t);
    *n = 0;
    for (int64_t i = 0; t && i < e->n_events; i++)
        if (e->time_s[i] >= min_time && (!downbeats || e->label[i] == 1)) t[(*n)++] = e->time_s[i];
    return t;
}

static int beat_metrics_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p,
                            st_value **out)
{
    (void)n_in;
    double min_time = st_int(p, "trim") ? st_num(p, "min_time") : -INFINITY;
    int n_ref, n_est, n_ref_down, n_est_down;
    double *ref = pick(&in[0]->u.events, 0, min_time, &n_ref),
           *est = pick(&in[1]->u.events, 0, min_time, &n_est);
    double *ref_down = pick(&in[0]->u.events, 1, min_time, &n_ref_down);
    double *est_down = pick(&in[1]->u.events, 1, min_time, &n_est_down);
    char why[200];
    const st_events *given[2] = {&in[0]->u.events, &in[1]->u.events};
    for (int k = 0; k < 2; k++)
        if (given[k]->n_events > 0x7fffffff ||
            st_beat_times_check(given[k]->time_s, (int)given[k]->n_events, why, sizeof why)) {
            free(ref), free(est), free(ref_down), free(est_down);
            return st_fail(ctx, "the %s: %s", k ? "estimate" : "reference",
                           given[k]->n_events > 0x7fffffff ? "too many beats" : why);
        }
    st_beat_options o = st_beat_defaults;
    o.f_measure_window = st_num(p, "window");
    st_beat_scores s;
    int status = ref && est && ref_down && est_down &&
                         st_beat_scores_compute(ref, n_ref, est, n_est, &o, &s) == 0
                     ? ST_OK
                     : st_fail(ctx, "out of memory");
    if (status == ST_OK) {
        double values[N_SCORES] = {
            s.f_measure,
            s.cemgil,
            s.cemgil_best,
            s.goto_score,
            s.p_score,
            s.cmlc,
            s.cmlt,
            s.amlc,
            s.amlt,
            s.information_gain,
            st_beat_f_measure(ref_down, n_ref_down, est_down, n_est_down, o.f_measure_window)};
        st_value *fields[N_SCORES];
        int64_t one = 1;
        static const char *const axis[] = {"value"};
        for (int i = 0; i < N_SCORES; i++)
            if ((fields[i] = st_array_new(1, &one, axis)))
                fields[i]->u.array.data[0] = (float)values[i];
        *out = st_record_of_outputs(&st_node_beat_metrics, fields);
        for (int i = 0; i < N_SCORES; i++)
            st_value_unref(fields[i]);
        if (!*out) status = st_fail(ctx, "out of memory");
    }
    free(ref), free(est), free(ref_down), free(est_down);
    return status;
}

const st_node_type st_node_beat_metrics = {
    .name = "beat_metrics",
    .doc = "Beat-tracking scores as mir_eval.beat computes them: F-measure (+-70 ms), Cemgil "
           "(and its best metrical level), Goto, P-score, CMLc, CMLt, AMLc, AMLt and information "
           "gain; plus the F-measure of the downbeats (events labelled 1). Each output is a "
           "one-element array (`h:number()` reads it). trim = true drops beats before 5 s "
           "first, as mir_eval.beat.evaluate does.",
    .inputs = (const st_port[]){{"reference", ST_EVENTS}, {"estimate", ST_EVENTS}, {NULL}},
    .outputs = (const st_port[]){{"f_measure", ST_ARRAY},
                                 {"cemgil", ST_ARRAY},
                                 {"cemgil_best", ST_ARRAY},
                                 {"goto", ST_ARRAY},
                                 {"p_score", ST_ARRAY},
                                 {"cmlc", ST_ARRAY},
                                 {"cmlt", ST_ARRAY},
                                 {"amlc", ST_ARRAY},
                                 {"amlt", ST_ARRAY},
                                 {"information_gain", ST_ARRAY},
                                 {"downbeat_f_measure", ST_ARRAY},
                                 {NULL}},
    .params = params,
    .run = beat_metrics_run,
};
