/* `strata live`: stream programs played by a JACK client, swapped while
 * playing.
 *
 * The process callback only runs programs. The thread that opened the
 * client (the live session's) compiles programs and offers them; the audio
 * thread takes an offered program, swaps it in at the next bar or beat of
 * the transport (or at once), crossfades from the old one with equal power,
 * and hands the old one back to be freed. Nothing crosses between the two
 * threads but atomic pointers and counters.
 */
#ifndef ST_LIVE_H
#define ST_LIVE_H

#include "stream.h"

#include <stdint.h>

typedef enum { ST_QUANTIZE_NOW = 0, ST_QUANTIZE_BEAT, ST_QUANTIZE_BAR } st_quantize;

/* The tempo and meter of the bar clock and how a program is swapped in. */
typedef struct {
    double bpm;        /* beats per minute, > 0 */
    int beats_per_bar; /* >= 1 */
    st_quantize quantize;
    double fade_ms;  /* equal-power crossfade, 0: a cut */
    int follow_jack; /* take tempo, meter and position from JACK transport when it rolls */
} st_transport;

#define ST_TRANSPORT_DEFAULT                                                                       \
    ((st_transport){.bpm = 120, .beats_per_bar = 4, .quantize = ST_QUANTIZE_BAR, .fade_ms = 20})

typedef struct st_live st_live;

typedef struct {
    const char *client_name; /* default "strata" */
    const char *server_name; /* NULL: the default server */
    int no_connect;          /* leave the ports unconnected */
    int start_server;        /* let libjack start a server when none runs */
    /* When the period or the rate changes, on a JACK thread (for a period,
     * JACK2's process thread with processing suspended): a program for the
     * new shape, or NULL (the reason printed). It must not wait: when the
     * session is busy (running a patch), NULL with *busy set, and it is asked
     * again from st_live_poll on the session's thread. */
    st_program *(*recompile)(void *data, int block, double rate_hz, int *busy);
    void *data;
} st_live_options;

/* Connects: NULL after one line on stderr. The server's rate and period
 * are then known, for the first program. */
st_live *st_live_connect(const st_live_options *opt);
/* Registers the ports of first's ends and starts playing first (owned from
 * then on). ST_ERR after one line on stderr; close the client then. */
int st_live_start(st_live *l, st_program *first, const st_transport *t);
double st_live_rate(const st_live *l);
int st_live_block(const st_live *l);

/* Offers p (owned from then on) to be swapped in as t says, replacing one
 * offered earlier and not yet swapped in. Returns its ticket (> 0). */
long st_live_offer(st_live *l, st_program *p, const st_transport *t);

/* What the audio thread did with the offered programs, and where the clock is. */
typedef struct {
    long scheduled;           /* the last ticket given a swap frame */
    uint64_t scheduled_frame; /* its swap frame (frames since start) */
    double scheduled_beat;    /* the bar clock's beat there (0 = bar 1, beat 1) */
    long swapped;             /* the last ticket swapped in */
    long dropped;             /* the last ticket replaced before its swap */
    uint64_t frames;          /* frames played since start */
    double beat, bpm;         /* at the last period */
    int beats_per_bar;
    int xruns, oversized;
    int started;          /* the first period ran */
    uint64_t first_frame; /* JACK's frame time of it */
    int latency;          /* of the first program, samples */
} st_live_status;

/* Frees what the audio thread handed back; fills status. Main thread. */
void st_live_poll(st_live *l, st_live_status *status);
/* 1 when the JACK server shut down (the reason in reason). */
int st_live_server_gone(st_live *l, const char **reason);
/* st_program_set on every program playing, fading or waiting: ST_OK when
 * one of them has the node and changed it. Main thread. */
int st_live_set(st_live *l, const st_node *node, const char *name, double value);
/* The output recorded into r from the next period on (before
 * st_live_start); r stays the caller's, closed after st_live_close. */
struct st_recorder;
void st_live_record(st_live *l, struct st_recorder *r);
/* st_program_get on the program playing. Main thread. */
int st_live_get(st_live *l, const st_node *node, const char *name, double *value);

/* Closes the client (bounded in time) and frees everything: 0, or 3 when the
 * server was gone or did not answer. */
int st_live_close(st_live *l);

#endif
