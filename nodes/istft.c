/* istft: complex frames back to audio, exactly (window-sum normalised). */
#include "../vm/node.h"
#include "dsp/fft.h"
#include "dsp/stft.h"
#include "dsp/window.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>

static const st_param params[] = {
    {"length", ST_P_INT, .def = 0, .min = 0, .max = 1e12,
     .doc = "output length in samples; 0 gives the length of the signal the frames came from"},
    {NULL}};

static int istft_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p, st_value **out)
{
    (void)n_in;
    const st_spectrum *s = &in[0]->u.spectrum;
    int64_t length = (int64_t)st_num(p, "length");
    if (length == 0) length = s->length_samples;
    st_value *v = st_audio_new(s->n_channels, length, s->rate_hz);
    if (!v || st_istft_compute(s, &v->u.audio, ctx->n_threads)) {
        st_value_unref(v);
        return st_fail(ctx, "out of memory for %lld samples", (long long)length);
    }
    *out = v;
    return ST_OK;
}

/* ---- streaming: overlap-add into a ring, n_fft - 1 samples late ----
 * Output sample j is final once every frame covering it has arrived, which
 * is n_fft - 1 samples after sample j entered the matching stft. Frames are
 * added in the order and with the arithmetic of the offline inverse, so the
 * streamed output equals the offline one away from the signal's ends. */

/* Owned by the program. */
typedef struct {
    int n_channels, n_fft, hop, n_bins;
    int ring_mask;       /* ring size - 1, a power of two */
    float *ring;         /* n_channels x ring size, indexed by padded sample */
    float *synthesis;    /* window / n_fft */
    float *window_sum;   /* n_fft + hop: see sum_at */
    float *frame;        /* FFTW-aligned */
    float complex *bins; /* FFTW-aligned */
    const st_fft *fft;
    int64_t frames_in; /* frames received */
    int64_t next_out;  /* the next output sample, negative during the latency */
} istft_state;

/* The sum of squared windows at padded sample p of an endless stream: exact
 * for p < n_fft + hop, periodic with period hop beyond. */
static float sum_at(const istft_state *s, int64_t p)
{
    if (p >= s->n_fft) p = s->n_fft + (p - s->n_fft) % s->hop;
    return s->window_sum[p];
}

static void istft_close(void *state)
{
    istft_state *s = state;
    if (!s) return;
    free(s->ring);
    free(s->synthesis);
    free(s->window_sum);
    st_fft_free(s->frame);
    st_fft_free(s->bins);
    free(s);
}

static int istft_open(st_ctx *ctx, st_open *o, void **state)
{
    if (o->constant[0] || o->in[0].type != ST_SPECTRUM)
        return st_fail(ctx, "needs a streamed spectrum (from a streaming stft)");
    if (st_num(o->params, "length") != 0) return st_fail(ctx, "length has no meaning in a stream");
    const st_stream_format *f = &o->in[0];
    istft_state *s = calloc(1, sizeof *s);
    if (!s) return st_fail(ctx, "out of memory");
    s->n_channels = f->n_channels;
    s->n_fft = f->n_fft;
    s->hop = f->hop_samples;
    s->n_bins = f->n_bins;
    int ring = 1;
    while (ring < 2 * (s->n_fft + o->max_block))
        ring *= 2;
    s->ring_mask = ring - 1;
    s->next_out = -(int64_t)(s->n_fft - 1);
    s->ring = calloc((size_t)ring * (size_t)s->n_channels, sizeof *s->ring);
    s->synthesis = malloc((size_t)s->n_fft * sizeof *s->synthesis);
    s->window_sum = malloc((size_t)(s->n_fft + s->hop) * sizeof *s->window_sum);
    s->frame = st_fft_alloc((size_t)s->n_fft * sizeof *s->frame);
    s->bins = st_fft_alloc((size_t)s->n_bins * sizeof *s->bins);
    s->fft = st_fft_get(s->n_fft);
    if (!s->ring || !s->synthesis || !s->window_sum || !s->frame || !s->bins || !s->fft) {
        istft_close(s);
        return st_fail(ctx, "out of memory");
    }
    float *window = s->frame; /* scratch until the first frame */
    st_window_fill(f->window, s->n_fft, window);
    for (int p = 0; p < s->n_fft + s->hop; p++) {
        int lo = p - s->n_fft + 1 < 0 ? 0 : (p - s->n_fft + 1 + s->hop - 1) / s->hop;
        float sum = 0;
        for (int t = lo; t <= p / s->hop; t++)
            sum += window[p - t * s->hop] * window[p - t * s->hop];
        s->window_sum[p] = sum;
    }
    for (int i = 0; i < s->n_fft; i++)
        s->synthesis[i] = window[i] / (float)s->n_fft;
    o->out[0] = (st_stream_format){.type = ST_AUDIO,
                                   .n_channels = s->n_channels,
                                   .max_frames = o->max_block,
                                   .rate_hz = f->rate_hz};
    o->latency_samples = s->n_fft - 1;
    *state = s;
    return ST_OK;
}

/* Real-time safe: FFTW plans made at open, a ring allocated at open. */
static void istft_process(void *state, const st_block *const *in, st_block *out, int n)
{
    istft_state *s = state;
    const int ring_size = s->ring_mask + 1;
    for (int f = 0; f < in[0]->n_frames; f++, s->frames_in++) {
        int64_t start = s->frames_in * s->hop; /* padded index of the frame's first sample */
        for (int c = 0; c < s->n_channels; c++) {
            memcpy(s->bins,
                   in[0]->bins +
                       ((size_t)f * (size_t)s->n_channels + (size_t)c) * (size_t)s->n_bins,
                   (size_t)s->n_bins * sizeof *s->bins);
            st_fft_inverse(s->fft, s->bins, s->frame);
            float *ring = s->ring + (size_t)c * (size_t)ring_size;
            for (int i = 0; i < s->n_fft; i++)
                ring[(start + i) & s->ring_mask] += s->frame[i] * s->synthesis[i];
        }
    }
    for (int i = 0; i < n; i++) {
        int64_t j = s->next_out + i, p = j + s->n_fft / 2;
        float sum = p >= 0 ? sum_at(s, p) : 0;
        for (int c = 0; c < s->n_channels; c++) {
            float y = 0;
            if (p >= 0) {
                float *cell = &s->ring[(size_t)c * (size_t)ring_size + (size_t)(p & s->ring_mask)];
                y = *cell;
                *cell = 0;
                if (sum > FLT_MIN) y /= sum;
            }
            out->channel[c][i] = j >= 0 ? y : 0.0f;
        }
    }
    s->next_out += n;
    out->n_frames = n;
}

const st_node_type st_node_istft = {
    .name = "istft",
    .doc = "Inverse short-time Fourier transform by overlap-add, divided by the sum of squared "
           "windows: istft(stft(x)) gives x back to float precision.",
    .inputs = (const st_port[]){{"in", ST_SPECTRUM}, {NULL}},
    .outputs = (const st_port[]){{"out", ST_AUDIO}, {NULL}},
    .params = params,
    .run = istft_run,
    .open = istft_open,
    .process = istft_process,
    .close = istft_close,
    .stream_latency = "n_fft - 1",
    .stream_notes = "equals the offline inverse sample for sample away from the signal's ends",
};
