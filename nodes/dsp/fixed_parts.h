/* Work cut in parts fixed by its size, not by the thread count.
 *
 * OpenBLAS's kernels round a matrix element differently depending on where
 * it falls in a call (a block's edge or inside; this machine's Haswell
 * sgemm does), so a product split by rows in n_threads calls gives other
 * last bits on 2 threads than on 1. Cut into parts that depend only on the
 * number of items, with threads taking whole parts, every cblas call is the
 * same on any number of threads, and so is every result built from them. */
#ifndef ST_FIXED_PARTS_H
#define ST_FIXED_PARTS_H

#include "../../vm/parallel.h"

#include <stdint.h>

/* Part boundaries fall on multiples of 16 items (the widest kernel's edge),
 * so only the last part has a ragged end; parts may be empty when there are
 * fewer than 16 items a part. */
static inline int64_t st_part_begin(int64_t n_items, int n_parts, int part)
{
    return part >= n_parts ? n_items : (n_items * part / n_parts) & ~(int64_t)15;
}

typedef struct {
    st_range_fn fn; /* called once per non-empty part with its items */
    void *ctx;
    int64_t n_items;
    int n_parts;
} st_fixed_parts;

static inline void st_fixed_parts_range(void *arg, int64_t begin, int64_t end)
{
    const st_fixed_parts *p = arg;
    for (int64_t k = begin; k < end; k++) {
        const int64_t b = st_part_begin(p->n_items, p->n_parts, (int)k),
                      e = st_part_begin(p->n_items, p->n_parts, (int)k + 1);
        if (e > b) p->fn(p->ctx, b, e);
    }
}

/* fn(ctx, begin, end) over n_items items in n_parts fixed parts, the parts
 * shared among up to n_threads threads. */
static inline void st_parallel_parts(int n_threads, int64_t n_items, int n_parts, st_range_fn fn,
                                     void *ctx)
{
    st_fixed_parts p = {fn, ctx, n_items, n_parts};
    st_parallel_for(n_threads, n_parts, st_fixed_parts_range, &p);
}

#endif
