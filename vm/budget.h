/* What one value may cost in memory, checked before a node allocates it.
 *
 * A legal but absurd parameter (stft with hop = 1, a bar grid with one bar
 * an hour long) can ask for more memory than the machine has; the node says
 * so up front, naming the parameter to change, instead of swapping for
 * minutes. The budget for one node's working memory is a quarter of the
 * machine's memory, or $STRATA_MAX_MEMORY_MB when set. */
#ifndef ST_BUDGET_H
#define ST_BUDGET_H

struct st_ctx;

/* The budget in bytes. */
double st_memory_budget(void);
/* Whether bytes fit the budget. */
int st_memory_fits(double bytes);
/* ST_OK when bytes fit; else the node fails with one line: "WHAT needs X
 * GB, more than the Y GB a node may take (...): FIX". what and fix are
 * already formatted ("the cube (1025 bins x 600 frames x 300 bars)",
 * "lower bars_per_unit, or check the downbeats"). */
int st_memory_check(struct st_ctx *ctx, double bytes, const char *what, const char *fix);

#endif
