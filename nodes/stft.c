/* stft: audio to complex frames (librosa's framing, FFTW plans). */
#include "../vm/budget.h"
#include "../vm/node.h"
#include "dsp/fft.h"
#include "dsp/stft.h"
#include "dsp/window.h"
#include "stft_framing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const st_param params[] = {
    {"n_fft", ST_P_INT, .def = 2048, .min = 16, .max = 65536,
     .doc = "frame length in samples (the window is as long)"},
    {"hop", ST_P_INT, .def = 0, .min = 0, .max = 65536,
     .doc = "samples between frames; 0 means n_fft / 4"},
    {"window", ST_P_STRING, .def_str = "hann", .choices = "hann|sqrt_hann|hamming",
     .doc = "analysis window (periodic)"},
    {"center", ST_P_BOOL, .def = 1,
     .doc = "pad n_fft / 2 zeros at both ends so that frame t is centred on sample t * hop"},
    {NULL}};

int st_stft_hop(const st_params *p)
{
    return st_int(p, "hop") ? st_int(p, "hop") : st_int(p, "n_fft") / 4;
}

int st_stft_check_framing(st_ctx *ctx, const st_params *p)
{
    if (st_int(p, "hop") > st_int(p, "n_fft"))
        return st_fail(ctx, "parameter hop = %d is larger than n_fft = %d", st_int(p, "hop"),
                       st_int(p, "n_fft"));
    /* hann and sqrt_hann are zero at a frame's first sample: without overlap the
     * squared windows sum to zero there and istft cannot give those samples back */
    if (st_int(p, "hop") == st_int(p, "n_fft") && st_choice(p, "window") != 2)
        return st_fail(ctx,
                       "hop = n_fft = %d with window = \"%s\": frames that do not overlap meet at "
                       "the window's zeros, so the inverse cannot be exact (use a smaller hop, or "
                       "window = \"hamming\")",
                       st_int(p, "n_fft"), st_str(p, "window"));
    return ST_OK;
}

static int stft_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p, st_value **out)
{
    (void)n_in;
    const st_audio *a = &in[0]->u.audio;
    int n_fft = st_int(p, "n_fft"), hop = st_stft_hop(p), center = st_int(p, "center");
    int64_t n_frames = st_stft_n_frames(a->n_frames, n_fft, hop, center);
    if (n_frames < 1)
        return st_fail(ctx,
                       "the audio (%lld samples) is shorter than n_fft = %d with center = false",
                       (long long)a->n_frames, n_fft);
    double bytes =
        (double)(n_fft / 2 + 1) * (double)n_frames * a->n_channels * sizeof(float complex);
    char what[160];
    snprintf(what, sizeof what, "the spectrum (hop = %d with n_fft = %d: %lld frames)", hop, n_fft,
             (long long)n_frames);
    if (st_memory_check(ctx, bytes, what, "raise hop")) return ST_ERR;
    st_value *v =
        st_spectrum_new(n_fft, hop, n_frames, a->n_channels, (st_window)st_choice(p, "window"),
                        center, a->rate_hz, a->n_frames);
    if (!v || st_stft_compute(a, &v->u.spectrum, ctx->n_threads)) {
        st_value_unref(v);
        return st_fail(ctx, "out of memory for %lld frames", (long long)n_frames);
    }
    *out = v;
    return ST_OK;
}

/* ---- streaming: frames as their last sample arrives ----
 * history holds the last n_fft samples of the centred (zero-padded) signal;
 * frame t is complete when n_fft / 2 + t * hop input samples have arrived,
 * which is when offline framing would see the same samples. */

/* Owned by the program. */
typedef struct {
    int n_channels, n_fft, hop, n_bins;
    int until_next; /* input samples until the next frame is complete */
    float *history; /* n_channels x n_fft */
    float *window;
    float *frame;        /* FFTW-aligned */
    float complex *bins; /* FFTW-aligned */
    const st_fft *fft;
} stft_state;

static void stft_close(void *state)
{
    stft_state *s = state;
    if (!s) return;
    free(s->history);
    free(s->window);
    st_fft_free(s->frame);
    st_fft_free(s->bins);
    free(s);
}

static int stft_open(st_ctx *ctx, st_open *o, void **state)
{
    if (st_open_audio_inputs(ctx, o)) return ST_ERR;
    if (!st_int(o->params, "center")) return st_fail(ctx, "streaming needs center = true");
    stft_state *s = calloc(1, sizeof *s);
    if (!s) return st_fail(ctx, "out of memory");
    s->n_channels = o->in[0].n_channels;
    s->n_fft = st_int(o->params, "n_fft");
    s->hop = st_stft_hop(o->params);
    s->n_bins = s->n_fft / 2 + 1;
    s->until_next = s->n_fft / 2;
    s->history = calloc((size_t)s->n_channels * (size_t)s->n_fft, sizeof *s->history);
    s->window = malloc((size_t)s->n_fft * sizeof *s->window);
    s->frame = st_fft_alloc((size_t)s->n_fft * sizeof *s->frame);
    s->bins = st_fft_alloc((size_t)s->n_bins * sizeof *s->bins);
    s->fft = st_fft_get(s->n_fft);
    if (!s->history || !s->window || !s->frame || !s->bins || !s->fft) {
        stft_close(s);
        return st_fail(ctx, "out of memory");
    }
    st_window_fill((st_window)st_choice(o->params, "window"), s->n_fft, s->window);
    o->out[0] = (st_stream_format){.type = ST_SPECTRUM,
                                   .n_channels = s->n_channels,
                                   .max_frames = o->max_block / s->hop + 2,
                                   .rate_hz = o->in[0].rate_hz,
                                   .n_fft = s->n_fft,
                                   .hop_samples = s->hop,
                                   .n_bins = s->n_bins,
                                   .window = (st_window)st_choice(o->params, "window")};
    *state = s;
    return ST_OK;
}

/* Real-time safe: moves samples and runs FFTW plans made at open. */
static void stft_process(void *state, const st_block *const *in, st_block *out, int n)
{
    stft_state *s = state;
    int n_out = 0;
    for (int pos = 0; pos < n;) {
        int chunk = n - pos < s->until_next ? n - pos : s->until_next;
        for (int c = 0; c < s->n_channels; c++) {
            float *h = s->history + (size_t)c * (size_t)s->n_fft;
            const float *x = in[0]->channel[c] + pos;
            if (chunk >= s->n_fft) {
                memcpy(h, x + chunk - s->n_fft, (size_t)s->n_fft * sizeof *h);
            } else {
                memmove(h, h + chunk, (size_t)(s->n_fft - chunk) * sizeof *h);
                memcpy(h + s->n_fft - chunk, x, (size_t)chunk * sizeof *h);
            }
        }
        pos += chunk;
        s->until_next -= chunk;
        if (s->until_next > 0) continue;
        s->until_next = s->hop;
        for (int c = 0; c < s->n_channels; c++) {
            const float *h = s->history + (size_t)c * (size_t)s->n_fft;
            for (int i = 0; i < s->n_fft; i++)
                s->frame[i] = h[i] * s->window[i];
            st_fft_forward(s->fft, s->frame, s->bins);
            memcpy(out->bins +
                       ((size_t)n_out * (size_t)s->n_channels + (size_t)c) * (size_t)s->n_bins,
                   s->bins, (size_t)s->n_bins * sizeof *s->bins);
        }
        n_out++;
    }
    out->n_frames = n_out;
}

const st_node_type st_node_stft = {
    .name = "stft",
    .doc = "Short-time Fourier transform: complex frames (bins x frames x channels) that remember "
           "everything istft needs to give the signal back exactly. Framing as librosa's stft "
           "with pad_mode constant.",
    .inputs = (const st_port[]){{"in", ST_AUDIO}, {NULL}},
    .outputs = (const st_port[]){{"out", ST_SPECTRUM}, {NULL}},
    .params = params,
    .check = st_stft_check_framing,
    .run = stft_run,
    .open = stft_open,
    .process = stft_process,
    .close = stft_close,
    .stream_latency = "0",
    .stream_notes = "emits a frame when its last sample arrives; `center = true` only",
};
