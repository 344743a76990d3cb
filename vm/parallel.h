/* Splitting a loop over threads: fn(ctx, begin, end) runs on disjoint
 * ranges that cover [0, n_items), one per thread, the first on the caller. */
#ifndef ST_PARALLEL_H
#define ST_PARALLEL_H

#include <stdint.h>

typedef void (*st_range_fn)(void *ctx, int64_t begin, int64_t end);

void st_parallel_for(int n_threads, int64_t n_items, st_range_fn fn, void *ctx);

/* OpenBLAS's thread count is one global setting that each node would
 * otherwise inherit from the node before it (which may have run or been
 * read from the cache), and a product threaded otherwise rounds otherwise.
 * The graph runner calls this before every node: each node starts with
 * OpenBLAS on one thread (the threads are ours: nodes split their work in
 * fixed parts) and raises it itself where it declares threads_matter. */
void st_parallel_blas_serial(void);

#endif
