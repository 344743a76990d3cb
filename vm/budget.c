#include "budget.h"

#include "node.h"

#include <stdio.h>
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

/* Sizes as a person reads them, in the units of STRATA_MAX_MEMORY_MB
 * (1 MB = 2^20 bytes): 3.2 GB, 45 MB. */
static void size_text(double bytes, char *text, size_t size)
{
    double mb = bytes / 1048576.0;
    if (mb >= 1024)
        snprintf(text, size, "%.1f GB", mb / 1024);
    else
        snprintf(text, size, "%.0f MB", mb < 1 ? 1 : mb);
}

int st_memory_check(st_ctx *ctx, double bytes, const char *what, const char *fix)
{
    if (st_memory_fits(bytes)) return ST_OK;
    char need[32], have[32];
    size_text(bytes, need, sizeof need);
    size_text(st_memory_budget(), have, sizeof have);
    const char *env = getenv("STRATA_MAX_MEMORY_MB");
    return st_fail(ctx, "%s needs %s, more than the %s a node may take (%s): %s", what, need, have,
                   env && *env && atof(env) > 0 ? "STRATA_MAX_MEMORY_MB"
                                                : "a quarter of this machine's memory; "
                                                  "STRATA_MAX_MEMORY_MB sets it",
                   fix);
}
