/* hpss: harmonic/percussive separation by median filtering (Fitzgerald 2010)
 * with Driedger's margins (2014), as librosa.decompose.hpss computes it. */
#include "../vm/node.h"
#include "../vm/parallel.h"
#include "dsp/masks.h"
#include "dsp/median.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const st_param params[] = {
    {"kernel", ST_P_INT, .def = 31, .min = 1, .max = 4095,
     .doc = "median filter length for both directions (frames and bins)"},
    {"kernel_h", ST_P_INT, .def = 0, .min = 0, .max = 4095,
     .doc = "harmonic filter length in frames (along time); 0 takes kernel"},
    {"kernel_p", ST_P_INT, .def = 0, .min = 0, .max = 4095,
     .doc = "percussive filter length in bins (along frequency); 0 takes kernel"},
    {"kernel_h_s", ST_P_NUMBER, .def = 0, .min = 0, .max = 60,
     .doc = "harmonic filter length in seconds (FMP's L_h, rounded up to odd frames); overrides "
            "kernel_h"},
    {"kernel_p_hz", ST_P_NUMBER, .def = 0, .min = 0, .max = 100000,
     .doc =
         "percussive filter length in Hz (FMP's L_p, rounded up to odd bins); overrides kernel_p"},
    {"margin", ST_P_NUMBER, .def = 1, .min = 1, .max = 100,
     .doc = "margin for both masks (Driedger); above 1 leaves a residual"},
    {"margin_h", ST_P_NUMBER, .def = 0, .min = 0, .max = 100,
     .doc = "harmonic margin; 0 takes margin"},
    {"margin_p", ST_P_NUMBER, .def = 0, .min = 0, .max = 100,
     .doc = "percussive margin; 0 takes margin"},
    {"power", ST_P_NUMBER, .def = 2, .min = 0.01, .max = 1000, .doc = "soft mask exponent"},
    {"mask", ST_P_STRING, .def_str = "soft", .choices = "soft|hard",
     .doc = "soft: X^p / (X^p + ref^p); hard: X > ref (ties to the reference)"},
    {"lookahead", ST_P_INT, .def = -1, .min = -1, .max = 4096,
     .doc = "streaming: frames of lookahead for the harmonic median (0 = causal); -1 takes half "
            "the kernel, which gives the offline result"},
    {NULL}};

static int odd_at_least(double x)
{
    int n = (int)ceil(x);
    return n % 2 ? n : n + 1;
}

/* The settings both forms use, resolved from the parameters once. */
typedef struct {
    int kernel_h, kernel_p; /* frames, bins (odd when given in seconds or Hz) */
    float margin_h, margin_p, power;
    int split_zeros; /* both margins 1: librosa splits empty bins 0.5 / 0.5 */
} hpss_settings;

static hpss_settings resolve(const st_params *p, double rate_hz, int hop_samples, int n_fft)
{
    hpss_settings s;
    s.kernel_h = st_int(p, "kernel_h") ? st_int(p, "kernel_h") : st_int(p, "kernel");
    s.kernel_p = st_int(p, "kernel_p") ? st_int(p, "kernel_p") : st_int(p, "kernel");
    if (st_num(p, "kernel_h_s") > 0)
        s.kernel_h = odd_at_least(st_num(p, "kernel_h_s") * rate_hz / hop_samples);
    if (st_num(p, "kernel_p_hz") > 0)
        s.kernel_p = odd_at_least(st_num(p, "kernel_p_hz") * n_fft / rate_hz);
    s.margin_h = (float)(st_num(p, "margin_h") ? st_num(p, "margin_h") : st_num(p, "margin"));
    s.margin_p = (float)(st_num(p, "margin_p") ? st_num(p, "margin_p") : st_num(p, "margin"));
    s.power = st_choice(p, "mask") == 1 ? INFINITY : (float)st_num(p, "power");
    s.split_zeros = s.margin_h == 1 && s.margin_p == 1;
    return s;
}

static int hpss_check(st_ctx *ctx, const st_params *p)
{
    double mh = st_num(p, "margin_h"), mp = st_num(p, "margin_p");
    if ((mh != 0 && mh < 1) || (mp != 0 && mp < 1))
        return st_fail(ctx, "margins must be at least 1 (margin_h = %g, margin_p = %g)", mh, mp);
    return ST_OK;
}

typedef struct {
    const st_spectrum *s;
    float *mag;         /* channels x frames x bins */
    float *harm, *perc; /* filtered, same layout */
    int kernel_h, kernel_p;
    int64_t n_rows; /* frames of every channel */
    int failed;
} filter_job;

/* Percussive: a median across bins, eight frames at a time (one per lane). */
static void filter_freq(void *ctx, int64_t begin, int64_t end)
{
    filter_job *j = ctx;
    const int n_bins = j->s->n_bins;
    st_median *m = st_median_new(n_bins, j->kernel_p);
    if (!m) {
        j->failed = 1;
        return;
    }
    for (int64_t f = begin * 8; f < end * 8 && f < j->n_rows; f += 8) {
        int lanes = j->n_rows - f < 8 ? (int)(j->n_rows - f) : 8;
        st_median_lanes(m, j->mag + (size_t)f * n_bins, 1, n_bins, n_bins, lanes,
                        j->perc + (size_t)f * n_bins);
    }
    st_median_free(m);
}

/* Harmonic: a median across frames, for eight neighbouring bins at a time. */
static void filter_time(void *ctx, int64_t begin, int64_t end)
{
    filter_job *j = ctx;
    const int n_bins = j->s->n_bins, blocks = (n_bins + 7) / 8;
    const int64_t n_frames = j->s->n_frames;
    st_median *m = st_median_new((int)n_frames, j->kernel_h);
    if (!m) {
        j->failed = 1;
        return;
    }
    for (int64_t item = begin; item < end; item++) {
        int64_t c = item / blocks;
        int b0 = (int)(item % blocks) * 8, lanes = n_bins - b0 < 8 ? n_bins - b0 : 8;
        size_t base = (size_t)c * (size_t)n_frames * n_bins + (size_t)b0;
        st_median_lanes(m, j->mag + base, n_bins, 1, (int)n_frames, lanes, j->harm + base);
    }
    st_median_free(m);
}

enum { TILE = 16 }; /* bins per gather in the streaming form: one cache line of each frame */

typedef struct {
    const st_spectrum *s;
    const float *harm, *perc;
    st_spectrum *out_h, *out_p, *out_r;
    float *masks; /* 3 x n */
    hpss_settings set;
    size_t n;
} mask_job;

/* The two masks of one bin from its filtered values, as librosa makes them. */
static void masks_of(const hpss_settings *set, float harm, float perc, float *mh, float *mp)
{
    *mh = st_softmask(harm, perc * set->margin_h, set->power, set->split_zeros);
    *mp = st_softmask(perc, harm * set->margin_p, set->power, set->split_zeros);
}

/* With both margins 1 the residual is zero (up to rounding) and is left so:
 * untouched pages of a fresh value cost nothing. */
static void apply_masks(void *ctx, int64_t begin, int64_t end)
{
    mask_job *j = ctx;
    const int residual = !j->set.split_zeros;
    for (int64_t i = begin; i < end; i++) {
        float mh, mp;
        masks_of(&j->set, j->harm[i], j->perc[i], &mh, &mp);
        float complex x = j->s->data[i];
        j->out_h->data[i] = x * mh;
        j->out_p->data[i] = x * mp;
        j->masks[i] = mh; /* in place of harm[i] and perc[i], read above */
        j->masks[j->n + i] = mp;
        if (residual) {
            j->masks[2 * j->n + i] = 1.0f - mh - mp;
            j->out_r->data[i] = x * (1.0f - mh - mp);
        }
    }
}

static void magnitudes(void *ctx, int64_t begin, int64_t end)
{
    filter_job *j = ctx;
    for (int64_t i = begin; i < end; i++)
        j->mag[i] = cabsf(j->s->data[i]);
}

extern const st_node_type st_node_hpss;

static int hpss_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p, st_value **out)
{
    (void)n_in;
    const st_spectrum *s = &in[0]->u.spectrum;
    const size_t n = (size_t)s->n_channels * (size_t)s->n_frames * (size_t)s->n_bins;
    const hpss_settings set = resolve(p, s->rate_hz, s->hop_samples, s->n_fft);
    /* No scratch of its own: the filters write into the harmonic and
     * percussive slots of the masks array and the magnitudes sit in the
     * harmonic output spectrum until the masks are applied. Fresh memory is
     * what a large spectrum costs most; the residual slot and spectrum stay
     * untouched (free zero pages) when both margins are 1. */
    int64_t shape[4] = {3, s->n_channels, s->n_frames, s->n_bins};
    static const char *const axes[] = {"mask", "channel", "time", "freq"};
    st_value *h = NULL, *pc = NULL, *r = NULL, *masks = st_array_new(4, shape, axes);
    int status = ST_OK;
    if (!masks) {
        status = st_fail(ctx, "out of memory");
        goto done;
    }
    h = st_spectrum_like(s);
    pc = st_spectrum_like(s);
    r = st_spectrum_like(s);
    if (!h || !pc || !r) {
        status = st_fail(ctx, "out of memory");
        goto done;
    }
    float *harm = masks->u.array.data, *perc = harm + n, *mag = (float *)h->u.spectrum.data;
    filter_job fj = {
        s, mag, harm, perc, set.kernel_h, set.kernel_p, (int64_t)s->n_channels * s->n_frames, 0};
    st_parallel_for(ctx->n_threads, (int64_t)n, magnitudes, &fj);
    int blocks = (s->n_bins + 7) / 8;
    st_parallel_for(ctx->n_threads, (fj.n_rows + 7) / 8, filter_freq, &fj);
    st_parallel_for(ctx->n_threads, (int64_t)s->n_channels * blocks, filter_time, &fj);
    if (fj.failed) {
        status = st_fail(ctx, "out of memory");
        goto done;
    }
    mask_job mj = {
        s,   harm, perc, &h->u.spectrum, &pc->u.spectrum, &r->u.spectrum, masks->u.array.data,
        set, n};
    st_parallel_for(ctx->n_threads, (int64_t)n, apply_masks, &mj);
    st_value *fields[4] = {h, pc, r, masks};
    if (!(*out = st_record_of_outputs(&st_node_hpss, fields)))
        status = st_fail(ctx, "out of memory");
done:
    st_value_unref(h), st_value_unref(pc), st_value_unref(r), st_value_unref(masks);
    return status;
}

/* ---- streaming: frame by frame ----
 * The percussive median needs only the current frame. The harmonic median of
 * frame t needs frames up to t + lookahead, so frame t leaves `lookahead`
 * frames late; zero frames keep the cadence meanwhile, so a downstream istft
 * sees one frame per frame in. With lookahead = kernel / 2 the window is the
 * offline one, reflected at the start as scipy reflects; a smaller lookahead
 * slides the window back (a causal median at 0). */

/* Owned by the program. */
typedef struct {
    int n_channels, n_bins, kernel_h, lookahead,
        before; /* window: frames t - before .. t - before + k - 1 */
    int depth;  /* frames kept: the window and the frame awaiting output */
    int64_t frames_in;
    float *mag;          /* depth rings of n_channels x n_bins */
    float *perc;         /* percussive medians, same rings */
    float complex *spec; /* input frames, same rings */
    float *column;       /* scratch: the k values of TILE bins, bin by bin */
    int *slot;           /* scratch: the ring slots of the k frames of the window */
    st_median *median;   /* the vertical filter */
    hpss_settings set;
} hpss_stream;

static void hpss_close(void *state)
{
    hpss_stream *h = state;
    if (!h) return;
    free(h->mag), free(h->perc), free(h->spec), free(h->column), free(h->slot);
    st_median_free(h->median);
    free(h);
}

static int hpss_open(st_ctx *ctx, st_open *o, void **state)
{
    if (o->constant[0] || o->in[0].type != ST_SPECTRUM)
        return st_fail(ctx, "streams a spectrum (from a streaming stft)");
    const st_params *p = o->params;
    const st_stream_format *f = &o->in[0];
    hpss_stream *h = calloc(1, sizeof *h);
    if (!h) return st_fail(ctx, "out of memory");
    h->set = resolve(p, f->rate_hz, f->hop_samples, f->n_fft);
    const int kh = h->set.kernel_h;
    h->n_channels = f->n_channels;
    h->n_bins = f->n_bins;
    h->kernel_h = kh;
    int after = kh - 1 - kh / 2; /* frames after t in the offline window */
    h->lookahead = st_int(p, "lookahead") < 0 ? after : st_int(p, "lookahead");
    if (h->lookahead > after) h->lookahead = after;
    h->before = kh - 1 - h->lookahead;
    h->depth = kh + 1;
    size_t frame = (size_t)h->n_channels * (size_t)h->n_bins;
    h->mag = calloc((size_t)h->depth * frame, sizeof *h->mag);
    h->perc = calloc((size_t)h->depth * frame, sizeof *h->perc);
    h->spec = calloc((size_t)h->depth * frame, sizeof *h->spec);
    h->column = malloc((size_t)kh * TILE * sizeof *h->column);
    h->slot = malloc((size_t)kh * sizeof *h->slot);
    h->median = st_median_new(h->n_bins, h->set.kernel_p);
    if (!h->mag || !h->perc || !h->spec || !h->column || !h->slot || !h->median) {
        hpss_close(h);
        return st_fail(ctx, "out of memory");
    }
    for (int q = 0; q < 3; q++)
        o->out[q] = *f;                /* harmonic, percussive, residual */
    o->out[3] = (st_stream_format){0}; /* masks do not stream */
    o->latency_samples = h->lookahead * f->hop_samples;
    *state = h;
    return ST_OK;
}

/* Real-time safe: rings and scratch allocated at open; no locks, no I/O. */
static void hpss_process(void *state, const st_block *const *in, st_block *out, int n)
{
    (void)n;
    hpss_stream *h = state;
    const int nb = h->n_bins, nc = h->n_channels, k = h->set.kernel_h;
    const size_t frame = (size_t)nc * (size_t)nb;
    for (int f = 0; f < in[0]->n_frames; f++, h->frames_in++) {
        const int64_t t_in = h->frames_in,
                      t = t_in - h->lookahead; /* t: the frame that leaves now */
        const size_t in_slot = (size_t)(t_in % h->depth) * frame;
        const float complex *x = in[0]->bins + (size_t)f * frame;
        float *mag = h->mag + in_slot;
        memcpy(h->spec + in_slot, x, frame * sizeof *x);
        for (size_t i = 0; i < frame; i++)
            mag[i] = cabsf(x[i]);
        /* the percussive median of this frame across bins: the channels are the lanes */
        for (int c0 = 0; c0 < nc; c0 += 8)
            st_median_lanes(h->median, mag + (size_t)c0 * nb, 1, nb, nb, nc - c0 < 8 ? nc - c0 : 8,
                            h->perc + in_slot + (size_t)c0 * nb);
        float complex *y[3] = {out[0].bins + (size_t)f * frame, out[1].bins + (size_t)f * frame,
                               out[2].bins + (size_t)f * frame};
        if (t < 0) { /* the lookahead is filling: empty frames keep the cadence */
            for (int q = 0; q < 3; q++)
                memset(y[q], 0, frame * sizeof *y[q]);
            continue;
        }
        /* the window's frames t - before ..., reflected before the start; the same for every bin */
        for (int j = 0; j < k; j++) {
            int64_t u = t - h->before + j;
            h->slot[j] = (int)((u < 0 ? -1 - u : u) % h->depth);
        }
        const size_t out_slot = (size_t)(t % h->depth) * frame;
        const float complex *xt = h->spec + out_slot;
        const float *pt = h->perc + out_slot;
        /* TILE bins at a time (i = channel * n_bins + bin): their k values are
         * gathered frame by frame, so that the ring is read in whole lines */
        for (size_t i0 = 0; i0 < frame; i0 += TILE) {
            const size_t n_tile = frame - i0 < TILE ? frame - i0 : TILE;
            for (int j = 0; j < k; j++) {
                const float *src = h->mag + (size_t)h->slot[j] * frame + i0;
                for (size_t b = 0; b < n_tile; b++)
                    h->column[b * (size_t)k + (size_t)j] = src[b];
            }
            for (size_t b = 0; b < n_tile; b++) {
                const size_t i = i0 + b;
                float mh, mp;
                masks_of(&h->set, st_select_kth(h->column + b * (size_t)k, k, k / 2), pt[i], &mh,
                         &mp);
                y[0][i] = xt[i] * mh;
                y[1][i] = xt[i] * mp;
                y[2][i] = h->set.split_zeros ? 0 : xt[i] * (1.0f - mh - mp);
            }
        }
    }
    for (int q = 0; q < 3; q++)
        out[q].n_frames = in[0]->n_frames;
}

const st_node_type st_node_hpss = {
    .name = "hpss",
    .doc =
        "Harmonic/percussive separation by median filtering the magnitude across time "
        "(harmonic) and across frequency (percussive), as librosa.decompose.hpss: soft or hard "
        "masks with Driedger's margins, applied to the complex spectrum. With a margin above 1 "
        "what is neither goes to the residual (with both margins 1 the residual is zero). "
        "masks holds the harmonic, percussive and residual masks (mask x channel x time x freq).",
    .inputs = (const st_port[]){{"in", ST_SPECTRUM}, {NULL}},
    .outputs = (const st_port[]){{"harmonic", ST_SPECTRUM},
                                 {"percussive", ST_SPECTRUM},
                                 {"residual", ST_SPECTRUM},
                                 {"masks", ST_ARRAY},
                                 {NULL}},
    .params = params,
    .check = hpss_check,
    .run = hpss_run,
    .open = hpss_open,
    .process = hpss_process,
    .close = hpss_close,
    .stream_latency = "lookahead x hop",
    .stream_notes =
        "`lookahead` frames (default: half the kernel, the offline window; 0 = causal); equals "
        "offline HPSS after the first n_fft samples; `masks` does not stream",
};
