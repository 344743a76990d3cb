/* Graphs: nodes wired output to input, evaluated lazily and memoized.
 *
 * A graph owns its nodes; st_graph_free frees them and their results.
 * Creating a node checks its parameters and input types at once, so a patch
 * hears of a mistake at the line that made it; nothing runs until a value is
 * asked for with st_graph_eval. A node's key hashes its type, parameters and
 * inputs' keys: two nodes with one key are one node, and a slow node's result
 * is looked up in the on-disk cache under its key.
 */
#ifndef ST_GRAPH_H
#define ST_GRAPH_H

#include "node.h"

#include <stdint.h>

typedef struct st_graph st_graph;
typedef struct st_node st_node;

typedef struct {
    uint64_t hi, lo;
} st_key;

/* One output of a node: port -1 means the whole result (the record, for
 * nodes with several outputs). */
typedef struct {
    st_node *node;
    int port;
} st_ref;

/* A parameter given when a node is made: by name, a number or a string. */
typedef struct {
    const char *name;
    int is_string;
    double num;
    const char *str;
} st_arg;

/* How a graph evaluates: what main's options and strata.configure set. */
typedef struct {
    int n_threads; /* for each node's run (vm/parallel.h) */
    int quiet;     /* no progress, nothing printed by nodes */
    int no_cache;  /* slow nodes neither read nor write the on-disk cache */
    /* strata live: of several jack_out nodes with one port name, the last
     * made is the output (a snippet replaces an output by making another) */
    int newest_output_wins;
    /* the tempo and meter a stream program's clock starts with
     * (strata.transport; 0: 120 bpm, 4 beats a bar) */
    double bpm;
    int beats_per_bar;
} st_config;

/* A new graph with the default configuration (two threads, not quiet, cached). */
st_graph *st_graph_new(void);
/* The graph's configuration, to read or change before evaluating. */
st_config *st_graph_config(st_graph *g);
/* The context a node of g is called with: its name, the error buffer, the
 * graph's threads and quiet flag; rate_hz 0 (offline). */
st_ctx st_graph_ctx(st_graph *g, const st_node_type *type, char *error, size_t error_size);
/* ST_ERR with "NODE: asks for parameter ..." in error when a callback of the
 * node asked for a parameter its descriptor lacks (a bug in the node). */
int st_node_unknown_param(const st_node *node, char *error, size_t error_size);
void st_graph_free(st_graph *g);
const char *st_graph_error(const st_graph *g);

/* Makes (or finds, when one with the same key exists) a node. where names the
 * place that made it ("patch.lua:4") and prefixes its evaluation errors.
 * Returns NULL with the reason in st_graph_error. */
st_node *st_graph_add(st_graph *g, const st_node_type *type, const st_ref *inputs, int n_inputs,
                      const st_arg *args, int n_args, const char *where);

/* The value at ref, computed when first asked for. The caller gets a new
 * reference, or NULL with the reason in st_graph_error. */
st_value *st_graph_eval(st_graph *g, st_ref ref);

/* ST_OK, or ST_ERR ("WHO: refusing to overwrite 'PATH', an input of this
 * patch", the graph's error; no "WHO: " when who is NULL) when path is a
 * file a node of g reads: every output, a node's or a patch's text, is
 * checked. */
int st_graph_check_output(st_graph *g, const char *who, const char *path);
/* Whether a node of g reads the file at path (the same file: device and inode). */
int st_graph_reads_file(const st_graph *g, const char *path);

/* Static type of an output (ST_ANY when only evaluation can tell). */
st_type st_ref_type(st_ref ref);
const st_node_type *st_node_type_of(const st_node *node);
st_key st_node_key(const st_node *node);
/* The name of node's result in the on-disk cache: its key, the digest of the
 * code strata was built from, and the thread count where that matters. */
st_key st_graph_disk_key(const st_graph *g, const st_node *node);
const st_params *st_node_params(const st_node *node);
int st_node_n_inputs(const st_node *node);
st_ref st_node_input(const st_node *node, int i);

/* Live reloads: a node whose key matches a computed node of previous takes
 * its result instead of running (an unchanged ntd, beats or nmf is not
 * recomputed, nor a file loaded again). previous must outlive every
 * evaluation of g that may need it; the caller clears it with NULL. */
void st_graph_reuse(st_graph *g, const st_graph *previous);

/* Walking a graph: nodes in the order they were made. */
int st_graph_n_nodes(const st_graph *g);
st_node *st_graph_node(const st_graph *g, int i);
const char *st_node_where(const st_node *node);

/* Nodes from index first on are withdrawn: st_program_compile leaves out
 * the outputs among them (what a failed live snippet made; they stay valid
 * nodes, so handles to them still work). */
void st_graph_withdraw_from(st_graph *g, int first);
int st_node_withdrawn(const st_node *node);

/* Statistics for tests and --verbose: how often nodes ran and the cache answered. */
typedef struct {
    int runs, memo_hits, disk_hits, disk_misses, disk_writes;
    int reused; /* results taken over from the previous graph (st_graph_reuse) */
} st_graph_stats;
st_graph_stats st_graph_get_stats(const st_graph *g);

#endif
