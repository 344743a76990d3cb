/* A progress bar on stderr, drawn only when stderr is a terminal and the
 * run is not --quiet, at most ten times a second. */
#ifndef ST_PROGRESS_H
#define ST_PROGRESS_H

void st_progress_draw(const char *label, double fraction);
void st_progress_done(void);

#endif
