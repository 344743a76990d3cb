/* rt-preload.so: the real-time checker for `strata live`. Preloaded
 * (LD_PRELOAD), it wraps the JACK process callback that strata registers, so
 * that allocations, mutex locks and I/O made inside it are counted (the
 * counters of tests/rt/counting.h), and writes the totals to the file named
 * by $STRATA_RT_REPORT when the process ends:
 *   callbacks N allocations N locks N io N
 * Not built under the sanitizers (they replace malloc too). */
#include <jack/jack.h>
#include <stdatomic.h>

/* a preloaded library's thread-locals in the initial block: no allocation
 * on a thread's first use (which would re-enter the counting malloc) */
#define ST_RT_TLS __attribute__((tls_model("initial-exec")))
#include "counting.h"

static JackProcessCallback wrapped;
static void *wrapped_arg;
static atomic_long n_callbacks;

static int counted_process(jack_nframes_t n, void *arg)
{
    (void)arg;
    counting = 1;
    int status = wrapped(n, wrapped_arg);
    counting = 0;
    atomic_fetch_add(&n_callbacks, 1);
    return status;
}

int jack_set_process_callback(jack_client_t *client, JackProcessCallback callback, void *arg)
{
    static int (*real)(jack_client_t *, JackProcessCallback, void *);
    resolve_real_functions();
    wrapped = callback;
    wrapped_arg = arg;
    return REAL(real, "jack_set_process_callback")(client, counted_process, NULL);
}

__attribute__((destructor)) static void report(void)
{
    const char *path = getenv("STRATA_RT_REPORT");
    FILE *f = path && wrapped ? fopen(path, "w") : NULL; /* not timeout, sh: only strata */
    if (!f) return;
    fprintf(f, "callbacks %ld allocations %d locks %d io %d\n", atomic_load(&n_callbacks),
            n_allocations, n_locks, n_io);
    fclose(f);
}
