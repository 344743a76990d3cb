/* repet_online: REPET-SIM frame by frame over a buffer of past frames
 * (Rafii & Pardo 2013), as REPET-Python's simonline; streams in real time. */
#include "../vm/node.h"
#include "dsp/fft.h"
#include "dsp/repet.h"
#include "dsp/window.h"

#include <float.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const st_param params[] = {
    {"buffer_s", ST_P_NUMBER, .def = 10, .min = 0.05, .max = 120,
     .doc = "seconds of past frames among which each frame's repeating frames are sought"},
    {"min_distance", ST_P_NUMBER, .def = 1, .min = 0, .max = 60,
     .doc = "seconds between two repeating frames (counted in buffer slots, as REPET-Python)"},
    {"max_repeating_frames", ST_P_INT, .def = 100, .min = 1, .max = 4096,
     .doc = "repeating frames per frame, at most (the most similar local maxima)"},
    {"similarity_threshold", ST_P_NUMBER, .def = 0, .min = -1, .max = 1,
     .doc = "least cosine similarity of a repeating frame"},
    {"high_pass_hz", ST_P_NUMBER, .def = 100, .min = 0, .max = 100000,
     .doc = "bins 1 to round(high_pass_hz x n_fft / rate) go to the background (REPET-Python "
            "leaves bin 0)"},
    {"mask", ST_P_STRING, .def_str = "soft", .choices = "soft|hard",
     .doc = "soft: (min(model, |X|) + eps) / (|X| + eps); hard: 1 where that is at least "
            "threshold"},
    {"threshold", ST_P_NUMBER, .def = 0.5, .min = 0, .max = 1,
     .doc = "hard masks: the soft value from which a bin is background"},
    {"n_fft", ST_P_INT, .def = 0, .min = 0, .max = 16384,
     .doc = "frame length; 0 takes 2^ceil(log2(0.04 s x rate)) (2048 at 44.1 and 48 kHz)"},
    {"hop", ST_P_INT, .def = 0, .min = 0, .max = 16384, .doc = "hop; 0 takes n_fft / 2"},
    {"window", ST_P_STRING, .def_str = "hamming", .choices = "hamming|hann|sqrt_hann",
     .doc = "analysis window (periodic); the overlap-add divides by the windows' sum"},
    {"start", ST_P_STRING, .def_str = "at_once", .choices = "at_once|full",
     .doc = "at_once: separate from the first frame with the frames heard so far; full: silence "
            "until the buffer is full, as REPET-Python"},
    {NULL}};

static int online_check(st_ctx *ctx, const st_params *p)
{
    int n_fft = st_int(p, "n_fft"), hop = st_int(p, "hop");
    if (n_fft && (n_fft < 16 || n_fft % 2))
        return st_fail(ctx, "parameter n_fft = %d must be even and at least 16", n_fft);
    if (n_fft && hop > n_fft)
        return st_fail(ctx, "parameter hop = %d is larger than n_fft = %d", hop, n_fft);
    return ST_OK;
}

/* ---- the separator: one frame in, one masked frame out ----
 * Owned by the node (offline run or stream state); every buffer is made by
 * online_new, so online_frame allocates nothing. */
typedef struct {
    int n_channels, n_fft, hop, n_bins;
    int n_slots, distance, n_peaks, cutoff_bin, hard, wait_full;
    float threshold, mask_threshold;
    int64_t n_frames; /* frames seen */
    float *window;
    float *mag;             /* n_channels x n_slots x n_bins: the buffer */
    float *mean;            /* n_slots x n_bins: mean magnitude over channels */
    float *norm;            /* n_slots: its Euclidean norm */
    float *similarity;      /* n_slots */
    int *peaks;             /* n_slots */
    const float **rows;     /* n_peaks */
    float *model, *frame;   /* n_bins; n_fft (FFTW-aligned) */
    float complex *bins;    /* n_channels x bins_stride (FFTW-aligned, each channel too) */
    int bins_stride;        /* n_bins rounded up to 8 (64 bytes) */
    float *ola_norm;        /* hop: the sum of the windows at each position */
    st_rows_median *median; /* n_peaks rows */
    const st_fft *fft;
} online;

static void online_free(online *s)
{
    if (!s) return;
    free(s->window);
    free(s->mag);
    free(s->mean);
    free(s->norm);
    free(s->similarity);
    free(s->peaks);
    free(s->rows);
    free(s->model);
    st_fft_free(s->frame);
    st_fft_free(s->bins);
    free(s->ola_norm);
    st_rows_median_free(s->median);
    free(s);
}

/* The frame length and hop these parameters give at this rate. */
static void sizes(const st_params *p, double rate_hz, int *n_fft, int *hop)
{
    *n_fft = st_int(p, "n_fft") ? st_int(p, "n_fft") : 1 << (int)ceil(log2(0.04 * rate_hz));
    *hop = st_int(p, "hop") ? st_int(p, "hop") : *n_fft / 2;
}

/* The buffer must fit: at most 2^28 magnitudes (1 GB). Writes the reason. */
static int too_large(const st_params *p, int n_channels, double rate_hz, char *why, size_t size)
{
    int n_fft, hop;
    sizes(p, rate_hz, &n_fft, &hop);
    double slots = rint(st_num(p, "buffer_s") * rate_hz / hop);
    double values = slots * (n_fft / 2 + 1) * (n_channels + 1);
    if (values <= (double)(1 << 28)) return 0;
    snprintf(why, size,
             "buffer_s = %g s holds %.0f frames of %d bins per channel: more than 2^28 values "
             "(a shorter buffer, or a larger hop)",
             st_num(p, "buffer_s"), slots, n_fft / 2 + 1);
    return 1;
}

static online *online_new(const st_params *p, int n_channels, double rate_hz)
{
    online *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->n_channels = n_channels;
    sizes(p, rate_hz, &s->n_fft, &s->hop);
    s->n_bins = s->n_fft / 2 + 1;
    /* REPET-Python: round(buffer * rate / step) slots, round(distance * rate / step) */
    s->n_slots = (int)rint(st_num(p, "buffer_s") * rate_hz / s->hop);
    if (s->n_slots < 2) s->n_slots = 2;
    s->distance = (int)rint(st_num(p, "min_distance") * rate_hz / s->hop);
    s->n_peaks = st_int(p, "max_repeating_frames");
    s->cutoff_bin = (int)rint(st_num(p, "high_pass_hz") * s->n_fft / rate_hz);
    s->threshold = (float)st_num(p, "similarity_threshold");
    s->hard = st_choice(p, "mask") == 1;
    s->mask_threshold = (float)st_num(p, "threshold");
    s->wait_full = st_choice(p, "start") == 1;
    const size_t slots = (size_t)s->n_slots, n_bins = (size_t)s->n_bins;
    s->window = malloc((size_t)s->n_fft * sizeof *s->window);
    s->mag = calloc((size_t)n_channels * slots * n_bins, sizeof *s->mag);
    s->mean = calloc(slots * n_bins, sizeof *s->mean);
    s->norm = calloc(slots, sizeof *s->norm);
    s->similarity = malloc(slots * sizeof *s->similarity);
    s->peaks = malloc(slots * sizeof *s->peaks);
    s->rows = malloc((size_t)s->n_peaks * sizeof *s->rows);
    s->model = malloc(n_bins * sizeof *s->model);
    s->frame = st_fft_alloc((size_t)s->n_fft * sizeof *s->frame);
    s->bins_stride = (s->n_bins + 7) / 8 * 8;
    s->bins = st_fft_alloc((size_t)n_channels * (size_t)s->bins_stride * sizeof *s->bins);
    s->ola_norm = calloc((size_t)s->hop, sizeof *s->ola_norm);
    s->median = st_rows_median_new(s->n_peaks < s->n_slots ? s->n_peaks : s->n_slots);
    s->fft = st_fft_get(s->n_fft);
    if (!s->window || !s->mag || !s->mean || !s->norm || !s->similarity || !s->peaks || !s->rows ||
        !s->model || !s->frame || !s->bins || !s->ola_norm || !s->median || !s->fft) {
        online_free(s);
        return NULL;
    }
    static const st_window windows[] = {ST_WINDOW_HAMMING, ST_WINDOW_HANN, ST_WINDOW_SQRT_HANN};
    st_window_fill(windows[st_choice(p, "window")], s->n_fft, s->window);
    for (int i = 0; i < s->n_fft; i++)
        s->ola_norm[i % s->hop] += s->window[i];
    return s;
}

/* The local maxima of the similarities as REPET-Python's _localmaxima: at
 * least the threshold and strictly above every value within distance slots
 * (a NaN, a silent slot, is above nothing and nothing is above it), the
 * largest n_peaks of them. Slots past `filled` do not exist yet. */
static int local_maxima(online *s, int filled)
{
    const float *v = s->similarity;
    int n = 0;
    for (int i = 0; i < filled; i++) {
        if (!(v[i] >= s->threshold)) continue;
        int lo = i - s->distance < 0 ? 0 : i - s->distance;
        int hi = i + s->distance + 1 > filled ? filled : i + s->distance + 1;
        int is_max = 1;
        for (int j = lo; j < hi && is_max; j++)
            if (j != i && !(v[i] > v[j])) is_max = 0;
        if (is_max) s->peaks[n++] = i;
    }
    /* the largest first (insertion sort: a few dozen at most) */
    for (int i = 1; i < n; i++) {
        int x = s->peaks[i], j = i;
        while (j > 0 && v[s->peaks[j - 1]] < v[x]) {
            s->peaks[j] = s->peaks[j - 1];
            j--;
        }
        s->peaks[j] = x;
    }
    return n < s->n_peaks ? n : s->n_peaks;
}

/* Takes frame t of every channel (x[c] points at its n_fft samples) into the
 * buffer and writes the background of each channel's frame (the masked
 * inverse FFT, not yet divided by ola_norm) to out[c]; *separated is 0 while
 * REPET-Python would still be filling its buffer (out untouched). */
static void online_frame(online *s, const float *const *x, float *const *out, int *separated)
{
    const int n_bins = s->n_bins, slot = (int)(s->n_frames % s->n_slots);
    const size_t plane = (size_t)s->n_slots * (size_t)n_bins;
    float *mean = s->mean + (size_t)slot * (size_t)n_bins;
    memset(mean, 0, (size_t)n_bins * sizeof *mean);
    for (int c = 0; c < s->n_channels; c++) {
        for (int i = 0; i < s->n_fft; i++)
            s->frame[i] = x[c][i] * s->window[i];
        float complex *b = s->bins + (size_t)c * (size_t)s->bins_stride;
        st_fft_forward(s->fft, s->frame, b);
        float *m = s->mag + (size_t)c * plane + (size_t)slot * (size_t)n_bins;
        for (int k = 0; k < n_bins; k++) {
            m[k] = cabsf(b[k]);
            mean[k] += m[k] / (float)s->n_channels;
        }
    }
    double sq = 0;
    for (int k = 0; k < n_bins; k++)
        sq += (double)mean[k] * mean[k];
    s->norm[slot] = (float)sqrt(sq);
    s->n_frames++;
    int filled = s->n_frames < s->n_slots ? (int)s->n_frames : s->n_slots;
    if (s->wait_full && s->n_frames < s->n_slots) {
        *separated = 0;
        return;
    }
    *separated = 1;

    /* cosine similarity of every slot with this one (NaN for silence, as numpy's 0/0) */
    for (int j = 0; j < filled; j++) {
        const float *u = s->mean + (size_t)j * (size_t)n_bins;
        float acc[8] = {0};
        int k = 0;
        for (; k + 8 <= n_bins; k += 8)
            for (int l = 0; l < 8; l++)
                acc[l] += u[k + l] * mean[k + l];
        float dot =
            ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
        for (; k < n_bins; k++)
            dot += u[k] * mean[k];
        float den = s->norm[j] * s->norm[slot];
        s->similarity[j] = den > 0 ? dot / den : NAN;
    }
    int n = local_maxima(s, filled);

    for (int c = 0; c < s->n_channels; c++) {
        const float *cur = s->mag + (size_t)c * plane + (size_t)slot * (size_t)n_bins;
        if (n > 0) {
            for (int i = 0; i < n; i++)
                s->rows[i] = s->mag + (size_t)c * plane + (size_t)s->peaks[i] * (size_t)n_bins;
            st_rows_median_run(s->median, s->rows, n, n_bins, s->model);
        } else { /* nothing alike (a silent frame): all background, as 0 x anything */
            memcpy(s->model, cur, (size_t)n_bins * sizeof *s->model);
        }
        float complex *b = s->bins + (size_t)c * (size_t)s->bins_stride;
        for (int k = 0; k < n_bins; k++) {
            const float eps = (float)DBL_EPSILON;
            float m = s->model[k] < cur[k] ? s->model[k] : cur[k];
            float mask = (m + eps) / (cur[k] + eps);
            if (k >= 1 && k <= s->cutoff_bin) mask = 1.0f;
            if (s->hard) mask = mask >= s->mask_threshold ? 1.0f : 0.0f;
            b[k] *= mask / (float)s->n_fft; /* FFTW's inverse is unnormalised */
        }
        st_fft_inverse(s->fft, b, s->frame); /* FFTW's alignment, then out */
        memcpy(out[c], s->frame, (size_t)s->n_fft * sizeof *s->frame);
    }
}

/* ---- offline: the whole signal, frame by frame ---- */

static int online_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p,
                      st_value **out)
{
    (void)n_in;
    extern const st_node_type st_node_repet_online;
    const st_audio *a = &in[0]->u.audio;
    char why[256];
    if (too_large(p, a->n_channels, a->rate_hz, why, sizeof why)) return st_fail(ctx, "%s", why);
    online *s = online_new(p, a->n_channels, a->rate_hz);
    if (!s) return st_fail(ctx, "out of memory");
    const int n_fft = s->n_fft, hop = s->hop, n_ch = a->n_channels;
    /* REPET-Python's frames: ceil((N - n_fft) / hop + 1), zeros past the end */
    int64_t n_frames = a->n_frames <= n_fft ? 1 : (a->n_frames - n_fft + hop - 1) / hop + 1;
    int64_t padded = (n_frames - 1) * hop + n_fft;
    st_value *fields[2] = {st_audio_new(n_ch, a->n_frames, a->rate_hz),
                           st_audio_new(n_ch, a->n_frames, a->rate_hz)};
    float *acc = calloc((size_t)n_ch * (size_t)padded, sizeof *acc);
    float *frames = malloc(2 * (size_t)n_ch * (size_t)n_fft * sizeof *frames);
    const float *x[64];
    float *y[64];
    int status = ST_ERR;
    if (n_ch > 64) {
        status = st_fail(ctx, "%d channels: 64 at most", n_ch);
        goto done;
    }
    if (!fields[0] || !fields[1] || !acc || !frames) {
        status = st_fail(ctx, "out of memory");
        goto done;
    }
    for (int64_t t = 0; t < n_frames; t++) {
        int64_t start = t * hop;
        for (int c = 0; c < n_ch; c++) {
            float *f = frames + (size_t)c * (size_t)n_fft;
            int64_t n = a->n_frames - start < n_fft ? a->n_frames - start : n_fft;
            memcpy(f, a->channel[c] + start, (size_t)(n > 0 ? n : 0) * sizeof *f);
            if (n < n_fft)
                memset(f + (n > 0 ? n : 0), 0, (size_t)(n_fft - (n > 0 ? n : 0)) * sizeof *f);
            x[c] = f;
            y[c] = frames + ((size_t)n_ch + (size_t)c) * (size_t)n_fft;
        }
        int separated;
        online_frame(s, x, y, &separated);
        if (separated)
            for (int c = 0; c < n_ch; c++)
                for (int i = 0; i < n_fft; i++)
                    acc[(size_t)c * (size_t)padded + (size_t)(start + i)] += y[c][i];
        st_progress(ctx, (double)(t + 1) / (double)n_frames);
    }
    for (int c = 0; c < n_ch; c++)
        for (int64_t i = 0; i < a->n_frames; i++) {
            float b = acc[(size_t)c * (size_t)padded + (size_t)i] / s->ola_norm[i % hop];
            fields[0]->u.audio.channel[c][i] = b;
            fields[1]->u.audio.channel[c][i] = a->channel[c][i] - b;
        }
    *out = st_record_of_outputs(&st_node_repet_online, fields);
    status = *out ? ST_OK : st_fail(ctx, "out of memory");
done:
    st_value_unref(fields[0]);
    st_value_unref(fields[1]);
    free(acc);
    free(frames);
    online_free(s);
    return status;
}

/* ---- streaming ----
 * The input's last n_fft samples are kept in a ring; when frame f is
 * complete (sample f * hop + n_fft - 1 arrived) it is separated and added
 * into an output ring. Output sample i is final once frame floor(i / hop) is
 * in, at most n_fft - 1 samples later: the latency, the same for every sample. */

/* Owned by the program. */
typedef struct {
    online *s;
    int n_channels, n_fft, hop;
    int64_t n_in;     /* input samples seen */
    float *history;   /* n_channels x n_fft: a ring, sample t at t % n_fft */
    float *delay;     /* n_channels x (n_fft - 1): the input, n_fft - 1 samples late */
    float *ring;      /* n_channels x ring_len: overlap-added background */
    float *ordered;   /* n_channels x n_fft: the frame in order */
    float *frame_out; /* n_channels x n_fft */
    int ring_len;     /* a power of two, at least n_fft */
} stream_state;

static void online_close(void *state)
{
    stream_state *st = state;
    if (!st) return;
    online_free(st->s);
    free(st->history);
    free(st->delay);
    free(st->ring);
    free(st->ordered);
    free(st->frame_out);
    free(st);
}

static int online_open(st_ctx *ctx, st_open *o, void **state)
{
    if (st_open_audio_inputs(ctx, o)) return ST_ERR;
    stream_state *st = calloc(1, sizeof *st);
    if (!st) return st_fail(ctx, "out of memory");
    const int n_ch = o->in[0].n_channels;
    char why[256];
    if (n_ch > 64 || too_large(o->params, n_ch, o->in[0].rate_hz, why, sizeof why)) {
        free(st);
        return n_ch > 64 ? st_fail(ctx, "%d channels: 64 at most", n_ch) : st_fail(ctx, "%s", why);
    }
    st->s = online_new(o->params, n_ch, o->in[0].rate_hz);
    if (st->s) {
        st->n_channels = n_ch;
        st->n_fft = st->s->n_fft;
        st->hop = st->s->hop;
        st->ring_len = 1;
        while (st->ring_len < st->n_fft)
            st->ring_len *= 2;
        st->history = calloc((size_t)n_ch * (size_t)st->n_fft, sizeof *st->history);
        st->delay = calloc((size_t)n_ch * (size_t)st->n_fft, sizeof *st->delay);
        st->ring = calloc((size_t)n_ch * (size_t)st->ring_len, sizeof *st->ring);
        st->ordered = malloc((size_t)n_ch * (size_t)st->n_fft * sizeof *st->ordered);
        st->frame_out = malloc((size_t)n_ch * (size_t)st->n_fft * sizeof *st->frame_out);
    }
    if (!st->s || !st->history || !st->delay || !st->ring || !st->ordered || !st->frame_out) {
        online_close(st);
        return st_fail(ctx, "out of memory");
    }
    o->out[0] = o->in[0];
    o->out[1] = o->in[0];
    o->latency_samples = st->n_fft - 1;
    *state = st;
    return ST_OK;
}

/* A frame has completed at input sample t: separate it into the output ring. */
static void stream_frame(stream_state *st, int64_t start)
{
    const int n_fft = st->n_fft, first = (int)(start % n_fft), ring_mask = st->ring_len - 1;
    const float *x[64];
    float *y[64];
    for (int c = 0; c < st->n_channels; c++) {
        const float *h = st->history + (size_t)c * (size_t)n_fft;
        float *f = st->ordered + (size_t)c * (size_t)n_fft;
        memcpy(f, h + first, (size_t)(n_fft - first) * sizeof *f);
        memcpy(f + (n_fft - first), h, (size_t)first * sizeof *f);
        x[c] = f;
        y[c] = st->frame_out + (size_t)c * (size_t)n_fft;
    }
    int separated;
    online_frame(st->s, x, y, &separated);
    if (!separated) return;
    for (int c = 0; c < st->n_channels; c++) {
        float *r = st->ring + (size_t)c * (size_t)st->ring_len;
        for (int k = 0; k < n_fft; k++)
            r[(start + k) & ring_mask] += y[c][k];
    }
}

/* Real-time safe: FFTW plans, sorting networks and buffers were made at open. */
static void online_process(void *state, const st_block *const *in, st_block *out, int n)
{
    stream_state *st = state;
    const int n_fft = st->n_fft, late_len = n_fft - 1, ring_mask = st->ring_len - 1;
    for (int i = 0; i < n; i++, st->n_in++) {
        const int64_t t = st->n_in;
        for (int c = 0; c < st->n_channels; c++)
            st->history[(size_t)c * (size_t)n_fft + (size_t)(t % n_fft)] = in[0]->channel[c][i];
        const int64_t start = t + 1 - n_fft; /* of the frame that ends here, if any */
        if (start >= 0 && start % st->hop == 0) stream_frame(st, start);
        const int64_t out_i = t - late_len; /* final now: no later frame reaches it */
        const int at = (int)(t % late_len);
        for (int c = 0; c < st->n_channels; c++) {
            float *d = st->delay + (size_t)c * (size_t)n_fft;
            float x_late = late_len ? d[at] : in[0]->channel[c][i];
            if (late_len) d[at] = in[0]->channel[c][i];
            float b = 0;
            if (out_i >= 0) {
                float *slot =
                    &st->ring[(size_t)c * (size_t)st->ring_len + (size_t)(out_i & ring_mask)];
                b = *slot / st->s->ola_norm[out_i % st->hop];
                *slot = 0;
            }
            out[0].channel[c][i] = b;
            out[1].channel[c][i] = x_late - b;
        }
    }
    out[0].n_frames = n;
    out[1].n_frames = n;
}

const st_node_type st_node_repet_online = {
    .name = "repet_online",
    .doc = "Online REPET-SIM (Rafii & Pardo 2013) as REPET-Python's simonline, offline or "
           "streaming: each frame (Hamming 2048 / 1024 at 44.1 kHz) is compared with the frames "
           "of the last buffer_s seconds (cosine similarity of the channels' mean magnitude); its "
           "repeating frames are the most similar local maxima, at least min_distance apart; the "
           "model is their median magnitude, the mask compares min(model, |X|) with |X|, and the "
           "frames are overlap-added (no synthesis window) over the windows' sum. Outputs "
           "background and foreground audio (input - background). Streams with a latency of "
           "n_fft - 1 samples; a render equals the offline result delayed by that.",
    .inputs = (const st_port[]){{"in", ST_AUDIO}, {NULL}},
    .outputs = (const st_port[]){{"background", ST_AUDIO}, {"foreground", ST_AUDIO}, {NULL}},
    .params = params,
    .check = online_check,
    .run = online_run,
    .open = online_open,
    .stream_latency = "n_fft - 1",
    .stream_notes = "online REPET-SIM (doc/repet.md); equals the offline node delayed, but for the "
                    "last hop of a file",
    .process = online_process,
    .close = online_close,
};
