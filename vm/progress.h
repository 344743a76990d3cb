/* A progress bar on stderr, drawn only when stderr is a terminal, at most
 * ten times a second. A --quiet run does not call it (st_ctx.progress is NULL). */
#ifndef ST_PROGRESS_H
#define ST_PROGRESS_H

/* note (may be NULL) is printed after the percentage. */
void st_progress_draw(const char *label, double fraction, const char *note);
void st_progress_done(void);

#endif
