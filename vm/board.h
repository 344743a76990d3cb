/* strata board: a terminal sound board over a live session (curses). The
 * board is a patch (st_board_patch: every audio file of a folder as a loop,
 * stopped, mixed into one output) played by the live session; a key does
 * what a snippet can do (loops[i]:start() at the next bar). */
#ifndef ST_BOARD_H
#define ST_BOARD_H

extern const char st_board_patch[];

#define ST_BOARD_MAX 35 /* keys 1-9 and a-z */

typedef struct {
    const char *client;
    double seconds, beat, bpm;
    int beats_per_bar;
    int xruns;
    const char *recording; /* the file, or NULL */
    long dropped;          /* frames the recording lost */
    int n_loops;
    const char *name[ST_BOARD_MAX];
    int playing[ST_BOARD_MAX];  /* as asked: it sounds from the next bar */
    double level[ST_BOARD_MAX]; /* peak of the last period, 0..1 and more */
    const char *message;        /* the last key's outcome */
} st_board_view;

/* Takes the terminal (curses). 0, or -1 when it cannot (not a terminal). */
int st_board_open(void);
void st_board_draw(const st_board_view *v);
/* The key pressed, or -1 when none is waiting. */
int st_board_key(void);
/* Gives the terminal back. */
void st_board_close(void);
/* The loop a key toggles (0-based), or -1. */
int st_board_loop_of_key(int key);

#endif
