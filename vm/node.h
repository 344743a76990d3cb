/* Node types: the descriptor that says everything about a kind of node.
 *
 * One static st_node_type per file in nodes/. Its ports and parameters drive
 * the Lua binding, the checks made when a node is created, `strata nodes` and
 * doc/nodes.md; nothing else repeats them.
 */
#ifndef ST_NODE_H
#define ST_NODE_H

#include "value.h"

#include <stdarg.h>
#include <stddef.h>

enum { ST_OK = 0, ST_ERR = -1 };

typedef enum {
    ST_P_NUMBER = 1, /* a real number within [min, max] */
    ST_P_INT,        /* an integer within [min, max] */
    ST_P_BOOL,
    ST_P_STRING, /* free text; with choices, one of "a|b|c" */
} st_param_kind;

/* What a string parameter names, so that the runtime can reason about files. */
enum {
    ST_FILE_IN = 1 << 0,  /* a file read: its size and time enter the result key */
    ST_FILE_OUT = 1 << 1, /* a file written: must not be one of the graph's inputs */
};

typedef struct {
    const char *name;
    st_param_kind kind;
    double def;          /* numbers, integers, booleans */
    double min, max;     /* numbers and integers */
    const char *def_str; /* strings: NULL means required */
    const char *choices; /* strings: "a|b|c", or NULL for free text */
    int flags;           /* ST_FILE_IN, ST_FILE_OUT */
    const char *doc;
} st_param;

typedef struct {
    const char *name;
    st_type
        type; /* ST_ANY: any type (an output: known once computed); ST_SAME: the first input's */
} st_port;

/* A parameter's value: num for numbers, integers and booleans, str for strings. */
typedef struct {
    double num;
    char *str;
} st_param_value;

typedef struct {
    const struct st_node_type *type;
    st_param_value *value; /* one per descriptor parameter, in order */
    /* Where st_num and friends note a name the descriptor lacks (a bug in the
     * node): the engine turns it into the node's error. May be NULL. */
    const char **unknown;
} st_params;

/* A name the descriptor lacks gives 0 (or "") and is noted in p->unknown. */
double st_num(const st_params *p, const char *name);
int st_int(const st_params *p, const char *name);
const char *st_str(const st_params *p, const char *name);
/* Index of choice value in the parameter's "a|b|c" list. */
int st_choice(const st_params *p, const char *name);
/* Index of s in "a|b|c", or -1. */
int st_choice_index(const char *choices, const char *s);

/* The bar clock a stream program runs on (strata.transport; strata live's
 * transport). Owned by the program; set before each block, read by the
 * nodes that lock to it (loop, sequence) in process. */
typedef struct {
    double beat;            /* at the block's first sample; 0 is bar 1, beat 1 */
    double frames_per_beat; /* at the engine's rate */
    int beats_per_bar;
} st_clock;

/* The node context: what every callback of a node receives besides its
 * inputs and parameters, the same offline (check, run) and streaming (open).
 * Made by the engine that calls the node (graph evaluation, the stream
 * compiler) and owned by it; a node reads it and fails through st_fail. */
typedef struct st_ctx {
    const char *node_name; /* the type's name: every message starts "NAME: " */
    char *error;           /* where st_fail writes the message */
    size_t error_size;
    int n_threads;  /* threads the node may use (vm/parallel.h) */
    double rate_hz; /* the stream engine's rate; 0 offline */
    int quiet;      /* nodes that print (info) stay silent */
    void (*progress)(struct st_ctx *ctx, double fraction); /* may be NULL */
    const char *note;      /* shown beside the progress bar while st_progress_note reports */
    const st_clock *clock; /* streaming (open): the program's bar clock; NULL offline */
} st_ctx;

/* Writes "NODE: message" into ctx->error and returns ST_ERR: the one way a
 * node fails, from check, run or open. */
int st_fail(st_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void st_progress(st_ctx *ctx, double fraction);
/* The same with a short note beside the bar ("error 0.4826"). */
void st_progress_note(st_ctx *ctx, double fraction, const char *note);

/* ---- streaming ----
 * A stream edge carries blocks: audio samples, or the STFT frames that
 * became complete during the block. Formats are fixed when a program is
 * compiled; buffers are allocated then and reused for every block. */
typedef struct {
    st_type type; /* ST_AUDIO or ST_SPECTRUM */
    int n_channels;
    int max_frames; /* per block: samples (audio) or STFT frames (spectrum) */
    double rate_hz;
    int n_fft, hop_samples, n_bins; /* spectrum */
    st_window window;               /* spectrum */
} st_stream_format;

typedef struct {
    int n_frames;    /* frames in this block (samples for audio) */
    float **channel; /* audio: n_channels pointers to max_frames samples */
    float complex
        *bins; /* spectrum: bin k of channel c of frame f at (f * n_channels + c) * n_bins + k */
} st_block;

#define ST_MAX_STREAM_OUTPUTS 4

/* What open receives and fills. An input that comes from outside the stream
 * (an offline value, such as the audio play streams) is in constant[i] and
 * in[i] is unused; a streamed input has constant[i] == NULL. */
typedef struct {
    const st_params *params;
    int n_in;
    const st_stream_format *in;
    st_value *const *constant;
    int max_block;                               /* samples per block, at most */
    st_stream_format out[ST_MAX_STREAM_OUTPUTS]; /* set by open: one per output port */
    int latency_samples; /* set by open: how late the output is against the input */
} st_open;

/* For nodes that stream audio to audio: every input streamed audio at one
 * rate; sets o->out to the first input's format. */
int st_open_audio_inputs(st_ctx *ctx, st_open *o);

/* What a program end (jack_in, jack_out) says about itself. */
typedef struct {
    int n_channels;          /* 0: as many as its input carries */
    const char *port_prefix; /* ports are PREFIX_1, PREFIX_2, ... */
} st_stream_end;

/* The role of a node at the edge of a stream program. */
typedef enum { ST_STREAM_INNER = 0, ST_STREAM_INPUT, ST_STREAM_OUTPUT } st_stream_role;

typedef struct st_node_type {
    const char *name;
    const char *doc;
    const st_port *inputs;  /* NULL-terminated */
    const st_port *outputs; /* NULL-terminated; two or more make a record */
    const st_param *params; /* NULL-terminated */
    int variadic;           /* the last input may be given one or more times */
    int slow;               /* results kept in the on-disk cache */
    int sink;               /* has an effect (writes, prints): evaluated when made */
    /* The implementation's version, hashed into every result key: bump it
     * when the same inputs and parameters give different output, so that no
     * stale result is served from the cache. */
    int version;
    /* 1 when the result's last bits depend on the thread count (work split
     * by threads, OpenBLAS's own threading): the count then enters the
     * result key, this node's and every node's that reads it, so a result
     * made on 1 thread is never served to a run on 2. 0 (the rule): the
     * same bytes on any number of threads. */
    int threads_matter;
    /* Optional: the file the node reads that no parameter names (its shipped
     * model when the model parameter is empty), 0 and its path; its size and
     * time enter the result key as an ST_FILE_IN parameter's do, so that a
     * retrained model is never answered from the cache. */
    int (*implicit_file)(const st_params *p, char *path, size_t size);
    /* Checks that involve several parameters: st_fail(ctx, ...) or ST_OK. */
    int (*check)(st_ctx *ctx, const st_params *p);
    /* Offline: whole values in, one value out (a record when there are several outputs). */
    int (*run)(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p, st_value **out);
    /* Streaming (optional). open may allocate and fail (st_fail); process must be
     * real-time safe: no allocation, no locks, no I/O, no Lua; close frees. */
    int (*open)(st_ctx *ctx, st_open *o, void **state);
    void (*process)(void *state, const st_block *const *in, st_block *out,
                    int n_samples); /* out[port] */
    void (*close)(void *state);
    /* A live change of a number parameter, from a thread other than the one
     * that processes; publish it with atomics. ST_ERR if name cannot change. */
    int (*set)(void *state, const char *name, double value);
    /* A live reload: the node's state in the new program takes over what
     * must continue from the one it replaces (a play position, a loop's
     * phase). Called on the processing thread at the swap: real-time safe. */
    void (*carry)(void *state, const void *from);
    /* A live reading (a level meter) from a thread other than the one that
     * processes: ST_ERR if name is not one. The node publishes it with atomics. */
    int (*get)(void *state, const char *name, double *value);
    /* A source (play) starts a stream; inputs and outputs are the program's ends. */
    int stream_source;
    st_stream_role stream_role;
    /* Program ends (stream_role INPUT or OUTPUT) describe their ports. */
    void (*stream_end)(const st_params *p, st_stream_end *end);
    /* Streaming nodes, for the table in doc/streaming.md: the latency that
     * open reports, in words ("0", "n_fft - 1"), and what differs from offline. */
    const char *stream_latency;
    const char *stream_notes;
} st_node_type;

int st_port_count(const st_port *ports);
/* The record a node with several outputs returns: fields named after its
 * output ports, in order (fields[i] for port i; references are taken). */
st_value *st_record_of_outputs(const st_node_type *type, st_value *const *fields);
int st_param_count(const st_param *params);
const st_param *st_param_find(const st_node_type *type, const char *name, int *index);

/* The registry: every node type, in the order nodes/registry.c lists them. */
const st_node_type *const *st_registry(void);
const st_node_type *st_registry_find(const char *name);

/* Writes the markdown reference of every node (doc/nodes.md) or the
 * terminal help of one node. */
void st_node_help(const st_node_type *type, int markdown, void (*emit)(void *, const char *),
                  void *data);
/* The one-line list of every node (`strata nodes`): name, where it runs,
 * the first sentence of its doc, in aligned columns. */
void st_node_summary(void (*emit)(void *, const char *), void *data);
/* The markdown table of the streaming nodes and their latencies (doc/streaming.md). */
void st_stream_table(void (*emit)(void *, const char *), void *data);

#endif
