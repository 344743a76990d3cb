/* Graph building (with every check a patch should hear about at once) and
 * lazy, memoized evaluation. */
#include "graph.h"

#include "cache.h"
#include "code_digest.h" /* made by the Makefile: ST_CODE_DIGEST */
#include "hash.h"
#include "parallel.h"
#include "progress.h"
#include "simd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Owned by its graph. */
struct st_node {
    const st_node_type *type;
    st_params params;
    st_ref *inputs;
    int n_inputs;
    st_key key;
    st_value *result;          /* memo: NULL until evaluated */
    const char *unknown_param; /* a name the node asked for that its descriptor lacks */
    char where[160];
    int withdrawn;      /* an output a failed live snippet made: never compiled */
    int threads_matter; /* its type's, or an input's: the thread count is in its disk key */
};

/* Owns its nodes. */
struct st_graph {
    st_node **node;
    int n_nodes, cap;
    st_graph_stats stats;
    st_config config;
    const st_graph *previous; /* not owned: results to take over (st_graph_reuse) */
    char error[1024];
};

st_graph *st_graph_new(void)
{
    st_graph *g = calloc(1, sizeof *g);
    if (g) g->config.n_threads = 2;
    return g;
}

st_config *st_graph_config(st_graph *g) { return &g->config; }

static void show_progress(st_ctx *ctx, double fraction)
{
    st_progress_draw(ctx->node_name, fraction, ctx->note);
}

st_ctx st_graph_ctx(st_graph *g, const st_node_type *type, char *error, size_t error_size)
{
    return (st_ctx){.node_name = type->name,
                    .error = error,
                    .error_size = error_size,
                    .n_threads = g->config.n_threads,
                    .quiet = g->config.quiet,
                    .progress = g->config.quiet ? NULL : show_progress};
}

/* A callback asked for a parameter its descriptor lacks: a bug in the node,
 * reported as its failure. */
int st_node_unknown_param(const st_node *n, char *error, size_t error_size)
{
    if (!n->unknown_param) return ST_OK;
    snprintf(error, error_size,
             "%s: asks for parameter '%s', which its descriptor lacks (a bug in the node)",
             n->type->name, n->unknown_param);
    return ST_ERR;
}

static void node_free(st_node *n)
{
    int n_params = st_param_count(n->type->params);
    for (int i = 0; i < n_params; i++)
        free(n->params.value[i].str);
    free(n->params.value);
    free(n->inputs);
    st_value_unref(n->result);
    free(n);
}

void st_graph_free(st_graph *g)
{
    if (!g) return;
    for (int i = 0; i < g->n_nodes; i++)
        node_free(g->node[i]);
    free(g->node);
    free(g);
}

const char *st_graph_error(const st_graph *g) { return g->error; }
int st_graph_n_nodes(const st_graph *g) { return g->n_nodes; }
st_node *st_graph_node(const st_graph *g, int i) { return g->node[i]; }
const char *st_node_where(const st_node *n) { return n->where; }
void st_graph_withdraw_from(st_graph *g, int first)
{
    for (int i = first < 0 ? 0 : first; i < g->n_nodes; i++)
        g->node[i]->withdrawn = 1;
}
int st_node_withdrawn(const st_node *n) { return n->withdrawn; }
st_graph_stats st_graph_get_stats(const st_graph *g) { return g->stats; }
const st_node_type *st_node_type_of(const st_node *n) { return n->type; }
st_key st_node_key(const st_node *n) { return n->key; }
const st_params *st_node_params(const st_node *n) { return &n->params; }
int st_node_n_inputs(const st_node *n) { return n->n_inputs; }
st_ref st_node_input(const st_node *n, int i) { return n->inputs[i]; }

static int graph_fail(st_graph *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int graph_fail(st_graph *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->error, sizeof g->error, fmt, ap);
    va_end(ap);
    return ST_ERR;
}

st_type st_ref_type(st_ref ref)
{
    const st_node_type *t = ref.node->type;
    int n_out = st_port_count(t->outputs);
    st_type type;
    if (ref.port < 0 && n_out != 1) return ST_RECORD;
    type = t->outputs[ref.port < 0 ? 0 : ref.port].type;
    if (type == ST_SAME) return ref.node->n_inputs > 0 ? st_ref_type(ref.node->inputs[0]) : ST_ANY;
    return type;
}

/* ---- building ---- */

static int set_param(st_graph *g, const st_node_type *t, const st_param *d, st_param_value *v,
                     const st_arg *a)
{
    if (d->kind == ST_P_STRING) {
        if (!a->is_string)
            return graph_fail(g, "%s: parameter %s must be a string, not %g", t->name, d->name,
                              a->num);
        if (d->choices && st_choice_index(d->choices, a->str) < 0)
            return graph_fail(g, "%s: parameter %s = \"%s\" is not one of %s", t->name, d->name,
                              a->str, d->choices);
        free(v->str);
        if (!(v->str = strdup(a->str))) return graph_fail(g, "%s: out of memory", t->name);
        return ST_OK;
    }
    if (a->is_string)
        return graph_fail(g, "%s: parameter %s must be a %s, not the string \"%s\"", t->name,
                          d->name, d->kind == ST_P_BOOL ? "boolean" : "number", a->str);
    if (!isfinite(a->num))
        return graph_fail(g, "%s: parameter %s = %s is not a finite number", t->name, d->name,
                          isnan(a->num) ? "nan"
                          : a->num > 0  ? "inf"
                                        : "-inf"); /* not "-nan" */
    if (d->kind == ST_P_INT && a->num != floor(a->num))
        return graph_fail(g, "%s: parameter %s = %g must be an integer", t->name, d->name, a->num);
    if ((d->kind == ST_P_NUMBER || d->kind == ST_P_INT) && (a->num < d->min || a->num > d->max))
        return graph_fail(g, "%s: parameter %s = %g is out of range [%g, %g]", t->name, d->name,
                          a->num, d->min, d->max);
    v->num = a->num;
    return ST_OK;
}

/* A file's identity, for keys and for the overwrite check. */
static int file_stat(const char *path, struct stat *st) { return path && stat(path, st) == 0; }

static void hash_node(st_node *n)
{
    st_hash h;
    st_hash_init(&h);
    st_hash_str(&h, n->type->name);
    st_hash_u64(&h, (uint64_t)(int64_t)n->type->version);
    if (st_simd_cap_name())
        st_hash_str(&h, st_simd_cap_name()); /* capped loops may round otherwise */
    int n_params = st_param_count(n->type->params);
    for (int i = 0; i < n_params; i++) {
        const st_param *d = &n->type->params[i];
        st_hash_str(&h, d->name);
        if (d->kind == ST_P_STRING) {
            st_hash_str(&h, n->params.value[i].str ? n->params.value[i].str : "");
            struct stat st;
            if ((d->flags & ST_FILE_IN) && file_stat(n->params.value[i].str, &st)) {
                st_hash_u64(&h, (uint64_t)st.st_size);
                st_hash_u64(&h, (uint64_t)st.st_mtim.tv_sec);
                st_hash_u64(&h, (uint64_t)st.st_mtim.tv_nsec);
                st_hash_u64(&h, (uint64_t)st.st_ino);
            }
        } else {
            st_hash_double(&h, n->params.value[i].num);
        }
    }
    char implicit[4096];
    struct stat st;
    if (n->type->implicit_file &&
        n->type->implicit_file(&n->params, implicit, sizeof implicit) == 0 &&
        file_stat(implicit, &st)) {
        st_hash_u64(&h, (uint64_t)st.st_size);
        st_hash_u64(&h, (uint64_t)st.st_mtim.tv_sec);
        st_hash_u64(&h, (uint64_t)st.st_mtim.tv_nsec);
        st_hash_u64(&h, (uint64_t)st.st_ino);
    }
    n->threads_matter = n->type->threads_matter;
    for (int i = 0; i < n->n_inputs; i++) {
        st_hash_u64(&h, n->inputs[i].node->key.hi);
        st_hash_u64(&h, n->inputs[i].node->key.lo);
        st_hash_u64(&h, (uint64_t)(int64_t)n->inputs[i].port);
        n->threads_matter |= n->inputs[i].node->threads_matter;
    }
    st_hash_final(&h, &n->key.hi, &n->key.lo);
}

/* The key of n's result in the on-disk cache: its key, the digest of the
 * code that built this strata (another build may compute otherwise), and
 * the thread count it runs with where that changes the result's bits
 * (threads_matter). */
st_key st_graph_disk_key(const st_graph *g, const st_node *n)
{
    st_hash h;
    st_key key;
    st_hash_init(&h);
    st_hash_u64(&h, n->key.hi);
    st_hash_u64(&h, n->key.lo);
    st_hash_u64(&h, (uint64_t)ST_CODE_DIGEST);
    if (n->threads_matter) st_hash_u64(&h, (uint64_t)(int64_t)g->config.n_threads);
    st_hash_final(&h, &key.hi, &key.lo);
    return key;
}

int st_graph_reads_file(const st_graph *g, const char *path)
{
    struct stat out;
    if (!file_stat(path, &out)) return 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const st_node *n = g->node[i];
        for (int p = 0; n->type->params && n->type->params[p].name; p++) {
            struct stat in;
            if ((n->type->params[p].flags & ST_FILE_IN) && file_stat(n->params.value[p].str, &in) &&
                in.st_dev == out.st_dev && in.st_ino == out.st_ino)
                return 1;
        }
    }
    return 0;
}

/* An output may not replace a file that a node of this graph reads. */
int st_graph_check_output(st_graph *g, const char *who, const char *path)
{
    if (!st_graph_reads_file(g, path)) return ST_OK;
    return graph_fail(g, "%s%srefusing to overwrite '%s', an input of this patch", who ? who : "",
                      who ? ": " : "", path);
}

static int check_inputs(st_graph *g, const st_node_type *t, const st_ref *inputs, int n_inputs)
{
    int n_ports = st_port_count(t->inputs);
    if (n_inputs < n_ports || (n_inputs > n_ports && !t->variadic)) {
        if (t->variadic)
            return graph_fail(g, "%s: expects at least %d input%s, got %d", t->name, n_ports,
                              n_ports == 1 ? "" : "s", n_inputs);
        return graph_fail(g, "%s: expects %d input%s, got %d", t->name, n_ports,
                          n_ports == 1 ? "" : "s", n_inputs);
    }
    for (int i = 0; i < n_inputs; i++) {
        const st_port *port = &t->inputs[i < n_ports ? i : n_ports - 1];
        st_type have = st_ref_type(inputs[i]);
        if (port->type != ST_ANY && have != ST_ANY && have != port->type)
            return graph_fail(g, "%s: input %s expects %s, got %s", t->name, port->name,
                              st_type_name(port->type), st_type_name(have));
    }
    return ST_OK;
}

st_node *st_graph_add(st_graph *g, const st_node_type *t, const st_ref *inputs, int n_inputs,
                      const st_arg *args, int n_args, const char *where)
{
    g->error[0] = 0;
    if (check_inputs(g, t, inputs, n_inputs)) return NULL;
    int n_params = st_param_count(t->params);
    st_node *n = calloc(1, sizeof *n);
    if (!n) return graph_fail(g, "%s: out of memory", t->name), NULL;
    n->type = t;
    n->params.type = t;
    n->params.unknown = &n->unknown_param;
    n->params.value = calloc((size_t)n_params + 1, sizeof *n->params.value);
    n->inputs = calloc((size_t)n_inputs + 1, sizeof *n->inputs);
    if (!n->params.value || !n->inputs) goto fail_oom;
    n->n_inputs = n_inputs;
    if (n_inputs) memcpy(n->inputs, inputs, (size_t)n_inputs * sizeof *inputs);
    snprintf(n->where, sizeof n->where, "%s", where ? where : "");
    for (int i = 0; i < n_params; i++) {
        const st_param *d = &t->params[i];
        n->params.value[i].num = d->def;
        if (d->kind == ST_P_STRING && d->def_str && !(n->params.value[i].str = strdup(d->def_str)))
            goto fail_oom;
    }
    for (int a = 0; a < n_args; a++) {
        int index;
        const st_param *d = st_param_find(t, args[a].name, &index);
        if (!d) {
            char names[512] = "";
            size_t used = 0;
            for (int i = 0; i < n_params && used < sizeof names; i++)
                used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                                         t->params[i].name);
            graph_fail(g, "%s: unknown parameter '%s' (%s%s)", t->name, args[a].name,
                       n_params ? "parameters: " : "it takes none", names);
            goto fail;
        }
        if (set_param(g, t, d, &n->params.value[index], &args[a])) goto fail;
    }
    for (int i = 0; i < n_params; i++) {
        const st_param *d = &t->params[i];
        if (d->kind == ST_P_STRING && !n->params.value[i].str) {
            graph_fail(g, "%s: parameter %s is required", t->name, d->name);
            goto fail;
        }
        if ((d->flags & ST_FILE_OUT) && st_graph_check_output(g, t->name, n->params.value[i].str))
            goto fail;
    }
    if (t->check) {
        st_ctx ctx = st_graph_ctx(g, t, g->error, sizeof g->error);
        int checked = t->check(&ctx, &n->params);
        if (st_node_unknown_param(n, g->error, sizeof g->error) || checked != ST_OK) goto fail;
    }
    hash_node(n);
    for (int i = 0; i < g->n_nodes; i++)
        if (g->node[i]->key.hi == n->key.hi && g->node[i]->key.lo == n->key.lo &&
            g->node[i]->type == t) {
            node_free(n);
            return g->node[i];
        }
    if (g->n_nodes == g->cap) {
        int cap = g->cap ? 2 * g->cap : 32;
        st_node **grown = realloc(g->node, (size_t)cap * sizeof *grown);
        if (!grown) goto fail_oom;
        g->node = grown;
        g->cap = cap;
    }
    g->node[g->n_nodes++] = n;
    return n;
fail_oom:
    graph_fail(g, "%s: out of memory", t->name);
fail:
    node_free(n);
    return NULL;
}

/* ---- evaluation ---- */

static st_value *select_port(st_graph *g, st_node *n, int port)
{
    st_value *v = n->result;
    if (port < 0 || st_port_count(n->type->outputs) == 1) return st_value_ref(v);
    if (v->type != ST_RECORD || port >= v->u.record.n_fields) {
        graph_fail(g, "%s: produced no output '%s' (a bug in the node)", n->type->name,
                   n->type->outputs[port].name);
        return NULL;
    }
    return st_value_ref(v->u.record.field[port]);
}

void st_graph_reuse(st_graph *g, const st_graph *previous) { g->previous = previous; }

/* A result of the previous graph under the same key, taken over: the key
 * hashes the type, version, parameters, inputs and read files' size and
 * time, so the value is the one the node would compute. Sinks always run
 * (they exist for their effect). */
static st_value *previous_result(const st_graph *g, const st_node *n)
{
    if (!g->previous || n->type->sink) return NULL;
    for (int i = 0; i < g->previous->n_nodes; i++) {
        const st_node *old = g->previous->node[i];
        if (old->result && old->key.hi == n->key.hi && old->key.lo == n->key.lo &&
            old->type == n->type)
            return st_value_ref(old->result);
    }
    return NULL;
}

static int run_node(st_graph *g, st_node *n)
{
    if ((n->result = previous_result(g, n)) != NULL) {
        g->stats.reused++;
        return ST_OK;
    }
    if (!n->type->run)
        return graph_fail(g, "%s%s%s: works only in a stream (strata render or strata live)",
                          n->where, n->where[0] ? ": " : "", n->type->name);
    int n_ports = st_port_count(n->type->inputs);
    st_value **in = calloc((size_t)n->n_inputs + 1, sizeof *in);
    int status = ST_OK;
    if (!in) return graph_fail(g, "%s: out of memory", n->type->name);
    for (int i = 0; i < n->n_inputs && status == ST_OK; i++) {
        in[i] = st_graph_eval(g, n->inputs[i]);
        if (!in[i]) {
            status = ST_ERR;
            break;
        }
        const st_port *port = &n->type->inputs[i < n_ports ? i : n_ports - 1];
        if (port->type != ST_ANY && in[i]->type != port->type)
            status = graph_fail(g, "%s%s%s: input %s expects %s, got %s", n->where,
                                n->where[0] ? ": " : "", n->type->name, port->name,
                                st_type_name(port->type), st_type_name(in[i]->type));
    }
    const int cached = n->type->slow && !g->config.no_cache;
    const st_key key = st_graph_disk_key(g, n);
    if (status == ST_OK && cached && (n->result = st_cache_load(key))) {
        g->stats.disk_hits++;
    } else if (status == ST_OK) {
        char message[900] = "";
        st_ctx ctx = st_graph_ctx(g, n->type, message, sizeof message);
        if (cached) g->stats.disk_misses++;
        g->stats.runs++;
        if (!g->config.quiet) st_progress_begin(n->type->name);
        st_parallel_blas_serial();
        int ran = n->type->run(&ctx, in, n->n_inputs, &n->params, &n->result);
        if (st_node_unknown_param(n, message, sizeof message) || ran != ST_OK || !n->result) {
            st_value_unref(n->result);
            n->result = NULL;
            status = graph_fail(g, "%s%s%s", n->where, n->where[0] ? ": " : "",
                                message[0] ? message : "failed without a message");
        }
        st_progress_done();
        if (status == ST_OK && cached && st_cache_store(key, n->result) == ST_OK)
            g->stats.disk_writes++;
    }
    for (int i = 0; i < n->n_inputs; i++)
        st_value_unref(in[i]);
    free(in);
    return status;
}

st_value *st_graph_eval(st_graph *g, st_ref ref)
{
    st_node *n = ref.node;
    if (n->result)
        g->stats.memo_hits++;
    else if (run_node(g, n))
        return NULL;
    return select_port(g, n, ref.port);
}
