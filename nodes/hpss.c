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
    {"kernel", ST_P_INT, .def = 31, .min = 1, .max = 4095, .doc = "median filter length for both directions (frames and bins)"},
    {"kernel_h", ST_P_INT, .def = 0, .min = 0, .max = 4095, .doc = "harmonic filter length in frames (along time); 0 takes kernel"},
    {"kernel_p", ST_P_INT, .def = 0, .min = 0, .max = 4095, .doc = "percussive filter length in bins (along frequency); 0 takes kernel"},
    {"kernel_h_s", ST_P_NUMBER, .def = 0, .min = 0, .max = 60, .doc = "harmonic filter length in seconds (FMP's L_h, rounded up to odd frames); overrides kernel_h"},
    {"kernel_p_hz", ST_P_NUMBER, .def = 0, .min = 0, .max = 100000, .doc = "percussive filter length in Hz (FMP's L_p, rounded up to odd bins); overrides kernel_p"},
    {"margin", ST_P_NUMBER, .def = 1, .min = 1, .max = 100, .doc = "margin for both masks (Driedger); above 1 leaves a residual"},
    {"margin_h", ST_P_NUMBER, .def = 0, .min = 0, .max = 100, .doc = "harmonic margin; 0 takes margin"},
    {"margin_p", ST_P_NUMBER, .def = 0, .min = 0, .max = 100, .doc = "percussive margin; 0 takes margin"},
    {"power", ST_P_NUMBER, .def = 2, .min = 0.01, .max = 1000, .doc = "soft mask exponent"},
    {"mask", ST_P_STRING, .def_str = "soft", .choices = "soft|hard", .doc = "soft: X^p / (X^p + ref^p); hard: X > ref (ties to the reference)"},
    {NULL}};

static int odd_at_least(double x) { int n = (int)ceil(x); return n % 2 ? n : n + 1; }

static int hpss_check(const st_params *p, char *error, size_t size)
{
    double mh = st_num(p, "margin_h"), mp = st_num(p, "margin_p");
    if ((mh != 0 && mh < 1) || (mp != 0 && mp < 1)) {
        snprintf(error, size, "hpss: margins must be at least 1 (margin_h = %g, margin_p = %g)", mh, mp);
        return ST_ERR;
    }
    return ST_OK;
}

typedef struct {
    const st_spectrum *s;
    float *mag;          /* channels x frames x bins */
    float *harm, *perc;  /* filtered, same layout */
    int kernel_h, kernel_p;
    int failed;
} filter_job;

/* Percussive: a median across bins, within each frame (contiguous). */
static void filter_freq(void *ctx, int64_t begin, int64_t end)
{
    filter_job *j = ctx;
    const int n_bins = j->s->n_bins;
    st_median *m = st_median_new(n_bins, j->kernel_p);
    if (!m) { j->failed = 1; return; }
    for (int64_t f = begin; f < end; f++)
        st_median_row(m, j->mag + (size_t)f * n_bins, n_bins, j->perc + (size_t)f * n_bins);
    st_median_free(m);
}

/* Harmonic: a median across frames, for each bin; bins are gathered a few
 * at a time so that the strided reads stay in cache. */
#define BIN_BLOCK 16
static void filter_time(void *ctx, int64_t begin, int64_t end)
{
    filter_job *j = ctx;
    const int n_bins = j->s->n_bins;
    const int64_t n_frames = j->s->n_frames;
    st_median *m = st_median_new((int)n_frames, j->kernel_h);
    float *rows = malloc((size_t)BIN_BLOCK * 2 * (size_t)n_frames * sizeof *rows);
    if (!m || !rows) { j->failed = 1; goto done; }
    for (int64_t item = begin; item < end; item++) {
        int64_t c = item / ((n_bins + BIN_BLOCK - 1) / BIN_BLOCK);
        int b0 = (int)(item % ((n_bins + BIN_BLOCK - 1) / BIN_BLOCK)) * BIN_BLOCK;
        int nb = n_bins - b0 < BIN_BLOCK ? n_bins - b0 : BIN_BLOCK;
        const float *mag = j->mag + (size_t)c * n_frames * n_bins;
        float *harm = j->harm + (size_t)c * n_frames * n_bins;
        for (int64_t t = 0; t < n_frames; t++)
            for (int b = 0; b < nb; b++) rows[(size_t)b * n_frames + t] = mag[(size_t)t * n_bins + b0 + b];
        for (int b = 0; b < nb; b++)
            st_median_row(m, rows + (size_t)b * n_frames, (int)n_frames, rows + (size_t)(BIN_BLOCK + b) * n_frames);
        for (int64_t t = 0; t < n_frames; t++)
            for (int b = 0; b < nb; b++) harm[(size_t)t * n_bins + b0 + b] = rows[(size_t)(BIN_BLOCK + b) * n_frames + t];
    }
done:
    st_median_free(m);
    free(rows);
}

typedef struct {
    const st_spectrum *s;
    const float *harm, *perc;
    st_spectrum *out_h, *out_p, *out_r;
    float *masks; /* 3 x n */
    float margin_h, margin_p, power;
    int split_zeros;
    size_t n;
} mask_job;

static void apply_masks(void *ctx, int64_t begin, int64_t end)
{
    mask_job *j = ctx;
    for (int64_t i = begin; i < end; i++) {
        float h = j->harm[i], p = j->perc[i];
        float mh = st_softmask(h, p * j->margin_h, j->power, j->split_zeros);
        float mp = st_softmask(p, h * j->margin_p, j->power, j->split_zeros);
        float complex x = j->s->data[i];
        j->out_h->data[i] = x * mh;
        j->out_p->data[i] = x * mp;
        j->out_r->data[i] = x * (1.0f - mh - mp);
        j->masks[i] = mh;
        j->masks[j->n + i] = mp;
        j->masks[2 * j->n + i] = 1.0f - mh - mp;
    }
}

extern const st_node_type st_node_hpss;

static int hpss_run(st_run *run, st_value *const *in, int n_in, const st_params *p, st_value **out)
{
    (void)n_in;
    const st_spectrum *s = &in[0]->u.spectrum;
    const size_t n = (size_t)s->n_channels * (size_t)s->n_frames * (size_t)s->n_bins;
    int kh = st_int(p, "kernel_h") ? st_int(p, "kernel_h") : st_int(p, "kernel");
    int kp = st_int(p, "kernel_p") ? st_int(p, "kernel_p") : st_int(p, "kernel");
    if (st_num(p, "kernel_h_s") > 0) kh = odd_at_least(st_num(p, "kernel_h_s") * s->rate_hz / s->hop_samples);
    if (st_num(p, "kernel_p_hz") > 0) kp = odd_at_least(st_num(p, "kernel_p_hz") * s->n_fft / s->rate_hz);
    float margin_h = (float)(st_num(p, "margin_h") ? st_num(p, "margin_h") : st_num(p, "margin"));
    float margin_p = (float)(st_num(p, "margin_p") ? st_num(p, "margin_p") : st_num(p, "margin"));
    float *mag = malloc(n * sizeof *mag), *harm = malloc(n * sizeof *harm), *perc = malloc(n * sizeof *perc);
    st_value *h = NULL, *pc = NULL, *r = NULL, *masks = NULL;
    int status = ST_OK;
    if (!mag || !harm || !perc) { status = st_fail(run, "out of memory"); goto done; }
    for (size_t i = 0; i < n; i++) mag[i] = cabsf(s->data[i]);
    filter_job fj = {s, mag, harm, perc, kh, kp, 0};
    int blocks = (s->n_bins + BIN_BLOCK - 1) / BIN_BLOCK;
    st_parallel_for(run->n_threads, (int64_t)s->n_channels * s->n_frames, filter_freq, &fj);
    st_parallel_for(run->n_threads, (int64_t)s->n_channels * blocks, filter_time, &fj);
    if (fj.failed) { status = st_fail(run, "out of memory"); goto done; }
    h = st_spectrum_new(s->n_fft, s->hop_samples, s->n_frames, s->n_channels, s->window, s->center, s->rate_hz, s->length_samples);
    pc = st_spectrum_new(s->n_fft, s->hop_samples, s->n_frames, s->n_channels, s->window, s->center, s->rate_hz, s->length_samples);
    r = st_spectrum_new(s->n_fft, s->hop_samples, s->n_frames, s->n_channels, s->window, s->center, s->rate_hz, s->length_samples);
    int64_t shape[4] = {3, s->n_channels, s->n_frames, s->n_bins};
    static const char *const axes[] = {"mask", "channel", "time", "freq"};
    masks = st_array_new(4, shape, axes);
    if (!h || !pc || !r || !masks) { status = st_fail(run, "out of memory"); goto done; }
    mask_job mj = {s, harm, perc, &h->u.spectrum, &pc->u.spectrum, &r->u.spectrum, masks->u.array.data,
                   margin_h, margin_p, st_choice(p, "mask") == 1 ? INFINITY : (float)st_num(p, "power"),
                   margin_h == 1 && margin_p == 1, n};
    st_parallel_for(run->n_threads, (int64_t)n, apply_masks, &mj);
    const char *names[4];
    for (int i = 0; i < 4; i++) names[i] = st_node_hpss.outputs[i].name;
    st_value *fields[4] = {h, pc, r, masks};
    if (!(*out = st_record_new(4, names, fields))) status = st_fail(run, "out of memory");
done:
    free(mag), free(harm), free(perc);
    st_value_unref(h), st_value_unref(pc), st_value_unref(r), st_value_unref(masks);
    return status;
}

const st_node_type st_node_hpss = {
    .name = "hpss",
    .doc = "Harmonic/percussive separation by median filtering the magnitude across time "
           "(harmonic) and across frequency (percussive), as librosa.decompose.hpss: soft or hard "
           "masks with Driedger's margins, applied to the complex spectrum. With a margin above 1 "
           "what is neither goes to the residual. masks holds the harmonic, percussive and "
           "residual masks (mask x channel x time x freq).",
    .inputs = (const st_port[]){{"in", ST_SPECTRUM}, {NULL}},
    .outputs = (const st_port[]){{"harmonic", ST_SPECTRUM}, {"percussive", ST_SPECTRUM},
                                 {"residual", ST_SPECTRUM}, {"masks", ST_ARRAY}, {NULL}},
    .params = params,
    .check = hpss_check,
    .run = hpss_run,
};
