#include "stream.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A delay line on one edge, for latency compensation. Owned by its step. */
typedef struct {
    int delay_samples, size, pos, n_channels;
    float *ring; /* n_channels x size */
    st_block out;
    float **out_channel;
    float *out_data;
} delay_line;

/* One node's place in the program. */
typedef struct {
    st_node *node;
    const st_node_type *type;
    void *state;
    int n_in;
    int *producer;       /* step index of each input, -1 for a constant */
    delay_line **delay;  /* per input, NULL when none */
    const st_block **in; /* per input: the producer's block or the delay's */
    st_value **constant; /* per input: the offline value, or NULL */
    int n_out;           /* output ports (at least 1) */
    int *port;           /* per input: the producer's output port */
    st_stream_format format[ST_MAX_STREAM_OUTPUTS];
    st_block out[ST_MAX_STREAM_OUTPUTS];
    void *out_data[ST_MAX_STREAM_OUTPUTS];
    int latency;           /* samples behind the program's inputs */
    st_stream_end end;     /* ends: what the node says of its ports */
    int first_channel;     /* ends: the first external channel */
    st_key key, input_key; /* the node's and its first input's, for st_program_carry */
    int carried;           /* took over an old step's state */
} step;

/* Owns its steps, their states and buffers. */
struct st_program {
    step *steps;
    int n_steps;
    int max_block;
    double rate_hz;
    int latency;
    int n_in_channels, n_out_channels;
    st_clock clock;
    st_node **output_node; /* the jack_out nodes, in graph order */
    int n_outputs;
};

/* ---- blocks ---- */

static int alloc_block(const st_stream_format *f, st_block *b, void **data)
{
    memset(b, 0, sizeof *b);
    if (f->type == ST_SPECTRUM) {
        size_t n = (size_t)f->max_frames * (size_t)f->n_channels * (size_t)f->n_bins;
        *data = b->bins = calloc(n ? n : 1, sizeof *b->bins);
        return b->bins ? ST_OK : ST_ERR;
    }
    float *samples = calloc((size_t)f->n_channels * (size_t)f->max_frames + 1, sizeof *samples);
    b->channel = calloc((size_t)f->n_channels, sizeof *b->channel);
    if (!samples || !b->channel) {
        free(samples);
        free(b->channel);
        return ST_ERR;
    }
    for (int c = 0; c < f->n_channels; c++)
        b->channel[c] = samples + (size_t)c * (size_t)f->max_frames;
    *data = samples;
    return ST_OK;
}

static void free_block(st_block *b, void *data)
{
    free(data);
    free(b->channel);
}

static delay_line *delay_new(int delay_samples, const st_stream_format *f)
{
    delay_line *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->delay_samples = delay_samples;
    d->size = delay_samples + 1;
    d->n_channels = f->n_channels;
    d->ring = calloc((size_t)d->size * (size_t)f->n_channels, sizeof *d->ring);
    if (!d->ring || alloc_block(f, &d->out, (void **)&d->out_data)) {
        free(d->ring);
        free(d);
        return NULL;
    }
    return d;
}

static void delay_free(delay_line *d)
{
    if (!d) return;
    free_block(&d->out, d->out_data);
    free(d->ring);
    free(d);
}

/* Real-time safe. */
static void delay_process(delay_line *d, const st_block *in, int n)
{
    int pos = d->pos;
    for (int c = 0; c < d->n_channels; c++) {
        float *ring = d->ring + (size_t)c * (size_t)d->size;
        pos = d->pos;
        for (int i = 0; i < n; i++) {
            ring[pos] = in->channel[c][i];
            int read = pos - d->delay_samples;
            d->out.channel[c][i] = ring[read < 0 ? read + d->size : read];
            pos = pos + 1 == d->size ? 0 : pos + 1;
        }
    }
    d->pos = pos;
    d->out.n_frames = n;
}

/* ---- compiling ---- */

typedef struct {
    st_graph *g;
    int n_nodes;
    signed char *streamed; /* per graph node: -1 unknown, 0 no, 1 yes */
    int *step_of;          /* per graph node: its step, or -1 */
    step *steps;
    int n_steps;
    char *error;
    size_t error_size;
} compiler;

static int index_of(const compiler *c, const st_node *n)
{
    for (int i = 0; i < c->n_nodes; i++)
        if (st_graph_node(c->g, i) == n) return i;
    return -1;
}

static int is_streamed(compiler *c, int i)
{
    if (c->streamed[i] >= 0) return c->streamed[i];
    st_node *n = st_graph_node(c->g, i);
    const st_node_type *t = st_node_type_of(n);
    int s = t->stream_source || t->stream_role == ST_STREAM_INPUT;
    for (int k = 0; !s && k < st_node_n_inputs(n); k++)
        s = is_streamed(c, index_of(c, st_node_input(n, k).node));
    return c->streamed[i] = (signed char)s;
}

/* "WHERE: NODE: message", where message comes from the node's own st_fail
 * (which wrote "NODE: ") or from fail below (which uses st_fail too). */
static int fail_at(compiler *c, const st_node *n, const char *message)
{
    const char *where = st_node_where(n);
    snprintf(c->error, c->error_size, "%s%s%s", where, where[0] ? ": " : "", message);
    return -1;
}

static int fail(compiler *c, const st_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(compiler *c, const st_node *n, const char *fmt, ...)
{
    char message[600];
    int used = snprintf(message, sizeof message, "%s: ", st_node_type_of(n)->name);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message + used, sizeof message - (size_t)used, fmt, ap);
    va_end(ap);
    return fail_at(c, n, message);
}

static int open_step(compiler *c, step *s, st_program *p);

/* Adds the node and, first, every streamed node it depends on. Returns its step. */
static int add_step(compiler *c, st_program *p, int i)
{
    if (c->step_of[i] >= 0) return c->step_of[i];
    if (c->step_of[i] == -2) return -1; /* already failed */
    st_node *n = st_graph_node(c->g, i);
    const st_node_type *t = st_node_type_of(n);
    int n_in = st_node_n_inputs(n);
    int producers[256];
    if (n_in > 256) return fail(c, n, "too many inputs for a stream");
    for (int k = 0; k < n_in; k++) {
        int j = index_of(c, st_node_input(n, k).node);
        producers[k] = -1;
        if (is_streamed(c, j) && (producers[k] = add_step(c, p, j)) < 0) return -1;
    }
    if (t->stream_role == ST_STREAM_INNER && (!t->open || !t->process))
        return fail(c, n,
                    "cannot run in a stream: it has no streaming form "
                    "(compute it offline, outside the stream path)");
    step *s = &c->steps[c->n_steps];
    memset(s, 0, sizeof *s);
    s->node = n;
    s->type = t;
    s->n_in = n_in;
    s->key = st_node_key(n);
    if (n_in > 0) s->input_key = st_node_key(st_node_input(n, 0).node);
    s->producer = calloc((size_t)n_in + 1, sizeof *s->producer);
    s->port = calloc((size_t)n_in + 1, sizeof *s->port);
    s->delay = calloc((size_t)n_in + 1, sizeof *s->delay);
    s->in = calloc((size_t)n_in + 1, sizeof *s->in);
    s->constant = calloc((size_t)n_in + 1, sizeof *s->constant);
    c->n_steps++;
    if (!s->producer || !s->port || !s->delay || !s->in || !s->constant)
        return fail(c, n, "out of memory");
    memcpy(s->producer, producers, (size_t)n_in * sizeof *producers);
    s->n_out = st_port_count(t->outputs) > 1 ? st_port_count(t->outputs) : 1;
    if (s->n_out > ST_MAX_STREAM_OUTPUTS) return fail(c, n, "too many outputs for a stream");
    for (int k = 0; k < n_in; k++) {
        st_ref r = st_node_input(n, k);
        int from_outputs = st_port_count(st_node_type_of(r.node)->outputs);
        if (producers[k] >= 0 && r.port < 0 && from_outputs > 1)
            return fail(c, n, "a streamed record cannot be an input; take one of its fields");
        s->port[k] = r.port < 0 ? 0 : r.port;
    }
    if (open_step(c, s, p)) return c->step_of[i] = -2, -1;
    return c->step_of[i] = c->n_steps - 1;
}

static int open_step(compiler *c, step *s, st_program *p)
{
    const st_node_type *t = s->type;
    st_stream_format in_format[256];
    int latency = 0;
    /* inputs: constants evaluated offline now; streamed ones aligned */
    for (int k = 0; k < s->n_in; k++) {
        if (s->producer[k] < 0) {
            s->constant[k] = st_graph_eval(c->g, st_node_input(s->node, k));
            if (!s->constant[k]) {
                snprintf(c->error, c->error_size, "%s", st_graph_error(c->g));
                return ST_ERR;
            }
            continue;
        }
        step *from = &c->steps[s->producer[k]];
        in_format[k] = from->format[s->port[k]];
        if (from->latency > latency) latency = from->latency;
    }
    for (int k = 0; k < s->n_in; k++) {
        if (s->producer[k] < 0) continue;
        step *from = &c->steps[s->producer[k]];
        s->in[k] = &from->out[s->port[k]];
        int lag = latency - from->latency;
        if (lag == 0) continue;
        if (in_format[k].type != ST_AUDIO)
            return fail(c, s->node, "its spectrum inputs arrive with different latencies");
        if (!(s->delay[k] = delay_new(lag, &in_format[k])))
            return fail(c, s->node, "out of memory");
        s->in[k] = &s->delay[k]->out;
    }
    const st_params *params = st_node_params(s->node);
    if (t->stream_role != ST_STREAM_INNER) {
        if (!t->stream_end) return fail(c, s->node, "a program end without a stream_end hook");
        t->stream_end(params, &s->end);
    }
    if (t->stream_role == ST_STREAM_INPUT) {
        s->format[0] = (st_stream_format){.type = ST_AUDIO,
                                          .n_channels = s->end.n_channels,
                                          .max_frames = p->max_block,
                                          .rate_hz = p->rate_hz};
        s->first_channel = p->n_in_channels;
        p->n_in_channels += s->end.n_channels;
    } else if (t->stream_role == ST_STREAM_OUTPUT) {
        if (s->producer[0] < 0)
            return fail(c, s->node, "its input is an offline value; stream it with play()");
        s->format[0] = in_format[0];
        int want = s->end.n_channels;
        if (want && want != s->format[0].n_channels)
            return fail(c, s->node,
                        "channel count differs from its input (channels = %d, the input has %d)",
                        want, s->format[0].n_channels);
        s->first_channel = p->n_out_channels;
        p->n_out_channels += s->format[0].n_channels;
    } else {
        char message[600] = "";
        st_ctx ctx = st_graph_ctx(c->g, t, message, sizeof message);
        ctx.rate_hz = p->rate_hz;
        ctx.clock = &p->clock;
        st_open o = {.params = params,
                     .n_in = s->n_in,
                     .in = in_format,
                     .constant = s->constant,
                     .max_block = p->max_block};
        int opened = t->open(&ctx, &o, &s->state);
        if (st_node_unknown_param(s->node, message, sizeof message) || opened != ST_OK) {
            if (opened != ST_OK) s->state = NULL;
            return fail_at(c, s->node, message);
        }
        memcpy(s->format, o.out, sizeof s->format);
        latency += o.latency_samples;
    }
    s->latency = latency;
    for (int q = 0; q < s->n_out; q++)
        if (s->format[q].type && alloc_block(&s->format[q], &s->out[q], &s->out_data[q]))
            return fail(c, s->node, "out of memory");
    return ST_OK;
}

static void free_steps(step *steps, int n)
{
    for (int i = 0; i < n; i++) {
        step *s = &steps[i];
        if (s->state && s->type->close) s->type->close(s->state);
        for (int k = 0; k < s->n_in; k++) {
            if (s->delay) delay_free(s->delay[k]);
            if (s->constant) st_value_unref(s->constant[k]);
        }
        for (int q = 0; q < ST_MAX_STREAM_OUTPUTS; q++)
            free_block(&s->out[q], s->out_data[q]);
        free(s->producer);
        free(s->port);
        free(s->delay);
        free(s->in);
        free(s->constant);
    }
    free(steps);
}

/* True when a later output node has the same port names as node i. */
static int replaced_output(st_graph *g, int i)
{
    st_stream_end mine, later;
    const st_node_type *t = st_node_type_of(st_graph_node(g, i));
    if (!t->stream_end) return 0;
    t->stream_end(st_node_params(st_graph_node(g, i)), &mine);
    for (int k = i + 1; k < st_graph_n_nodes(g); k++) {
        const st_node_type *tk = st_node_type_of(st_graph_node(g, k));
        if (tk->stream_role != ST_STREAM_OUTPUT || !tk->stream_end ||
            st_node_withdrawn(st_graph_node(g, k)))
            continue;
        tk->stream_end(st_node_params(st_graph_node(g, k)), &later);
        if (strcmp(mine.port_prefix, later.port_prefix) == 0) return 1;
    }
    return 0;
}

st_program *st_program_compile(st_graph *g, int max_block, double rate_hz, char *error,
                               size_t error_size)
{
    compiler c = {.g = g, .n_nodes = st_graph_n_nodes(g), .error = error, .error_size = error_size};
    st_program *p = calloc(1, sizeof *p);
    c.streamed = malloc((size_t)c.n_nodes + 1);
    c.step_of = malloc(((size_t)c.n_nodes + 1) * sizeof *c.step_of);
    c.steps = calloc((size_t)c.n_nodes + 1, sizeof *c.steps);
    if (!p || !c.streamed || !c.step_of || !c.steps) {
        snprintf(error, error_size, "out of memory compiling the stream");
        goto fail;
    }
    p->max_block = max_block;
    p->rate_hz = rate_hz;
    const st_config *config = st_graph_config(g);
    p->clock.frames_per_beat = 60.0 * rate_hz / (config->bpm > 0 ? config->bpm : 120);
    p->clock.beats_per_bar = config->beats_per_bar > 0 ? config->beats_per_bar : 4;
    memset(c.streamed, -1, (size_t)c.n_nodes + 1);
    for (int i = 0; i < c.n_nodes; i++)
        c.step_of[i] = -1;
    int n_outputs = 0;
    for (int i = 0; i < c.n_nodes; i++) {
        if (st_node_type_of(st_graph_node(g, i))->stream_role != ST_STREAM_OUTPUT) continue;
        if (st_node_withdrawn(st_graph_node(g, i))) continue;
        if (st_graph_config(g)->newest_output_wins && replaced_output(g, i)) continue;
        if (add_step(&c, p, i) < 0) goto fail;
        n_outputs++;
    }
    if (n_outputs == 0) {
        snprintf(error, error_size, "the patch has no output: nothing reaches a jack_out node");
        goto fail;
    }
    /* every output as late as the latest */
    for (int i = 0; i < c.n_steps; i++)
        if (c.steps[i].type->stream_role == ST_STREAM_OUTPUT && c.steps[i].latency > p->latency)
            p->latency = c.steps[i].latency;
    for (int i = 0; i < c.n_steps; i++) {
        step *s = &c.steps[i];
        int lag = p->latency - s->latency;
        if (s->type->stream_role != ST_STREAM_OUTPUT || lag == 0) continue;
        if (s->delay[0]) { /* cannot happen: an output has one input */
            snprintf(error, error_size, "internal error: an output with two delays");
            goto fail;
        }
        if (!(s->delay[0] = delay_new(lag, &s->format[0]))) {
            snprintf(error, error_size, "out of memory compiling the stream");
            goto fail;
        }
        s->in[0] = &s->delay[0]->out;
        s->latency = p->latency;
    }
    p->steps = c.steps;
    p->n_steps = c.n_steps;
    free(c.streamed);
    free(c.step_of);
    return p;
fail:
    if (c.steps) free_steps(c.steps, c.n_steps);
    free(c.streamed);
    free(c.step_of);
    free(p);
    return NULL;
}

void st_program_free(st_program *p)
{
    if (!p) return;
    free_steps(p->steps, p->n_steps);
    free(p);
}

int st_program_max_block(const st_program *p) { return p->max_block; }
double st_program_rate(const st_program *p) { return p->rate_hz; }
int st_program_latency(const st_program *p) { return p->latency; }
int st_program_n_channels(const st_program *p, int outputs)
{
    return outputs ? p->n_out_channels : p->n_in_channels;
}

static const step *end_step(const st_program *p, int outputs, int i)
{
    st_stream_role role = outputs ? ST_STREAM_OUTPUT : ST_STREAM_INPUT;
    for (int k = 0; k < p->n_steps; k++)
        if (p->steps[k].type->stream_role == role && i-- == 0) return &p->steps[k];
    return NULL;
}

int st_program_n_ends(const st_program *p, int outputs)
{
    int n = 0;
    while (end_step(p, outputs, n))
        n++;
    return n;
}

const char *st_program_end_prefix(const st_program *p, int outputs, int i)
{
    return end_step(p, outputs, i)->end.port_prefix;
}

int st_program_end_channels(const st_program *p, int outputs, int i)
{
    return end_step(p, outputs, i)->format[0].n_channels;
}

int st_program_set(st_program *p, const st_node *node, const char *name, double value)
{
    for (int i = 0; i < p->n_steps; i++)
        if (p->steps[i].node == node && p->steps[i].type->set)
            return p->steps[i].type->set(p->steps[i].state, name, value);
    return ST_ERR;
}

int st_program_get(const st_program *p, const st_node *node, const char *name, double *value)
{
    for (int i = 0; i < p->n_steps; i++)
        if (p->steps[i].node == node && p->steps[i].type->get)
            return p->steps[i].type->get(p->steps[i].state, name, value);
    return ST_ERR;
}

/* ---- running: real-time safe from here on ---- */

static int same_key(st_key a, st_key b) { return a.hi == b.hi && a.lo == b.lo; }

/* The keys are those noted at compile time: from's graph may be gone. Two
 * passes: the same node (one key) first, then the same type playing the same
 * input (a play whose level changed); each old step gives once. At most a
 * few dozen steps: the quadratic walk costs microseconds. */
void st_program_carry(st_program *p, const st_program *from)
{
    if (!from || from->n_steps > ST_MAX_CARRY_STEPS) return;
    unsigned char taken[ST_MAX_CARRY_STEPS] = {0};
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < p->n_steps; i++) {
            step *s = &p->steps[i];
            if (!s->type->carry || s->carried) continue;
            for (int j = 0; j < from->n_steps; j++) {
                const step *o = &from->steps[j];
                if (taken[j] || o->type != s->type) continue;
                if (pass == 0
                        ? same_key(o->key, s->key)
                        : s->n_in > 0 && o->n_in > 0 && same_key(o->input_key, s->input_key)) {
                    s->type->carry(s->state, o->state);
                    s->carried = 1;
                    taken[j] = 1;
                    break;
                }
            }
        }
}

void st_program_set_clock(st_program *p, double beat, double frames_per_beat, int beats_per_bar)
{
    p->clock.beat = beat;
    p->clock.frames_per_beat = frames_per_beat;
    p->clock.beats_per_bar = beats_per_bar;
}

void st_program_process(st_program *p, const float *const *in, float *const *out, int n_frames)
{
    for (int i = 0; i < p->n_steps; i++) {
        step *s = &p->steps[i];
        for (int k = 0; k < s->n_in; k++)
            if (s->delay[k])
                delay_process(s->delay[k], &p->steps[s->producer[k]].out[s->port[k]], n_frames);
        switch (s->type->stream_role) {
        case ST_STREAM_INPUT:
            for (int ch = 0; ch < s->format[0].n_channels; ch++)
                memcpy(s->out[0].channel[ch], in[s->first_channel + ch],
                       (size_t)n_frames * sizeof(float));
            s->out[0].n_frames = n_frames;
            break;
        case ST_STREAM_OUTPUT:
            for (int ch = 0; ch < s->format[0].n_channels; ch++)
                memcpy(out[s->first_channel + ch], s->in[0]->channel[ch],
                       (size_t)n_frames * sizeof(float));
            break;
        default:
            s->type->process(s->state, s->in, s->out, n_frames);
            break;
        }
    }
    p->clock.beat += n_frames / p->clock.frames_per_beat;
}

double st_program_natural_rate(st_graph *g)
{
    for (int i = 0; i < st_graph_n_nodes(g); i++) {
        st_node *n = st_graph_node(g, i);
        if (!st_node_type_of(n)->stream_source || st_node_n_inputs(n) == 0) continue;
        st_value *v = st_graph_eval(g, st_node_input(n, 0));
        double rate = v && v->type == ST_AUDIO ? v->u.audio.rate_hz : 0;
        st_value_unref(v);
        if (rate > 0) return rate;
    }
    return 0;
}

double st_program_natural_seconds(st_graph *g)
{
    double longest = 0;
    for (int i = 0; i < st_graph_n_nodes(g); i++) {
        st_node *n = st_graph_node(g, i);
        const st_node_type *t = st_node_type_of(n);
        if (!t->stream_source) continue;
        if (st_node_n_inputs(n) == 0 || strcmp(t->name, "play") != 0) return -1; /* live input */
        const st_params *p = st_node_params(n);
        if (st_int(p, "loop")) return -1;
        st_value *v = st_graph_eval(g, st_node_input(n, 0));
        double seconds = v && v->type == ST_AUDIO && v->u.audio.rate_hz > 0
                             ? (double)v->u.audio.n_frames / v->u.audio.rate_hz
                             : 0;
        st_value_unref(v);
        seconds -= st_num(p, "start");
        if (seconds > longest) longest = seconds;
    }
    return longest;
}
