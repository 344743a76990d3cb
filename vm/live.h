/* `strata live`: the stream program as a JACK client. */
#ifndef ST_LIVE_H
#define ST_LIVE_H

#include "graph.h"

typedef struct {
    const char *client_name; /* default "strata" */
    const char *server_name; /* NULL: the default server */
    int no_connect;          /* leave the ports unconnected */
    int start_server;        /* let libjack start a server when none runs */
    double seconds;          /* how long the input plays (0: endless), latency added */
} st_live_options;

/* Runs until SIGINT or SIGTERM or the end of the input (0), a failure (1,
 * with one line on stderr) or the server's shutdown (3). */
int st_live(st_graph *g, const st_live_options *opt);

#endif
