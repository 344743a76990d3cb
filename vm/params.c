/* Parameter access, node errors and the help text made from descriptors. */
#include "node.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int st_port_count(const st_port *ports)
{
    int n = 0;
    while (ports && ports[n].name)
        n++;
    return n;
}

st_value *st_record_of_outputs(const st_node_type *type, st_value *const *fields)
{
    const char *names[64];
    int n = st_port_count(type->outputs);
    if (n > 64) return NULL;
    for (int i = 0; i < n; i++) {
        if (!fields[i]) return NULL;
        names[i] = type->outputs[i].name;
    }
    return st_record_new(n, names, fields);
}

int st_param_count(const st_param *params)
{
    int n = 0;
    while (params && params[n].name)
        n++;
    return n;
}

const st_param *st_param_find(const st_node_type *type, const char *name, int *index)
{
    for (int i = 0; type->params && type->params[i].name; i++)
        if (strcmp(type->params[i].name, name) == 0) {
            if (index) *index = i;
            return &type->params[i];
        }
    return NULL;
}

/* Asking for a parameter the descriptor lacks is a bug in the node: the
 * name is noted, and the engine fails the node with it once the callback
 * returns (a neutral answer until then, never a crash). */
static const st_param_value *value_of(const st_params *p, const char *name)
{
    int i;
    if (st_param_find(p->type, name, &i)) return &p->value[i];
    if (p->unknown && !*p->unknown) *p->unknown = name;
    return NULL;
}

double st_num(const st_params *p, const char *name)
{
    const st_param_value *v = value_of(p, name);
    return v ? v->num : 0.0;
}

int st_int(const st_params *p, const char *name) { return (int)lround(st_num(p, name)); }

const char *st_str(const st_params *p, const char *name)
{
    const st_param_value *v = value_of(p, name);
    return v && v->str ? v->str : "";
}

int st_choice(const st_params *p, const char *name)
{
    const st_param *d = st_param_find(p->type, name, NULL);
    if (!d && p->unknown && !*p->unknown) *p->unknown = name;
    return d && d->choices ? st_choice_index(d->choices, st_str(p, name)) : -1;
}

int st_choice_index(const char *choices, const char *s)
{
    size_t len = strlen(s);
    int index = 0;
    for (const char *c = choices; *c; index++) {
        const char *bar = strchr(c, '|');
        size_t n = bar ? (size_t)(bar - c) : strlen(c);
        if (n == len && strncmp(c, s, n) == 0) return index;
        if (!bar) break;
        c = bar + 1;
    }
    return -1;
}

int st_fail(st_ctx *ctx, const char *fmt, ...)
{
    int used = snprintf(ctx->error, ctx->error_size, "%s: ", ctx->node_name);
    if (used < 0 || (size_t)used >= ctx->error_size) return ST_ERR;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->error + used, ctx->error_size - (size_t)used, fmt, ap);
    va_end(ap);
    return ST_ERR;
}

int st_open_audio_inputs(st_ctx *ctx, st_open *o)
{
    for (int i = 0; i < o->n_in; i++) {
        if (o->constant[i])
            return st_fail(ctx, "input %d is an offline value in a stream; stream it with play()",
                           i + 1);
        if (o->in[i].type != ST_AUDIO)
            return st_fail(ctx, "input %d is a streamed %s, not audio", i + 1,
                           st_type_name(o->in[i].type));
        if (o->in[i].rate_hz != o->in[0].rate_hz)
            return st_fail(ctx, "input %d streams at %g Hz, input 1 at %g Hz", i + 1,
                           o->in[i].rate_hz, o->in[0].rate_hz);
    }
    if (o->n_in > 0) o->out[0] = o->in[0];
    return ST_OK;
}

void st_progress(st_ctx *ctx, double fraction)
{
    if (ctx && ctx->progress) ctx->progress(ctx, fraction);
}

void st_progress_note(st_ctx *ctx, double fraction, const char *note)
{
    if (!ctx || !ctx->progress) return;
    ctx->note = note;
    ctx->progress(ctx, fraction);
    ctx->note = NULL;
}

/* ---- help text ---- */

static const char *kind_name(st_param_kind k)
{
    switch (k) {
    case ST_P_NUMBER:
        return "number";
    case ST_P_INT:
        return "integer";
    case ST_P_BOOL:
        return "boolean";
    default:
        return "string";
    }
}

static void format_default(const st_param *p, char *buf, size_t size)
{
    if (p->kind == ST_P_STRING)
        snprintf(buf, size, p->def_str ? "\"%s\"" : "(required)", p->def_str);
    else if (p->kind == ST_P_BOOL)
        snprintf(buf, size, "%s", p->def != 0 ? "true" : "false");
    else
        snprintf(buf, size, "%g", p->def);
}

static void format_range(const st_param *p, char *buf, size_t size)
{
    if (p->kind == ST_P_NUMBER || p->kind == ST_P_INT)
        snprintf(buf, size, "%g .. %g", p->min, p->max);
    else if (p->choices)
        snprintf(buf, size, "%s", p->choices);
    else
        snprintf(buf, size, "%s", "");
}

static void port_list(const st_node_type *t, const st_port *ports, int is_input, char *buf,
                      size_t size)
{
    size_t used = 0;
    buf[0] = 0;
    int n = st_port_count(ports);
    for (int i = 0; i < n && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s (%s%s)", i ? ", " : "",
                                 ports[i].name, st_type_name(ports[i].type),
                                 is_input && t->variadic && i == n - 1 ? ", one or more" : "");
    if (n == 0) snprintf(buf, size, "none");
}

/* Where a node runs, in a word. */
static const char *runs_in(const st_node_type *t)
{
    if (!t->run) return "stream";
    return t->process ? "both" : "offline";
}

/* The length of the first sentence of doc: up to a ". " outside parentheses
 * ("(Le Roux et al. 2019)" does not end it), or all of it. */
static int first_sentence(const char *doc)
{
    int depth = 0;
    for (int i = 0; doc[i]; i++) {
        if (doc[i] == '(') depth++;
        if (doc[i] == ')' && depth > 0) depth--;
        if (doc[i] == '.' && doc[i + 1] == ' ' && depth == 0) return i + 1;
    }
    return (int)strlen(doc);
}

void st_node_summary(void (*emit)(void *, const char *), void *data)
{
    const st_node_type *const *all = st_registry();
    int width = 4;
    for (int i = 0; all[i]; i++)
        if ((int)strlen(all[i]->name) > width) width = (int)strlen(all[i]->name);
    char line[2048];
    snprintf(line, sizeof line, "  %-*s  %-7s  %s\n", width, "node", "runs", "what it does");
    emit(data, line);
    for (int i = 0; all[i]; i++) {
        snprintf(line, sizeof line, "  %-*s  %-7s  %.*s\n", width, all[i]->name, runs_in(all[i]),
                 first_sentence(all[i]->doc), all[i]->doc);
        emit(data, line);
    }
    emit(data, "runs: offline (whole values), stream (strata render, strata live), or both.\n");
}

void st_stream_table(void (*emit)(void *, const char *), void *data)
{
    char line[2048];
    emit(data, "| node | latency (samples) | notes |\n|---|---|---|\n");
    for (const st_node_type *const *t = st_registry(); *t; t++) {
        if (!(*t)->process && (*t)->stream_role == ST_STREAM_INNER) continue;
        snprintf(line, sizeof line, "| `%s` | %s | %s |\n", (*t)->name,
                 (*t)->stream_latency ? (*t)->stream_latency : "0",
                 (*t)->stream_notes ? (*t)->stream_notes : "");
        emit(data, line);
    }
}

void st_node_help(const st_node_type *t, int markdown, void (*emit)(void *, const char *),
                  void *data)
{
    char line[1024], def[64], range[128], ports[512];
    int n_params = st_param_count(t->params);
    if (markdown) {
        snprintf(line, sizeof line, "## %s\n\n%s\n\n", t->name, t->doc);
        emit(data, line);
        port_list(t, t->inputs, 1, ports, sizeof ports);
        snprintf(line, sizeof line, "- inputs: %s\n", ports);
        emit(data, line);
        port_list(t, t->outputs, 0, ports, sizeof ports);
        snprintf(line, sizeof line, "- outputs: %s%s\n", ports,
                 st_port_count(t->outputs) > 1 ? " (a record)" : "");
        emit(data, line);
        if (t->slow) emit(data, "- results are kept in the on-disk cache\n");
        if (t->sink) emit(data, "- acts when made (evaluated at once)\n");
        if (!t->run)
            emit(data, "- works only in a stream (`strata render`, `strata live`)\n");
        else if (t->process)
            emit(data, "- also streams (`strata render`, `strata live`)\n");
        if (n_params) {
            emit(data, "\n| parameter | type | default | range | meaning |\n"
                       "|---|---|---|---|---|\n");
            for (int i = 0; i < n_params; i++) {
                const st_param *p = &t->params[i];
                format_default(p, def, sizeof def);
                format_range(p, range, sizeof range);
                snprintf(line, sizeof line, "| `%s` | %s | %s | %s | %s |\n", p->name,
                         kind_name(p->kind), def, range, p->doc);
                emit(data, line);
            }
        }
        emit(data, "\n");
        return;
    }
    snprintf(line, sizeof line, "%s: %s\n", t->name, t->doc);
    emit(data, line);
    port_list(t, t->inputs, 1, ports, sizeof ports);
    snprintf(line, sizeof line, "  inputs:  %s\n", ports);
    emit(data, line);
    port_list(t, t->outputs, 0, ports, sizeof ports);
    snprintf(line, sizeof line, "  outputs: %s\n", ports);
    emit(data, line);
    snprintf(line, sizeof line, "  runs:    %s\n",
             !t->run      ? "only in a stream (strata render, strata live)"
             : t->process ? "offline, and in a stream (strata render, strata live)"
                          : "offline");
    emit(data, line);
    if (t->slow) emit(data, "  results are kept in the on-disk cache\n");
    if (n_params) emit(data, "  parameters:\n");
    int w_name = 0, w_def = 0, w_range = 0;
    for (int i = 0; i < n_params; i++) {
        const st_param *p = &t->params[i];
        format_default(p, def, sizeof def);
        format_range(p, range, sizeof range);
        if ((int)strlen(p->name) > w_name) w_name = (int)strlen(p->name);
        if ((int)strlen(def) > w_def) w_def = (int)strlen(def);
        if ((int)strlen(range) > w_range) w_range = (int)strlen(range);
    }
    for (int i = 0; i < n_params; i++) {
        const st_param *p = &t->params[i];
        format_default(p, def, sizeof def);
        format_range(p, range, sizeof range);
        snprintf(line, sizeof line, "    %-*s  %-8s default %-*s  %-*s  %s\n", w_name, p->name,
                 kind_name(p->kind), w_def, def, w_range, range, p->doc);
        emit(data, line);
    }
}
