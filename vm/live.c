/* The JACK client. The main thread sets up, watches and reports; JACK's
 * notification thread recompiles the program when the buffer size or rate
 * changes; the process callback only runs the current program. Programs pass
 * to the audio thread through a lock-free exchange: `next` (written by the
 * compiler, taken by the callback) and `retired` (written by the callback,
 * freed by the main thread). */
#include "live.h"

#include "stream.h"

#include <jack/jack.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_PORTS 256

typedef struct {
    jack_client_t *client;
    st_graph *graph;
    int n_in, n_out; /* ports */
    jack_port_t *in_port[MAX_PORTS], *out_port[MAX_PORTS];
    const float *in_buf[MAX_PORTS]; /* the callback's scratch: pointers only */
    float *out_buf[MAX_PORTS];
    st_program *current;           /* the audio thread's */
    _Atomic(st_program *) next;    /* compiled, waiting to be taken */
    _Atomic(st_program *) retired; /* taken over, waiting to be freed */
    atomic_int xruns;
    atomic_int oversized; /* cycles longer than the program's block: silenced */
    atomic_int shutdown;
    atomic_int started;
    atomic_int closed; /* the client is closed (by close_client) */
    atomic_uint_fast64_t first_frame;
    atomic_uint_fast64_t n_processed; /* frames the program has run */
    int latency;                      /* of the current program, for the latency callback */
    char shutdown_reason[256];
} live;

static volatile sig_atomic_t stop_signal;
static live *running; /* reachable while live, so an abandoned client is not a leak */

static void on_signal(int sig) { stop_signal = sig; }

/* The process callback. Real-time rules: it does not allocate, lock, print,
 * do I/O or enter Lua. It swaps in a waiting program, moves samples between
 * the ports and the program, and counts what went wrong. */
static int on_process(jack_nframes_t n_frames, void *arg)
{
    live *l = arg;
    if (atomic_load_explicit(&l->retired, memory_order_acquire) == NULL) {
        st_program *next = atomic_exchange_explicit(&l->next, NULL, memory_order_acq_rel);
        if (next) {
            atomic_store_explicit(&l->retired, l->current, memory_order_release);
            l->current = next;
        }
    }
    for (int i = 0; i < l->n_in; i++)
        l->in_buf[i] = jack_port_get_buffer(l->in_port[i], n_frames);
    for (int i = 0; i < l->n_out; i++)
        l->out_buf[i] = jack_port_get_buffer(l->out_port[i], n_frames);
    if (!l->current || (int)n_frames > st_program_max_block(l->current)) {
        for (int i = 0; i < l->n_out; i++)
            memset(l->out_buf[i], 0, n_frames * sizeof(float));
        atomic_fetch_add_explicit(&l->oversized, 1, memory_order_relaxed);
        return 0;
    }
    if (!atomic_load_explicit(&l->started, memory_order_relaxed)) {
        atomic_store_explicit(&l->first_frame, jack_last_frame_time(l->client),
                              memory_order_relaxed);
        atomic_store_explicit(&l->started, 1, memory_order_release);
    }
    st_program_process(l->current, l->in_buf, l->out_buf, (int)n_frames);
    atomic_fetch_add_explicit(&l->n_processed, n_frames, memory_order_relaxed);
    return 0;
}

static int on_xrun(void *arg)
{
    live *l = arg;
    atomic_fetch_add_explicit(&l->xruns, 1, memory_order_relaxed);
    return 0;
}

static void on_shutdown(jack_status_t code, const char *reason, void *arg)
{
    (void)code;
    live *l = arg;
    snprintf(l->shutdown_reason, sizeof l->shutdown_reason, "%s", reason ? reason : "");
    atomic_store(&l->shutdown, 1);
}

/* Off the audio thread: make a program for the new shape and offer it. */
static void recompile(live *l, int block, double rate)
{
    char error[1024];
    st_program *p = st_program_compile(l->graph, block, rate, error, sizeof error);
    if (!p) {
        fprintf(stderr, "strata: cannot recompile for %d frames at %g Hz: %s\n", block, rate,
                error);
        return;
    }
    l->latency = st_program_latency(p);
    st_program_free(atomic_exchange(&l->next, p)); /* one not yet taken is dropped */
}

static int on_buffer_size(jack_nframes_t n_frames, void *arg)
{
    live *l = arg;
    if (l->current && (int)n_frames <= st_program_max_block(l->current) &&
        (int)n_frames * 2 > st_program_max_block(l->current))
        return 0;
    recompile(l, (int)n_frames, jack_get_sample_rate(l->client));
    return 0;
}

static int on_sample_rate(jack_nframes_t rate, void *arg)
{
    live *l = arg;
    if (l->current && st_program_rate(l->current) == rate) return 0;
    recompile(l, (int)jack_get_buffer_size(l->client), rate);
    return 0;
}

/* Our outputs are as late as our inputs plus the program; our inputs, as
 * seen from downstream, as late as our outputs plus the program. */
static void on_latency(jack_latency_callback_mode_t mode, void *arg)
{
    live *l = arg;
    jack_latency_range_t range = {0, 0}, r;
    jack_port_t **from = mode == JackCaptureLatency ? l->in_port : l->out_port;
    jack_port_t **to = mode == JackCaptureLatency ? l->out_port : l->in_port;
    int n_from = mode == JackCaptureLatency ? l->n_in : l->n_out;
    int n_to = mode == JackCaptureLatency ? l->n_out : l->n_in;
    for (int i = 0; i < n_from; i++) {
        jack_port_get_latency_range(from[i], mode, &r);
        if (i == 0 || r.min < range.min) range.min = r.min;
        if (r.max > range.max) range.max = r.max;
    }
    range.min += (jack_nframes_t)l->latency;
    range.max += (jack_nframes_t)l->latency;
    for (int i = 0; i < n_to; i++)
        jack_port_set_latency_range(to[i], mode, &range);
}

static void quiet_jack(const char *message) { (void)message; }

#define CLOSE_WAIT_MS 3000

static void *close_client(void *arg)
{
    live *l = arg;
    jack_deactivate(l->client);
    jack_client_close(l->client);
    atomic_store(&l->closed, 1);
    return NULL;
}

static int register_ports(live *l, st_program *p, int outputs)
{
    int n = 0;
    for (int e = 0; e < st_program_n_ends(p, outputs); e++) {
        const char *prefix = st_program_end_prefix(p, outputs, e);
        for (int c = 0; c < st_program_end_channels(p, outputs, e); c++) {
            char name[256];
            snprintf(name, sizeof name, "%s_%d", prefix, c + 1);
            if (n == MAX_PORTS) return -1;
            jack_port_t *port = jack_port_register(l->client, name, JACK_DEFAULT_AUDIO_TYPE,
                                                   outputs ? JackPortIsOutput : JackPortIsInput, 0);
            if (!port) {
                fprintf(stderr,
                        "strata: cannot register the JACK port '%s' (is the name used twice?)\n",
                        name);
                return -1;
            }
            (outputs ? l->out_port : l->in_port)[n++] = port;
        }
    }
    return n;
}

static void connect_physical(live *l)
{
    const char **playback = jack_get_ports(l->client, NULL, JACK_DEFAULT_AUDIO_TYPE,
                                           JackPortIsPhysical | JackPortIsInput);
    const char **capture = jack_get_ports(l->client, NULL, JACK_DEFAULT_AUDIO_TYPE,
                                          JackPortIsPhysical | JackPortIsOutput);
    for (int i = 0; playback && i < l->n_out && playback[i]; i++)
        jack_connect(l->client, jack_port_name(l->out_port[i]), playback[i]);
    for (int i = 0; capture && i < l->n_in && capture[i]; i++)
        jack_connect(l->client, capture[i], jack_port_name(l->in_port[i]));
    jack_free(playback);
    jack_free(capture);
}

int st_live(st_graph *g, const st_live_options *opt)
{
    live *l = calloc(1, sizeof *l);
    if (!l) return 1;
    running = l;
    l->graph = g;
    jack_set_error_function(quiet_jack); /* we say what went wrong, in one line */
    jack_set_info_function(quiet_jack);
    jack_status_t status;
    jack_options_t options = (opt->start_server ? JackNullOption : JackNoStartServer) |
                             (opt->server_name ? JackServerName : JackNullOption);
    l->client = jack_client_open(opt->client_name ? opt->client_name : "strata", options, &status,
                                 opt->server_name);
    if (!l->client) {
        fprintf(stderr,
                "strata: cannot connect to the JACK server%s%s%s (is it running? --start-server "
                "starts one)\n",
                opt->server_name ? " '" : "", opt->server_name ? opt->server_name : "",
                opt->server_name ? "'" : "");
        free(l);
        return 1;
    }
    int exit_code = 1;
    double rate = jack_get_sample_rate(l->client);
    int block = (int)jack_get_buffer_size(l->client);
    char error[1024];
    l->current = st_program_compile(g, block, rate, error, sizeof error);
    if (!l->current) {
        fprintf(stderr, "strata: %s\n", error);
        goto close;
    }
    l->latency = st_program_latency(l->current);
    if ((l->n_in = register_ports(l, l->current, 0)) < 0 ||
        (l->n_out = register_ports(l, l->current, 1)) < 0)
        goto close;
    jack_set_process_callback(l->client, on_process, l);
    jack_set_xrun_callback(l->client, on_xrun, l);
    jack_set_buffer_size_callback(l->client, on_buffer_size, l);
    jack_set_sample_rate_callback(l->client, on_sample_rate, l);
    jack_set_latency_callback(l->client, on_latency, l);
    jack_on_info_shutdown(l->client, on_shutdown, l);
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL); /* a closed terminal ends the run cleanly too */
    if (jack_activate(l->client)) {
        fprintf(stderr, "strata: cannot activate the JACK client\n");
        goto close;
    }
    if (!opt->no_connect) connect_physical(l);
    fprintf(stderr,
            "strata: %s live at %g Hz, period %d, %d in / %d out, latency %d samples (%.1f ms)\n",
            jack_get_client_name(l->client), rate, block, l->n_in, l->n_out, l->latency,
            1000.0 * l->latency / rate);
    int reported_start = 0, reported_xruns = 0, reported_oversized = 0;
    struct timespec tick = {0, 20 * 1000 * 1000};
    /* a played file ends: the program stops once its last sample is out */
    uint64_t end_frames =
        opt->seconds > 0 ? (uint64_t)llround(opt->seconds * rate) + (uint64_t)l->latency : 0;
    int show_position = isatty(2) && !st_graph_config(g)->quiet;
    for (int n_ticks = 0; !stop_signal && !atomic_load(&l->shutdown); n_ticks++) {
        nanosleep(&tick, NULL);
        uint64_t done = atomic_load(&l->n_processed);
        if (show_position && n_ticks % 10 == 0) {
            if (end_frames)
                fprintf(stderr, "\rstrata: %.1f s of %.1f s\033[K", done / rate, end_frames / rate);
            else
                fprintf(stderr, "\rstrata: %.1f s\033[K", done / rate);
        }
        if (end_frames && done >= end_frames) {
            fprintf(stderr, "%sstrata: the end of the input (%.1f s); stopping\n",
                    show_position ? "\n" : "", end_frames / rate);
            break;
        }
        st_program_free(atomic_exchange(&l->retired, NULL));
        if (!reported_start && atomic_load_explicit(&l->started, memory_order_acquire)) {
            fprintf(stderr, "strata: started at JACK frame %llu\n",
                    (unsigned long long)atomic_load(&l->first_frame));
            reported_start = 1;
        }
        int xruns = atomic_load(&l->xruns), oversized = atomic_load(&l->oversized);
        if (xruns != reported_xruns) fprintf(stderr, "strata: xruns: %d\n", reported_xruns = xruns);
        if (oversized != reported_oversized && reported_start)
            fprintf(stderr, "strata: %d periods longer than the program's block were silenced\n",
                    reported_oversized = oversized);
    }
    if (atomic_load(&l->shutdown)) {
        /* the server is gone: closing the client could wait on it forever */
        fprintf(stderr, "strata: the JACK server shut down%s%s; stopping\n",
                l->shutdown_reason[0] ? ": " : "", l->shutdown_reason);
        /* the client stays open (closing it could wait on the dead server);
         * our programs are not in use any more */
        st_program_free(atomic_exchange(&l->next, NULL));
        st_program_free(atomic_exchange(&l->retired, NULL));
        return 3;
    }
    /* deactivating and closing talk to the server: one killed meanwhile
     * (or hung) would keep us here forever, so a helper does it and we wait
     * a bounded time */
    pthread_t closer;
    if (pthread_create(&closer, NULL, close_client, l) == 0) {
        for (int waited_ms = 0; !atomic_load(&l->closed) && waited_ms < CLOSE_WAIT_MS;
             waited_ms += 20)
            nanosleep(&tick, NULL);
        if (!atomic_load(&l->closed)) {
            fprintf(stderr,
                    "strata: the JACK server did not answer within %d ms when leaving; "
                    "stopping without it\n",
                    CLOSE_WAIT_MS);
            return 3; /* l stays: the helper may still use it (reachable through running) */
        }
        pthread_join(closer, NULL);
        exit_code = 0;
        goto free_programs;
    }
    jack_deactivate(l->client);
    exit_code = 0;
close:
    jack_client_close(l->client);
free_programs:
    st_program_free(l->current);
    st_program_free(atomic_exchange(&l->next, NULL));
    st_program_free(atomic_exchange(&l->retired, NULL));
    free(l);
    return exit_code;
}
