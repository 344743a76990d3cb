#include "parallel.h"

#include <pthread.h>
#include <signal.h>

void openblas_set_num_threads(int n); /* OpenBLAS has no stable header for it */

void st_parallel_blas_serial(void) { openblas_set_num_threads(1); }

#define MAX_THREADS 64

typedef struct {
    st_range_fn fn;
    void *ctx;
    int64_t begin, end;
} range_job;

static void *run_job(void *arg)
{
    range_job *job = arg;
    job->fn(job->ctx, job->begin, job->end);
    return NULL;
}

int st_thread_start(pthread_t *thread, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    sigset_t ending, saved;
    sigemptyset(&ending);
    sigaddset(&ending, SIGINT);
    sigaddset(&ending, SIGTERM);
    sigaddset(&ending, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &ending, &saved); /* the new thread inherits the mask */
    int status = pthread_create(thread, attr, fn, arg);
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    return status;
}

void st_parallel_for(int n_threads, int64_t n_items, st_range_fn fn, void *ctx)
{
    if (n_threads > MAX_THREADS) n_threads = MAX_THREADS;
    if (n_threads > n_items) n_threads = (int)n_items;
    if (n_threads <= 1) {
        if (n_items > 0) fn(ctx, 0, n_items);
        return;
    }
    range_job job[MAX_THREADS];
    pthread_t thread[MAX_THREADS];
    int started[MAX_THREADS] = {0};
    for (int k = 0; k < n_threads; k++)
        job[k] = (range_job){fn, ctx, n_items * k / n_threads, n_items * (k + 1) / n_threads};
    /* A thread that cannot start leaves its range to the caller. */
    for (int k = 1; k < n_threads; k++)
        started[k] = st_thread_start(&thread[k], NULL, run_job, &job[k]) == 0;
    run_job(&job[0]);
    for (int k = 1; k < n_threads; k++) {
        if (started[k])
            pthread_join(thread[k], NULL);
        else
            run_job(&job[k]);
    }
}
