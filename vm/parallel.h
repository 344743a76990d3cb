/* Splitting a loop over threads: fn(ctx, begin, end) runs on disjoint
 * ranges that cover [0, n_items), one per thread, the first on the caller. */
#ifndef ST_PARALLEL_H
#define ST_PARALLEL_H

#include <stdint.h>

typedef void (*st_range_fn)(void *ctx, int64_t begin, int64_t end);

void st_parallel_for(int n_threads, int64_t n_items, st_range_fn fn, void *ctx);

#endif
