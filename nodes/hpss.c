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
    int64_t n_rows; /* frames of every channel */
    int failed;
} filter_job;

/* Percussive: a median across bins, eight frames at a time (one per lane). */
static void filter_freq(void *ctx, int64_t begin, int64_t end)
{
    filter_job *j = ctx;
    const int n_bins = j->s->n_bins;
    st_median *m = st_median_new(n_bins, j->kernel_p);
    if (!m) { j->failed = 1; return; }
    for (int64_t f = begin * 8; f < end * 8 && f < j->n_rows; f += 8) {
        int lanes = j->n_rows - f < 8 ? (int)(j->n_rows - f) : 8;
        st_median_lanes(m, j->mag + (size_t)f * n_bins, 1, n_bins, n_bins, lanes, j->perc + (size_t)f * n_bins);
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
    if (!m) { j->failed = 1; return; }
    for (int64_t item = begin; item < end; item++) {
        int64_t c = item / blocks;
        int b0 = (int)(item % blocks) * 8, lanes = n_bins - b0 < 8 ? n_bins - b0 : 8;
        size_t base = (size_t)c * (size_t)n_frames * n_bins + (size_t)b0;
        st_median_lanes(m, j->mag + base, n_bins, 1, (int)n_frames, lanes, j->harm + base);
    }
    st_median_free(m);
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

/* With both margins 1 the residual is zero (up to rounding) and is left so:
 * untouched pages of a fresh value cost nothing. */
static void apply_masks(void *ctx, int64_t begin, int64_t end)
{
    mask_job *j = ctx;
    const int residual = !(j->margin_h == 1 && j->margin_p == 1);
    for (int64_t i = begin; i < end; i++) {
        float h = j->harm[i], p = j->perc[i];
        float mh = st_softmask(h, p * j->margin_h, j->power, j->split_zeros);
        float mp = st_softmask(p, h * j->margin_p, j->power, j->split_zeros);
        float complex x = j->s->data[i];
        j->out_h->data[i] = x * mh;
        j->out_p->data[i] = x * mp;
        j->masks[i] = mh; /* in place of harm[i] and perc[i], read above */
        j->masks[j->n + i] = mp;
        j->masks[2 * j->n + i] = residual ? 1.0f - mh - mp : 0.0f; /* was the magnitude */
        if (residual) j->out_r->data[i] = x * (1.0f - mh - mp);
    }
}

static void magnitudes(void *ctx, int64_t begin, int64_t end)
{
    filter_job *j = ctx;
    for (int64_t i = begin; i < end; i++) j->mag[i] = cabsf(j->s->data[i]);
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
    /* The masks array is allocated first and is the only scratch: the two
     * filters write into the harmonic and percussive slots, the magnitudes
     * sit in the residual slot until the masks replace them. Fresh memory is
     * what a large spectrum costs most. */
    int64_t shape[4] = {3, s->n_channels, s->n_frames, s->n_bins};
    static const char *const axes[] = {"mask", "channel", "time", "freq"};
    st_value *h = NULL, *pc = NULL, *r = NULL, *masks = st_array_new(4, shape, axes);
    int status = ST_OK;
    if (!masks) { status = st_fail(run, "out of memory"); goto done; }
    float *harm = masks->u.array.data, *perc = harm + n, *mag = perc + n;
    filter_job fj = {s, mag, harm, perc, kh, kp, (int64_t)s->n_channels * s->n_frames, 0};
    st_parallel_for(run->n_threads, (int64_t)n, magnitudes, &fj);
    int blocks = (s->n_bins + 7) / 8;
    st_parallel_for(run->n_threads, (fj.n_rows + 7) / 8, filter_freq, &fj);
    st_parallel_for(run->n_threads, (int64_t)s->n_channels * blocks, filter_time, &fj);
    if (fj.failed) { status = st_fail(run, "out of memory"); goto done; }
    h = st_spectrum_new(s->n_fft, s->hop_samples, s->n_frames, s->n_channels, s->window, s->center, s->rate_hz, s->length_samples);
    pc = st_spectrum_new(s->n_fft, s->hop_samples, s->n_frames, s->n_channels, s->window, s->center, s->rate_hz, s->length_samples);
    r = st_spectrum_new(s->n_fft, s->hop_samples, s->n_frames, s->n_channels, s->window, s->center, s->rate_hz, s->length_samples);
    if (!h || !pc || !r) { status = st_fail(run, "out of memory"); goto done; }
    mask_job mj = {s, harm, perc, &h->u.spectrum, &pc->u.spectrum, &r->u.spectrum, masks->u.array.data,
                   margin_h, margin_p, st_choice(p, "mask") == 1 ? INFINITY : (float)st_num(p, "power"),
                   margin_h == 1 && margin_p == 1, n};
    st_parallel_for(run->n_threads, (int64_t)n, apply_masks, &mj);
    const char *names[4];
    for (int i = 0; i < 4; i++) names[i] = st_node_hpss.outputs[i].name;
    st_value *fields[4] = {h, pc, r, masks};
    if (!(*out = st_record_new(4, names, fields))) status = st_fail(run, "out of memory");
done:
    st_value_unref(h), st_value_unref(pc), st_value_unref(r), st_value_unref(masks);
    return status;
}

const st_node_type st_node_hpss = {
    .name = "hpss",
    .doc = "Harmonic/percussive separation by median filtering the magnitude across time "
           "(harmonic) and across frequency (percussive), as librosa.decompose.hpss: soft or hard "
           "masks with Driedger's margins, applied to the complex spectrum. With a margin above 1 "
           "what is neither goes to the residual (with both margins 1 the residual is zero). "
           "masks holds the harmonic, percussive and residual masks (mask x channel x time x freq).",
    .inputs = (const st_port[]){{"in", ST_SPECTRUM}, {NULL}},
    .outputs = (const st_port[]){{"harmonic", ST_SPECTRUM}, {"percussive", ST_SPECTRUM},
                                 {"residual", ST_SPECTRUM}, {"masks", ST_ARRAY}, {NULL}},
    .params = params,
    .check = hpss_check,
    .run = hpss_run,
};
