/* A live-coding session: `strata live PATCH.lua`.
 *
 * Runs the patch, plays its stream program through JACK (vm/live.c), and
 * then, on the session's one thread, waits for three things: a save of the
 * patch or of a file it require'd or dofile'd (inotify), a request on the
 * control socket (vm/control.c), and a line typed at the REPL. A save runs
 * the patch again in a fresh Lua state, taking over the results of unchanged
 * nodes from the running one, compiles it and offers the program; a failure
 * prints one line and leaves the playing program alone. */
#ifndef ST_SESSION_H
#define ST_SESSION_H

#include "graph.h"
#include "live.h"

typedef struct {
    const char *patch; /* the patch file */
    int argc;          /* its arguments */
    char **argv;
    st_config config; /* for every graph of the session */
    st_live_options live;
    int repl;     /* read snippets from the terminal */
    int no_watch; /* do not reload on save */
    const char *patch_text; /* the patch's code when it is not a file (the board's) */
    int board;              /* the curses sound board (vm/board.h) takes the terminal */
    const char *record;     /* a .wav file that records the output, or NULL */
} st_session_options;

/* 0 when interrupted or the input ended, 1 when the first run or the JACK
 * client failed (one line said why), 2 for the patch's usage errors, 3 when
 * the server went away. */
int st_session_run(const st_session_options *opt);

#endif
