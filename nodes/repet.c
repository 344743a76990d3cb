/* repet: the repeating background of a spectrum by the median of
 * period-long segments (Rafii & Pardo 2012), as nussl 1.1.9's Repet. */
#include "../vm/alloc.h"
#include "../vm/node.h"
#include "../vm/parallel.h"
#include "dsp/masks.h"
#include "dsp/repet.h"
#include "repet_period.h"
#include "spectral.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const st_param params[] = {
    ST_REPET_PARAMS,
    {"segment_s", ST_P_NUMBER, .def = 0, .min = 0, .max = 3600,
     .doc = "adaptive REPET (REPET-Python's adaptive): a period per segment of this length "
            "(hop half of it), each frame's model the median of the frames order/2 periods "
            "around it; 0: one period for the song"},
    {"order", ST_P_INT, .def = 5, .min = 1, .max = 101,
     .doc = "adaptive: frames in each median (the frame and its neighbours a period apart)"},
    {"refine", ST_P_INT, .def = 0, .min = 0, .max = 20,
     .doc = "iterations of kernel backfitting (Liutkus et al. 2014) after REPET's mask: Wiener "
            "masks from the period median of the background estimate and a median along time of "
            "the foreground estimate (0: nussl's REPET)"},
    {"fg_kernel", ST_P_INT, .def = 5, .min = 1, .max = 1001,
     .doc = "refine: the foreground's median length in frames (along time)"},
    {"shared", ST_P_BOOL, .def = 0,
     .doc = "one model and mask for every channel, from the root of their mean power (else one "
            "model per channel; the period always comes from the mean power)"},
    {NULL}};

/* Adaptive REPET: the period of each segment_s-long stretch (centred on
 * frames `step` apart, step half the length) from its own beat spectrum, in
 * [min_period, max_period] capped at a third of the stretch; each frame takes
 * its stretch's. scratch: n_frames doubles (the song's beat spectrum, reused). */
static int segment_periods(const st_spectrum *s, const st_params *p, double *scratch,
                           int64_t *periods, int n_threads)
{
    const int64_t n_frames = s->n_frames, n_bins = s->n_bins;
    int64_t len = (int64_t)llround(st_num(p, "segment_s") * s->rate_hz / s->hop_samples);
    if (len < 3) len = 3;
    if (len > n_frames) len = n_frames;
    int64_t step = len / 2 > 0 ? len / 2 : 1;
    int64_t lo = st_repet_frames(s, st_num(p, "min_period"));
    int64_t hi = st_repet_frames(s, st_num(p, "max_period"));
    float *power = malloc((size_t)n_frames * (size_t)n_bins * sizeof *power);
    if (!power) return -1;
    const size_t plane = (size_t)n_frames * (size_t)n_bins;
    for (size_t i = 0; i < plane; i++) {
        double q = 0;
        for (int c = 0; c < s->n_channels; c++) {
            float complex z = s->data[(size_t)c * plane + i];
            q += (double)crealf(z) * crealf(z) + (double)cimagf(z) * cimagf(z);
        }
        power[i] = (float)(q / s->n_channels);
    }
    int64_t last = lo;
    for (int64_t centre = 0; centre < n_frames; centre += step) {
        int64_t a = centre - (len - 1 + 1) / 2, b = centre + (len - 1) / 2 + 1;
        a = a < 0 ? 0 : a;
        b = b > n_frames ? n_frames : b;
        if (st_beat_spectrum(power + (size_t)a * (size_t)n_bins, 1, b - a, (int)n_bins, n_threads,
                             scratch)) {
            free(power);
            return -1;
        }
        int64_t cap = (b - a) / 3 < hi ? (b - a) / 3 : hi;
        int64_t best = st_repeating_period(scratch, b - a, lo, cap);
        if (best > 0) last = best; /* too short a stretch keeps the previous period */
        for (int64_t t = centre; t < centre + step && t < n_frames; t++)
            periods[t] = last;
    }
    free(power);
    return 0;
}

/* The default path in one pass over the frames (no refine, no adaptive
 * model): each model channel's mask row is made in place over its magnitudes
 * (which sit in the mask's memory), from the period model's row t mod
 * period, thresholded when hard; then every channel's frame is split into
 * background and foreground while the row is in cache. */
typedef struct {
    const st_spectrum *s;
    const float *model; /* n_models x rows x n_bins */
    int64_t rows;
    int shared, cutoff_bin;
    float threshold;                        /* < 0: soft */
    float *mask;                            /* holds the magnitudes until each row is made */
    float complex *background, *foreground; /* NULL: the mask alone */
} split_job;

static void split_range(void *ctx, int64_t begin, int64_t end)
{
    split_job *job = ctx;
    const st_spectrum *s = job->s;
    const size_t n_bins = (size_t)s->n_bins, plane = (size_t)s->n_frames * n_bins;
    const int n_models = job->shared ? 1 : s->n_channels;
    for (int64_t t = begin; t < end; t++) {
        for (int c = 0; c < n_models; c++) {
            float *m = job->mask + (size_t)c * plane + (size_t)t * n_bins;
            const float *row =
                job->model + ((size_t)c * (size_t)job->rows + (size_t)(t % job->rows)) * n_bins;
            st_repet_soft_mask_row(row, m, s->n_bins, 1e-16f, job->cutoff_bin, m);
            if (job->threshold >= 0) st_mask_harden(m, n_bins, job->threshold);
        }
        if (!job->background) continue; /* repet_mask: the mask alone */
        for (int c = 0; c < s->n_channels; c++) {
            size_t at = (size_t)c * plane + (size_t)t * n_bins;
            const float *m = job->mask + (job->shared ? (size_t)t * n_bins : at);
            const float complex *x = s->data + at;
            float complex *bg = job->background + at, *fg = job->foreground + at;
            for (size_t k = 0; k < n_bins; k++) {
                bg[k] = m[k] * x[k];
                fg[k] = (1.0f - m[k]) * x[k];
            }
        }
    }
}

/* repet, or repet_mask when spectra is 0: the same mask without the two
 * masked spectra (fields 0 and 1 never made). */
static int repet_compute(st_ctx *ctx, const st_value *input, const st_params *p, int spectra,
                         st_value **out)
{
    extern const st_node_type st_node_repet, st_node_repet_mask;
    const st_spectrum *s = &input->u.spectrum;
    const int64_t n_frames = s->n_frames;
    const int n_bins = s->n_bins, shared = st_int(p, "shared");
    const int n_models = shared ? 1 : s->n_channels;
    const size_t plane = (size_t)n_frames * (size_t)n_bins;
    st_value *fields[5] = {0};
    int status = ST_ERR;
    /* the longest period searched, in frames: repet_mask makes the beat
     * spectrum up to it alone (its FFTs half as long for a song of 24 s and
     * more at the default 8 s); repet makes every lag, as nussl */
    const int64_t n_lags = spectra ? n_frames : st_repet_n_lags(s, p);
    int64_t lag_shape[1] = {n_lags}, one[1] = {1};
    static const char *const lag_axes[] = {"lag"}, *const period_axes[] = {"period"};
    int64_t mask_shape[3] = {n_models, n_frames, n_bins};
    static const char *const mask_axes[] = {"channel", "time", "freq"};
    double *beat = malloc((size_t)n_frames * sizeof *beat);
    float *model = NULL, *scratch = NULL; /* scratch: st_zalloc's huge pages */
    int64_t *periods = NULL;              /* adaptive: one per frame */
    if (spectra) {
        fields[0] = st_spectrum_like(s);
        fields[1] = st_spectrum_like(s);
    }
    fields[2] = st_array_new(3, mask_shape, mask_axes);
    fields[3] = st_array_new(1, one, period_axes);
    fields[4] = st_array_new(1, lag_shape, lag_axes);
    for (int i = spectra ? 0 : 2; i < 5; i++)
        if (!fields[i]) goto oom;
    if (!beat) goto oom;
    const int refine = st_int(p, "refine");
    const int adaptive = st_num(p, "segment_s") > 0 && st_num(p, "period") == 0;
    const float threshold = st_choice(p, "mask") == 1 ? (float)st_num(p, "threshold") : -1.0f;
    const int one_pass = !refine && !adaptive;
    float *mask = fields[2]->u.array.data;
    /* no scratch for the magnitudes: they sit in the mask's memory (one pass,
     * made into the mask row by row) or in the foreground's (twice their
     * size) until the masks are applied; repet_mask has no foreground */
    if (!one_pass && !spectra && !(scratch = st_zalloc((size_t)n_models * plane * sizeof *scratch)))
        goto oom;
    float *mag = one_pass ? mask : spectra ? (float *)fields[1]->u.spectrum.data : scratch;

    /* the beat spectrum, from the power averaged over channels */
    if (st_beat_spectrum_of_spectrum(s->data, s->n_channels, n_frames, n_bins, n_lags,
                                     ctx->n_threads, beat))
        goto oom;
    for (int64_t l = 0; l < n_lags; l++)
        fields[4]->u.array.data[l] = (float)beat[l];

    const int64_t period = st_repet_period(ctx, s, p, beat, n_lags);
    if (period < 0) goto done;
    fields[3]->u.array.data[0] = (float)((double)period * s->hop_samples / s->rate_hz);
    if (adaptive) {
        periods = malloc((size_t)n_frames * sizeof *periods);
        if (!periods || segment_periods(s, p, beat, periods, ctx->n_threads)) goto oom;
    }

    /* each channel's model: of one period (rows frames), or adaptive (every
     * frame's, in the mask's memory, made into the mask in place) */
    st_repet_magnitudes(s->data, s->n_channels, plane, shared, ctx->n_threads, mag);
    const int64_t rows = adaptive ? n_frames : period < n_frames ? period : n_frames;
    if (!adaptive &&
        !(model = malloc((size_t)n_models * (size_t)rows * (size_t)n_bins * sizeof *model)))
        goto oom;
    const int cutoff = st_repet_cutoff_bin(st_num(p, "high_pass_hz"), s->rate_hz, s->n_fft);
    for (int c = 0; c < n_models; c++) {
        const float *mag_c = mag + (size_t)c * plane;
        float *m =
            adaptive ? mask + (size_t)c * plane : model + (size_t)c * (size_t)rows * (size_t)n_bins;
        if (adaptive ? st_repet_adaptive_model(mag_c, n_frames, n_bins, periods, st_int(p, "order"),
                                               ctx->n_threads, m)
                     : st_repet_period_model(mag_c, n_frames, n_bins, period, st_num(p, "quantile"),
                                             ctx->n_threads, m))
            goto oom;
        if (one_pass) continue;
        st_repet_soft_mask(m, rows, mag_c, n_frames, n_bins, 1e-16f, cutoff, ctx->n_threads,
                           mask + (size_t)c * plane);
        if (refine &&
            st_repet_backfit(mag_c, n_frames, n_bins, period, refine, st_int(p, "fg_kernel"),
                             cutoff, ctx->n_threads, mask + (size_t)c * plane))
            goto oom;
    }
    if (one_pass) {
        split_job job = {s,
                         model,
                         rows,
                         shared,
                         cutoff,
                         threshold,
                         mask,
                         spectra ? fields[0]->u.spectrum.data : NULL,
                         spectra ? fields[1]->u.spectrum.data : NULL};
        st_parallel_for(ctx->n_threads, n_frames, split_range, &job);
    } else {
        if (threshold >= 0) st_mask_harden(mask, plane * (size_t)n_models, threshold);
        if (spectra)
            st_mask_split(s, mask, shared, fields[0]->u.spectrum.data, fields[1]->u.spectrum.data,
                          ctx->n_threads);
    }
    *out = spectra ? st_record_of_outputs(&st_node_repet, fields)
                   : st_record_of_outputs(&st_node_repet_mask, fields + 2);
    status = *out ? ST_OK : st_fail(ctx, "out of memory");
    goto done;
oom:
    status = st_fail(ctx, "out of memory for %lld frames x %d bins", (long long)n_frames, n_bins);
done:
    for (int i = 0; i < 5; i++)
        st_value_unref(fields[i]);
    free(beat);
    free(model);
    st_zfree(scratch);
    free(periods);
    return status;
}

static int repet_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p, st_value **out)
{
    (void)n_in;
    return repet_compute(ctx, in[0], p, 1, out);
}

static int repet_mask_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p,
                          st_value **out)
{
    (void)n_in;
    return repet_compute(ctx, in[0], p, 0, out);
}

const st_node_type st_node_repet = {
    .name = "repet",
    .doc = "REPET (Rafii & Pardo 2012) as nussl 1.1.9's Repet: the repeating period is the lag "
           "between min_period and max_period where the beat spectrum of the power (averaged "
           "over channels) peaks, or is given; the repeating model is the median of the "
           "period-long segments of the magnitude (the last one may be short); the background "
           "mask compares min(model, |X|) with |X|, and bins below high_pass_hz are all "
           "background. Outputs the background and foreground spectra, the background mask "
           "(channel x time x freq; the foreground's is 1 - mask), the period in seconds "
           "(period:number()) and the beat spectrum (one value per lag in frames).",
    .inputs = (const st_port[]){{"in", ST_SPECTRUM}, {NULL}},
    .outputs = (const st_port[]){{"background", ST_SPECTRUM},
                                 {"foreground", ST_SPECTRUM},
                                 {"mask", ST_ARRAY},
                                 {"period", ST_ARRAY},
                                 {"beat_spectrum", ST_ARRAY},
                                 {NULL}},
    .params = params,
    .check = st_repet_check_periods,
    .run = repet_run,
};

const st_node_type st_node_repet_mask = {
    .name = "repet_mask",
    .doc = "The repet node without its two masked spectra: the same background mask (channel x "
           "time x freq) and period, with the same parameters, and the beat spectrum over the "
           "lags searched alone (0 to max_period, capped at a third of the duration: repet's "
           "values there to rounding, from FFTs as short as those lags allow; so the period, and "
           "then the mask bit for bit, are repet's unless two lags tie to rounding). For "
           "patches that invert the mask with resynth, which applies it frame by frame and never "
           "makes a masked spectrum, and take the foreground as the mixture minus the background "
           "in the time domain (exact, since the inverse STFT is), as strata repet does: fewer "
           "fresh pages and one inverse STFT fewer (doc/repet.md has the figures).",
    .inputs = (const st_port[]){{"in", ST_SPECTRUM}, {NULL}},
    .outputs =
        (const st_port[]){
            {"mask", ST_ARRAY}, {"period", ST_ARRAY}, {"beat_spectrum", ST_ARRAY}, {NULL}},
    .params = params,
    .check = st_repet_check_periods,
    .run = repet_mask_run,
};
