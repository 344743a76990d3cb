/* Splitting a loop over threads: fn(ctx, begin, end) runs on disjoint
 * ranges that cover [0, n_items), one per thread, the first on the caller. */
#ifndef ST_PARALLEL_H
#define ST_PARALLEL_H

#include <pthread.h>
#include <stdint.h>

typedef void (*st_range_fn)(void *ctx, int64_t begin, int64_t end);

void st_parallel_for(int n_threads, int64_t n_items, st_range_fn fn, void *ctx);

/* pthread_create, the new thread starting with the signals that end a
 * command (SIGINT, SIGTERM, SIGHUP) blocked, so that their handler
 * (vm/outputs.c) runs on the thread that keeps the table of temporary
 * files. Every thread strata starts goes through it. */
int st_thread_start(pthread_t *thread, const pthread_attr_t *attr, void *(*fn)(void *), void *arg);

/* OpenBLAS's thread count is one global setting that each node would
 * otherwise inherit from the node before it (which may have run or been
 * read from the cache), and a product threaded otherwise rounds otherwise.
 * The graph runner calls this before every node: each node starts with
 * OpenBLAS on one thread (the threads are ours: nodes split their work in
 * fixed parts) and raises it itself where it declares threads_matter. */
void st_parallel_blas_serial(void);

#endif
