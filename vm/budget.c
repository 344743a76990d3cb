#include "budget.h"

#include <stdlib.h>
#include <unistd.h>

double st_memory_budget(void)
{
    const char *env = getenv("STRATA_MAX_MEMORY_MB");
    if (env && *env && atof(env) > 0) return atof(env) * 1048576.0;
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0) return 1e18; /* unknown: no bound */
    return 0.25 * (double)pages * (double)page;
}

int st_memory_fits(double bytes) { return bytes <= st_memory_budget(); }
