/* Stream programs: the part of a graph that runs block by block.
 *
 * Compiling walks up from the graph's stream outputs (jack_out) through every
 * node that depends on a stream source (play, jack_in), orders them, opens
 * each (allocating all its buffers), computes the offline values they need as
 * constants, and delays the earlier paths wherever paths of different latency
 * meet, so that a + istft(stft(a)) stays aligned. The program is owned by
 * the caller and released with st_program_free.
 *
 * st_program_process is what the JACK process callback and `strata render`
 * both call: it never allocates, locks, prints, does I/O or enters Lua.
 */
#ifndef ST_STREAM_H
#define ST_STREAM_H

#include "graph.h"

typedef struct st_program st_program;

/* NULL with the reason (naming the patch line) in error. */
st_program *st_program_compile(st_graph *g, int max_block, double rate_hz, char *error,
                               size_t error_size);
void st_program_free(st_program *p);

int st_program_max_block(const st_program *p);
double st_program_rate(const st_program *p);
int st_program_latency(const st_program *p); /* samples, from stream inputs to outputs */

/* The program's ends: jack_in nodes (inputs) and jack_out nodes (outputs), in
 * the order the patch made them; their channels are numbered in that order. */
int st_program_n_ends(const st_program *p, int outputs);
/* The prefix of end i's port names: ports are PREFIX_1, PREFIX_2, ... */
const char *st_program_end_prefix(const st_program *p, int outputs, int i);
int st_program_end_channels(const st_program *p, int outputs, int i);
int st_program_n_channels(const st_program *p, int outputs);

/* Runs one block of n_frames <= max_block samples. in holds one pointer per
 * input channel, out one per output channel. Real-time safe. */
void st_program_process(st_program *p, const float *const *in, float *const *out, int n_frames);

/* The bar clock at the next block's first sample (strata live's transport,
 * before each block). Without it the clock starts at beat 0 with the
 * graph's tempo and meter and runs on by itself. Real-time safe. */
void st_program_set_clock(st_program *p, double beat, double frames_per_beat, int beats_per_bar);

/* Changes a number parameter of a node while the program runs (from any
 * thread but the processing one); nodes that support it ramp to the new
 * value. ST_ERR when the node is not in the program or cannot change it. */
int st_program_set(st_program *p, const st_node *node, const char *name, double value);

/* Live reloads (vm/session.c compares the ends a program describes). */
/* On the processing thread at the swap, real-time safe: each step of p with
 * a carry hook takes over the state of its counterpart in from (the same
 * node, else the same type playing the same input), once. */
void st_program_carry(st_program *p, const st_program *from);
#define ST_MAX_CARRY_STEPS 1024

/* A live reading of a node of the program (a loop's level), from any
 * thread but the processing one. ST_ERR when it has none of that name. */
int st_program_get(const st_program *p, const st_node *node, const char *name, double *value);

/* A rate for a render when none is asked for: the rate of the first value
 * that a play node streams, or 0 when there is none. */
double st_program_natural_rate(st_graph *g);
/* How long the played values last, in seconds from where they start (the
 * longest of them); -1 when the program never ends by itself (a play node
 * that loops, a live input), 0 when nothing is played. Latency not included. */
double st_program_natural_seconds(st_graph *g);

#endif
