/* Stream programs: the process path allocates, locks and does I/O not at
 * all (counted by interposed functions), for every streaming node at the
 * extremes of its parameters and block sizes; latency compensation keeps
 * paths aligned, and a live gain change ramps instead of jumping.
 *
 * This binary replaces malloc, so it is not built under the sanitizers
 * (which replace it too). */
#include "../../nodes/dsp/fft.h"
#include "../../vm/stream.h"
#include "../unit/check.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int check_failures;

#include "counting.h"

/* ---- building graphs from C ---- */
static st_graph *g;

static st_node *node(const char *type, st_node *a, st_node *b, const st_arg *args, int n_args)
{
    st_ref in[2] = {{a, -1}, {b, -1}};
    st_node *n =
        st_graph_add(g, st_registry_find(type), in, a ? (b ? 2 : 1) : 0, args, n_args, "t");
    if (!n) printf("# %s\n", st_graph_error(g));
    return n;
}

static st_node *source(double seconds)
{
    st_arg sig[] = {{.name = "kind", .is_string = 1, .str = "noise"},
                    {.name = "seconds", .num = seconds},
                    {.name = "channels", .num = 2}};
    return node("play", node("signal", NULL, NULL, sig, 3), NULL, NULL, 0);
}

static float *render(st_program *p, int n_frames, int block)
{
    int n_out = st_program_n_channels(p, 1), n_in = st_program_n_channels(p, 0);
    float *y = calloc((size_t)n_out * (size_t)n_frames, sizeof *y);
    float *silence = calloc((size_t)block, sizeof *silence);
    const float *in[64];
    float *out[64];
    for (int c = 0; c < n_in; c++)
        in[c] = silence;
    for (int done = 0; done < n_frames; done += block) {
        int n = n_frames - done < block ? n_frames - done : block;
        for (int c = 0; c < n_out; c++)
            out[c] = y + (size_t)c * (size_t)n_frames + done;
        st_program_process(p, in, out, n);
    }
    free(silence);
    return y;
}

/* ---- every streaming node at the extremes of its parameters ----
 * Each case builds source -> NODE -> (istft) -> jack_out with one numeric
 * parameter at its descriptor's min or max (or all at their defaults, or the
 * upstream stft's n_fft at its extremes for spectrum nodes), then streams
 * enough samples for its output to start (the latency, a few frames) at the
 * smallest and a large block, counting what process does. */

/* Settings a case needs besides its extreme, so that it can run at all and
 * run its processing path within a few frames. */
typedef struct {
    const char *node, *param; /* param NULL: every case of the node */
    const char *name;
    double value;
    const char *str; /* a string setting instead of value */
} companion;

static const companion companions[] = {
    {"hpss", NULL, "lookahead", 0, NULL},  /* output from the first frame on, whatever the kernel */
    {"stft", "hop", "n_fft", 65536, NULL}, /* hop at its max needs a frame that long, */
    {"stft", "hop", "window", 0, "hamming"}, /* and a window without zeros at its ends */
};

/* Parameters that have no streaming meaning: open refuses them by design. */
static const struct {
    const char *node, *param;
} not_streamed[] = {{"istft", "length"}, {"play", "start"}};

static int streams_param(const st_node_type *t, const st_param *d)
{
    for (size_t i = 0; i < sizeof not_streamed / sizeof *not_streamed; i++)
        if (!strcmp(not_streamed[i].node, t->name) && !strcmp(not_streamed[i].param, d->name))
            return 0;
    return d->kind == ST_P_NUMBER || d->kind == ST_P_INT;
}

#define SOURCE_SECONDS 8.0
#define RATE           44100

/* One case; returns what process did (allocations + locks + I/O), or -1
 * when the program could not be made (with the reason printed). */
static int run_case(const st_node_type *t, const char *param, double value, int n_fft, int block,
                    int *n_samples_out)
{
    st_arg args[8];
    int n_args = 0;
    for (size_t i = 0; i < sizeof companions / sizeof *companions; i++)
        if (!strcmp(companions[i].node, t->name) &&
            (!companions[i].param || (param && !strcmp(companions[i].param, param))) &&
            (!param || strcmp(companions[i].name, param)))
            args[n_args++] = (st_arg){.name = companions[i].name,
                                      .num = companions[i].value,
                                      .is_string = companions[i].str != NULL,
                                      .str = companions[i].str};
    if (param) args[n_args++] = (st_arg){.name = param, .num = value};
    g = st_graph_new();
    st_arg sig[] = {{.name = "kind", .is_string = 1, .str = "noise"},
                    {.name = "seconds", .num = SOURCE_SECONDS},
                    {.name = "channels", .num = 1},
                    {.name = "rate", .num = RATE}};
    st_node *audio = node("signal", NULL, NULL, sig, 4);
    if (!t->stream_source) audio = node("play", audio, NULL, NULL, 0);
    st_node *in = audio;
    st_arg fft = {.name = "n_fft", .num = n_fft};
    if (t->inputs[0].name && t->inputs[0].type == ST_SPECTRUM)
        in = node("stft", audio, NULL, &fft, 1);
    /* the first input streams; a second streamed input of a variadic node
     * (mix) streams the same; an array input (nmf_filter's templates) is an
     * offline NMF of the same signal's magnitudes */
    int n_ports = st_port_count(t->inputs);
    int n_in = n_ports + (t->variadic && n_ports == 1 ? 1 : 0);
    st_ref refs[4];
    for (int k = 0; k < n_in && k < 4; k++) {
        st_type type = t->inputs[k < n_ports ? k : n_ports - 1].type;
        refs[k] = (st_ref){in, -1};
        if (k > 0 && type != ST_AUDIO && type != ST_SPECTRUM) {
            st_arg nmf[] = {{.name = "rank", .num = 4}, {.name = "iterations", .num = 20}};
            st_node *offline = node("signal", NULL, NULL, sig, 4);
            st_node *mag = node("magnitude", node("stft", offline, NULL, &fft, 1), NULL, NULL, 0);
            refs[k] = (st_ref){node("nmf", mag, NULL, nmf, 2), -1};
        }
    }
    st_node *n = st_graph_add(g, t, refs, n_in, args, n_args, "extreme");
    int status = -1;
    if (!n) {
        printf("# %s %s = %g: %s\n", t->name, param ? param : "", value, st_graph_error(g));
        st_graph_free(g);
        return -1;
    }
    st_ref out = {n, st_port_count(t->outputs) > 1 ? 0 : -1};
    st_node *last = n;
    if (st_ref_type(out) == ST_SPECTRUM)
        last = st_graph_add(g, st_registry_find("istft"), &out, 1, NULL, 0, "t");
    else if (out.port >= 0)
        last = st_graph_add(g, st_registry_find("gain"), &out, 1, NULL, 0, "t");
    node("jack_out", last, NULL, NULL, 0);
    char error[1024];
    st_program *p = st_program_compile(g, block, RATE, error, sizeof error);
    if (!p) {
        printf("# %s %s = %g, block %d: %s\n", t->name, param ? param : "", value, block, error);
        st_graph_free(g);
        return -1;
    }
    int hop = n_fft / 4;
    /* the latency, then a few frames; at least one whole block */
    int n_samples = st_program_latency(p) + n_fft + 2 * hop;
    if (n_samples < block) n_samples = block;
    if (n_samples > (int)(SOURCE_SECONDS * RATE)) n_samples = (int)(SOURCE_SECONDS * RATE);
    float *out_block = calloc((size_t)block, sizeof *out_block);
    float *silence = calloc((size_t)block, sizeof *silence);
    const float *ins[1] = {silence};
    float *outs[1] = {out_block};
    n_allocations = n_locks = n_io = 0;
    counting = 1;
    for (int done = 0; done < n_samples; done += block)
        st_program_process(p, ins, outs, n_samples - done < block ? n_samples - done : block);
    counting = 0;
    status = n_allocations + n_locks + n_io;
    if (status)
        printf("# %s %s = %g, n_fft %d, block %d: %d allocations, %d locks, %d I/O\n", t->name,
               param ? param : "(defaults)", value, n_fft, block, n_allocations, n_locks, n_io);
    *n_samples_out = n_samples;
    free(out_block);
    free(silence);
    st_program_free(p);
    st_graph_free(g);
    return status;
}

static void test_extremes(void)
{
    static const int blocks[] = {1, 4096}; /* JACK periods: 1 is legal, 4096 is long */
    int n_nodes = 0, n_cases = 0, n_bad = 0, n_unbuilt = 0;
    long total_samples = 0;
    char names[512] = "";
    for (const st_node_type *const *r = st_registry(); *r; r++) {
        const st_node_type *t = *r;
        if (!t->process) continue;
        n_nodes++;
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                 n_nodes > 1 ? " " : "", t->name);
        int spectral = t->inputs[0].name && t->inputs[0].type == ST_SPECTRUM;
        for (int b = 0; b < 2; b++) {
            int seen, samples = 0;
            /* the defaults, and for spectrum nodes the upstream n_fft at its extremes */
            int n_ffts[] = {2048, 16, 65536};
            for (int f = 0; f < (spectral ? 3 : 1); f++) {
                n_cases++;
                seen = run_case(t, NULL, 0, n_ffts[f], blocks[b], &samples);
                n_unbuilt += seen < 0;
                n_bad += seen > 0;
                total_samples += samples;
            }
            /* each parameter at its extremes with the long block (the short one
             * adds nothing there but minutes) */
            for (const st_param *d = t->params; blocks[b] > 1 && d && d->name; d++) {
                if (!streams_param(t, d)) continue;
                for (int e = 0; e < 2; e++) {
                    n_cases++;
                    seen = run_case(t, d->name, e ? d->max : d->min, 2048, blocks[b], &samples);
                    n_unbuilt += seen < 0;
                    n_bad += seen > 0;
                    total_samples += samples;
                }
            }
        }
    }
    printf("# %d streaming nodes (%s), %d cases, %ld samples streamed\n", n_nodes, names, n_cases,
           total_samples);
    CHECK("every streaming node builds at every parameter extreme", n_unbuilt == 0 && n_nodes >= 7,
          "%d of %d cases could not be built", n_unbuilt, n_cases);
    CHECK("no allocation, lock or I/O in process at any parameter extreme or block size",
          n_bad == 0, "%d of %d cases did (see above)", n_bad, n_cases);
}

/* A reload at another engine rate (JACK's rate changed) carries a play's
 * position in seconds, not in frames: after 1 s at 44.1 kHz the new program
 * at 48 kHz plays what one started at 1 s plays. */
static void test_carry_across_rates(void)
{
    char error[1024];
    st_arg sig[] = {{.name = "kind", .is_string = 1, .str = "noise"},
                    {.name = "seconds", .num = 3},
                    {.name = "channels", .num = 1},
                    {.name = "rate", .num = 44100}};
    g = st_graph_new();
    node("jack_out", node("play", node("signal", NULL, NULL, sig, 4), NULL, NULL, 0), NULL, NULL,
         0);
    st_program *before = st_program_compile(g, 441, 44100, error, sizeof error);
    st_program *after = st_program_compile(g, 480, 48000, error, sizeof error);
    st_graph *first = g;
    g = st_graph_new();
    st_arg at_1s = {.name = "start", .num = 1};
    node("jack_out", node("play", node("signal", NULL, NULL, sig, 4), NULL, &at_1s, 1), NULL, NULL,
         0);
    st_program *started = st_program_compile(g, 480, 48000, error, sizeof error);
    CHECK("programs at 44.1 and 48 kHz compile", before && after && started, "%s", error);
    if (before && after && started) {
        free(render(before, 44100, 441));
        st_program_carry(after, before);
        float *carried = render(after, 480, 480), *expected = render(started, 480, 480);
        double worst = 0, level = 0;
        for (int t = 0; t < 480; t++) {
            worst = fmax(worst, fabs(carried[t] - expected[t]));
            level = fmax(level, fabs(expected[t]));
        }
        CHECK("a play carried across a rate change goes on at the same time in seconds",
              worst == 0 && level > 0, "max difference %g (level %g)", worst, level);
        free(carried);
        free(expected);
    }
    st_program_free(before);
    st_program_free(after);
    st_program_free(started);
    st_graph_free(first);
    st_graph_free(g);
}

int main(void)
{
    char error[1024];
    resolve_real_functions();
    /* a + istft(stft(a)) and a second output from jack_in through a gain */
    g = st_graph_new();
    st_node *a = source(2);
    st_arg fft[] = {{.name = "n_fft", .num = 1024}, {.name = "hop", .num = 256}};
    st_node *back = node("istft", node("stft", a, NULL, fft, 2), NULL, NULL, 0);
    st_node *sum = node("mix", a, back, NULL, 0);
    st_arg half[] = {{.name = "factor", .num = 0.5}, {.name = "smooth_ms", .num = 10}};
    st_node *halved = node("gain", sum, NULL, half, 2);
    node("jack_out", halved, NULL, NULL, 0);
    st_node *live_in = node("jack_in", NULL, NULL, NULL, 0);
    node("jack_out", node("mono", live_in, NULL, NULL, 0), NULL, NULL, 0);
    /* streaming HPSS on the live input: its percussive part to a third output */
    st_node *parts = node("hpss", node("stft", live_in, NULL, fft, 2), NULL, NULL, 0);
    st_ref perc_ref = {parts, 1};
    st_node *perc = st_graph_add(g, st_registry_find("istft"), &perc_ref, 1, NULL, 0, "t");
    node("jack_out", perc, NULL, NULL, 0);
    st_program *p = st_program_compile(g, 128, 44100, error, sizeof error);
    CHECK("compile a program with two outputs", p != NULL, "%s", error);
    if (!p) return 0;
    CHECK("latency is the latest path's: n_fft - 1 and 15 frames of HPSS lookahead",
          st_program_latency(p) == 1023 + 15 * 256, "latency %d", st_program_latency(p));
    CHECK("ends", st_program_n_channels(p, 1) == 5 && st_program_n_channels(p, 0) == 2,
          "%d out, %d in", st_program_n_channels(p, 1), st_program_n_channels(p, 0));

    /* the counter must see allocations, from us and from libraries */
    n_allocations = 0;
    counting = 1;
    void *volatile probe = malloc(64);
    void *probe_fftw = st_fft_alloc(64);
    counting = 0;
    CHECK("the allocation counter sees malloc and FFTW's allocator", n_allocations == 2,
          "counted %d of 2", n_allocations);
    /* and locks and I/O */
    pthread_mutex_t probe_lock = PTHREAD_MUTEX_INITIALIZER;
    static const char *volatile names_probe = "probe"; /* not a constant: printf stays printf */
    n_locks = n_io = 0;
    counting = 1;
    pthread_mutex_lock(&probe_lock);
    pthread_mutex_unlock(&probe_lock);
    nanosleep(&(struct timespec){0, 0}, NULL);
    counting = 0;
    FILE *null = fopen("/dev/null", "w");
    counting = 1;
    fprintf(null, "%s", names_probe);
    fputs(names_probe, null);
    if (write(2, "", 0) < 0) n_io += 100;
    counting = 0;
    if (null) fclose(null);
    CHECK("the counters see a lock, a sleep and I/O", n_locks == 2 && n_io == 3,
          "%d locks and waits, %d I/O of 2, 3", n_locks, n_io);
    free(probe);
    st_fft_free(probe_fftw);
    float *y = NULL;
    n_allocations = 0;
    {
        /* the render buffers are allocated outside the counted region */
        int n_frames = 44100;
        float *out_block = calloc(5 * 128, sizeof *out_block);
        float silence[128] = {0};
        const float *in[2] = {silence, silence};
        float *out[5] = {out_block, out_block + 128, out_block + 256, out_block + 384,
                         out_block + 512};
        counting = 1;
        for (int done = 0; done < n_frames; done += 128)
            st_program_process(p, in, out, 128);
        counting = 0;
        CHECK("process allocates nothing", n_allocations == 0, "%d allocations in 345 blocks",
              n_allocations);
        free(out_block);
    }
    st_program_free(p);

    /* alignment: with compensation, (a + a') / 2 = a delayed by the latency */
    p = st_program_compile(g, 100, 44100, error, sizeof error);
    y = render(p, 44100, 100);
    st_value *x = st_graph_eval(g, st_node_input(a, 0));
    double worst = 0;
    const int lat = 1023 + 15 * 256; /* all outputs are as late as the latest */
    for (int t = lat + 1024; t < 40000; t++) {
        double e = fabs(y[t] - x->u.audio.channel[0][t - lat]);
        if (e > worst) worst = e;
    }
    CHECK("latency compensation aligns a and istft(stft(a))", worst < 1e-6, "max error %g", worst);
    double natural_step = 0;
    for (int t = lat + 1; t < 44100; t++)
        natural_step = fmax(natural_step, fabs(y[t] - y[t - 1]));
    free(y);

    /* a live gain change ramps over smooth_ms: no step larger than the ramp's */
    st_program_set(p, halved, "factor", 0.0);
    const int settle = lat - 1023 + 441 + 100; /* the output delay, the ramp, a block */
    y = render(p, settle + 4410, 100);
    double biggest = 0;
    for (int t = 1; t < settle + 4410; t++) {
        double jump = fabs(y[t] - y[t - 1]);
        if (jump > biggest) biggest = jump;
    }
    double tail = 0;
    for (int t = settle; t < settle + 4410; t++)
        tail = fmax(tail, fabs(y[t]));
    /* a click would be a step larger than the signal makes by itself */
    CHECK("a gain change ramps and settles", tail == 0 && biggest <= natural_step,
          "tail %g, biggest step %g (the signal's own: %g)", tail, biggest, natural_step);
    CHECK("an unknown live parameter is refused",
          st_program_set(p, halved, "smooth_ms", 1) == ST_ERR, "accepted");
    free(y);
    st_value_unref(x);
    st_program_free(p);
    st_graph_free(g);

    /* online REPET-SIM at its parameter extremes: nothing allocated while streaming */
    st_arg small[] = {{.name = "n_fft", .num = 16},
                      {.name = "hop", .num = 16},
                      {.name = "buffer_s", .num = 0.05},
                      {.name = "min_distance", .num = 0},
                      {.name = "max_repeating_frames", .num = 1}};
    st_arg large[] = {{.name = "n_fft", .num = 8192},
                      {.name = "hop", .num = 2048},
                      {.name = "buffer_s", .num = 30},
                      {.name = "min_distance", .num = 5},
                      {.name = "max_repeating_frames", .num = 4096},
                      {.name = "similarity_threshold", .num = -1},
                      {.name = "mask", .is_string = 1, .str = "hard"},
                      {.name = "start", .is_string = 1, .str = "full"}};
    const st_arg *extremes[2] = {small, large};
    const int n_args[2] = {5, 8}, n_fft[2] = {16, 8192};
    for (int e = 0; e < 2; e++) {
        g = st_graph_new();
        st_node *parts = node("repet_online", source(3), NULL, extremes[e], n_args[e]);
        st_ref bg = {parts, 0}, fg = {parts, 1};
        node("jack_out", st_graph_add(g, st_registry_find("gain"), &bg, 1, NULL, 0, "t"), NULL,
             NULL, 0);
        node("jack_out", st_graph_add(g, st_registry_find("gain"), &fg, 1, NULL, 0, "t"), NULL,
             NULL, 0);
        p = st_program_compile(g, 128, 44100, error, sizeof error);
        CHECK("repet_online compiles at its extremes", p != NULL, "%s", error);
        if (!p) continue;
        CHECK("repet_online latency is n_fft - 1", st_program_latency(p) == n_fft[e] - 1,
              "latency %d", st_program_latency(p));
        float out_block[4 * 128];
        float *out[4] = {out_block, out_block + 128, out_block + 256, out_block + 384};
        const float *in[1] = {NULL};
        n_allocations = 0;
        counting = 1;
        for (int done = 0; done < 3 * 44100; done += 128)
            st_program_process(p, in, out, 128);
        counting = 0;
        CHECK("repet_online allocates nothing while streaming", n_allocations == 0,
              "%d allocations (extreme %d)", n_allocations, e);
        st_program_free(p);
        st_graph_free(g);
    }
    test_carry_across_rates();
    test_extremes();
    return check_failures ? 1 : 0;
}
