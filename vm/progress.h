/* A progress bar on stderr, drawn only when stderr is a terminal, at most
 * ten times a second. A --quiet run does not call it (st_ctx.progress is NULL).
 *
 * Nodes that know how far they are call st_progress (vm/node.h) and the bar
 * shows the fraction. Every other node still shows that it works: between
 * st_progress_begin and st_progress_done a watcher thread draws the node's
 * name and the seconds it has run, once it has run for a second without
 * drawing a bar of its own. */
#ifndef ST_PROGRESS_H
#define ST_PROGRESS_H

/* note (may be NULL) is printed after the percentage. */
void st_progress_draw(const char *label, double fraction, const char *note);
/* A node starts (label: its name, a string that outlives the run). */
void st_progress_begin(const char *label);
void st_progress_done(void);

#endif
