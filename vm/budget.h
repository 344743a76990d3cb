/* What one value may cost in memory, checked before a node allocates it.
 *
 * A legal but absurd parameter (stft with hop = 1) can ask for more memory
 * than the machine has; the node says so, naming the parameter, instead of
 * swapping for minutes. The budget for one value is a quarter of the
 * machine's memory, or $STRATA_MAX_MEMORY_MB when set. */
#ifndef ST_BUDGET_H
#define ST_BUDGET_H

/* The budget in bytes. */
double st_memory_budget(void);
/* Whether bytes fit the budget. */
int st_memory_fits(double bytes);

#endif
