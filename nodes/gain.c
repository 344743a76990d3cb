/* gain: scale audio; streamed, a change ramps over smooth_ms so it never clicks. */
#include "../vm/node.h"
#include "../vm/parallel.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static const st_param params[] = {
    {"db", ST_P_NUMBER, .def = 0, .min = -120, .max = 48, .doc = "gain in decibels"},
    {"factor", ST_P_NUMBER, .def = 1, .min = -1e6, .max = 1e6,
     .doc = "a linear factor applied as well (negative inverts)"},
    {"smooth_ms", ST_P_NUMBER, .def = 10, .min = 0, .max = 10000,
     .doc = "in a stream, how long a change of db or factor takes (a linear ramp)"},
    {NULL}};

static double scale_of(double factor, double db) { return factor * pow(10.0, db / 20.0); }

typedef struct {
    const st_audio *a;
    st_audio *y;
    float scale;
} gain_job;

/* Samples [begin, end) of the channels laid end to end. */
static void gain_range(void *ctx, int64_t begin, int64_t end)
{
    const gain_job *job = ctx;
    const int64_t n = job->a->n_frames;
    for (int64_t i = begin; i < end;) {
        int c = (int)(i / n);
        int64_t t0 = i % n, t1 = t0 + (end - i) < n ? t0 + (end - i) : n;
        const float *x = job->a->channel[c];
        float *y = job->y->channel[c];
        for (int64_t t = t0; t < t1; t++)
            y[t] = x[t] * job->scale;
        i += t1 - t0;
    }
}

static int gain_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p, st_value **out)
{
    (void)n_in;
    const st_audio *a = &in[0]->u.audio;
    float scale = (float)scale_of(st_num(p, "factor"), st_num(p, "db"));
    st_value *v = st_audio_new(a->n_channels, a->n_frames, a->rate_hz);
    if (!v) return st_fail(ctx, "out of memory");
    gain_job job = {a, &v->u.audio, scale};
    /* both cores: a song's samples are tens of MB of fresh pages */
    st_parallel_for(ctx->n_threads, (int64_t)a->n_channels * a->n_frames, gain_range, &job);
    *out = v;
    return ST_OK;
}

/* Owned by the program. target is written by st_program_set's thread and
 * read by the processing one: an atomic float, nothing else is shared. */
typedef struct {
    int n_channels;
    double factor, db; /* the setter's view, on the setter's thread */
    _Atomic float target;
    float current, step; /* processing thread only */
    float ramp_target;   /* the target the ramp heads to */
    int ramp_left;       /* samples */
    int smooth_samples;
} gain_state;

static int gain_open(st_ctx *ctx, st_open *o, void **state)
{
    if (st_open_audio_inputs(ctx, o)) return ST_ERR;
    gain_state *g = calloc(1, sizeof *g);
    if (!g) return st_fail(ctx, "out of memory");
    g->n_channels = o->out[0].n_channels;
    g->factor = st_num(o->params, "factor");
    g->db = st_num(o->params, "db");
    g->current = g->ramp_target = (float)scale_of(g->factor, g->db);
    atomic_init(&g->target, g->current);
    g->smooth_samples = (int)lround(st_num(o->params, "smooth_ms") * 1e-3 * ctx->rate_hz);
    *state = g;
    return ST_OK;
}

/* Real-time safe: arithmetic on preallocated blocks only. */
static void gain_process(void *state, const st_block *const *in, st_block *out, int n)
{
    gain_state *g = state;
    float target = atomic_load_explicit(&g->target, memory_order_acquire);
    if (target != g->ramp_target) { /* a new value: ramp to it from where we are */
        g->ramp_target = target;
        g->ramp_left = g->smooth_samples;
        g->step = g->ramp_left ? (target - g->current) / (float)g->ramp_left : 0;
        if (!g->ramp_left) g->current = target;
    }
    for (int i = 0; i < n; i++) {
        if (g->ramp_left > 0) {
            g->current = --g->ramp_left ? g->current + g->step : g->ramp_target;
        }
        for (int c = 0; c < g->n_channels; c++)
            out->channel[c][i] = in[0]->channel[c][i] * g->current;
    }
    out->n_frames = n;
}

static int gain_set(void *state, const char *name, double value)
{
    gain_state *g = state;
    if (strcmp(name, "db") == 0)
        g->db = value;
    else if (strcmp(name, "factor") == 0)
        g->factor = value;
    else
        return ST_ERR;
    atomic_store_explicit(&g->target, (float)scale_of(g->factor, g->db), memory_order_release);
    return ST_OK;
}

const st_node_type st_node_gain = {
    .name = "gain",
    .doc = "Scale audio by a gain in decibels times a linear factor. `a * 0.5` in a patch makes "
           "one. In a stream, a change of db or factor ramps over smooth_ms.",
    .inputs = (const st_port[]){{"in", ST_AUDIO}, {NULL}},
    .outputs = (const st_port[]){{"out", ST_AUDIO}, {NULL}},
    .params = params,
    .run = gain_run,
    .open = gain_open,
    .process = gain_process,
    .close = free,
    .set = gain_set,
    .stream_latency = "0",
    .stream_notes = "a live change of `db` or `factor` ramps linearly over `smooth_ms`",
};
