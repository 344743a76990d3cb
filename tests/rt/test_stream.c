/* Stream programs: the process path allocates nothing (counted by an
 * interposed allocator), latency compensation keeps paths aligned, and a
 * live gain change ramps instead of jumping.
 *
 * This binary replaces malloc, so it is not built under the sanitizers
 * (which replace it too). */
#include "../../nodes/dsp/fft.h"
#include "../../vm/stream.h"
#include "../unit/check.h"

#include <dlfcn.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int check_failures;

/* ---- counting allocator: forwards to glibc, counts while armed ---- */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
static volatile int counting, n_allocations;

void *malloc(size_t n)
{
    if (counting) n_allocations++;
    return __libc_malloc(n);
}
void *calloc(size_t n, size_t size)
{
    if (counting) n_allocations++;
    return __libc_calloc(n, size);
}
void *realloc(void *p, size_t n)
{
    if (counting) n_allocations++;
    return __libc_realloc(p, n);
}
void *memalign(size_t align, size_t n)
{
    if (counting) n_allocations++;
    return __libc_memalign(align, n);
}
void *aligned_alloc(size_t align, size_t n)
{
    if (counting) n_allocations++;
    return __libc_memalign(align, n);
}
int posix_memalign(void **p, size_t align, size_t n)
{
    if (counting) n_allocations++;
    *p = __libc_memalign(align, n);
    return *p ? 0 : 12;
}

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

int main(void)
{
    char error[1024];
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
    return 0;
}
