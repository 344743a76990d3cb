/* What every bench needs, said once: clocks, peak memory, and a graph to
 * build nodes in. Header-only (static inline), so that each bench stays
 * one program of one file. */
#ifndef ST_BENCH_H
#define ST_BENCH_H

#include "../../vm/graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static inline double bench_clock_s(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Wall time; CPU time of every thread of the process; of the calling thread. */
static inline double bench_now_s(void) { return bench_clock_s(CLOCK_MONOTONIC); }
static inline double bench_cpu_s(void) { return bench_clock_s(CLOCK_PROCESS_CPUTIME_ID); }
static inline double bench_thread_cpu_s(void) { return bench_clock_s(CLOCK_THREAD_CPUTIME_ID); }

/* The largest resident set of this process so far, in MB. */
static inline double bench_peak_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

/* The graph the helpers below build in: a new one for each bench_graph
 * call (the old one is freed), two threads, quiet unless asked. */
static inline st_graph **bench_graph_slot(void)
{
    static st_graph *g;
    return &g;
}

static inline st_graph *bench_graph(int quiet)
{
    st_graph **g = bench_graph_slot();
    if (*g) st_graph_free(*g);
    if (!(*g = st_graph_new())) {
        fprintf(stderr, "bench: out of memory\n");
        exit(1);
    }
    st_graph_config(*g)->n_threads = 2;
    st_graph_config(*g)->quiet = quiet;
    return *g;
}

static inline void bench_graph_done(void)
{
    st_graph_free(*bench_graph_slot());
    *bench_graph_slot() = NULL;
}

/* A node of type with n_in inputs; a failure ends the bench with the
 * graph's message. */
static inline st_node *bench_add_refs(const char *type, const st_ref *in, int n_in,
                                      const st_arg *args, int n_args)
{
    st_graph *g = *bench_graph_slot();
    st_node *n = st_graph_add(g, st_registry_find(type), in, n_in, args, n_args, "bench");
    if (!n) {
        fprintf(stderr, "bench: %s\n", st_graph_error(g));
        exit(1);
    }
    return n;
}

/* The same with one input (output port of in; none when in is NULL). */
static inline st_node *bench_add(const char *type, st_node *in, int port, const st_arg *args,
                                 int n_args)
{
    st_ref ref = {in, port};
    return bench_add_refs(type, &ref, in ? 1 : 0, args, n_args);
}

/* The node's value (a reference: unref it), or the end of the bench. */
static inline st_value *bench_eval(st_node *n)
{
    st_graph *g = *bench_graph_slot();
    st_value *v = st_graph_eval(g, (st_ref){n, -1});
    if (!v) {
        fprintf(stderr, "bench: %s\n", st_graph_error(g));
        exit(1);
    }
    return v;
}

#endif
