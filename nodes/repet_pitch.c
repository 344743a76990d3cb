/* repet_pitch: REPET whose repeating model leaves out the lead's harmonics
 * (rhythm and pitch combined, as Rafii, Duan & Pardo 2014 argue). */
#include "../vm/node.h"
#include "../vm/parallel.h"
#include "dsp/pitch.h"
#include "dsp/masks.h"
#include "dsp/repet.h"
#include "repet_period.h"
#include "spectral.h"

#include <math.h>
#include <stdlib.h>

static const st_param params[] = {
    {"period", ST_P_NUMBER, .def = 0, .min = 0, .max = 3600,
     .doc = "the repeating period in seconds; 0 finds it in the beat spectrum"},
    {"min_period", ST_P_NUMBER, .def = 0.8, .min = 0, .max = 3600,
     .doc = "shortest period searched, in seconds"},
    {"max_period", ST_P_NUMBER, .def = 12, .min = 0, .max = 3600,
     .doc = "longest period searched, in seconds (capped at a third of the duration; 12 s "
            "holds a four-bar phrase down to 80 BPM)"},
    {"high_pass_hz", ST_P_NUMBER, .def = 100, .min = 0, .max = 100000,
     .doc = "bins below the one nearest this frequency go to the background"},
    {"mask", ST_P_STRING, .def_str = "soft", .choices = "soft|hard",
     .doc = "soft: the backfitting's Wiener mask; hard: 1 where that is at least threshold"},
    {"threshold", ST_P_NUMBER, .def = 0.5, .min = 0, .max = 1,
     .doc = "hard masks: the soft value from which a bin is background"},
    {"fg_kernel", ST_P_INT, .def = 5, .min = 1, .max = 1001,
     .doc = "the backfitting's foreground median length in frames (along time)"},
    {"fmin_hz", ST_P_NUMBER, .def = 80, .min = 20, .max = 10000,
     .doc = "lowest fundamental of the lead searched"},
    {"fmax_hz", ST_P_NUMBER, .def = 1000, .min = 20, .max = 10000,
     .doc = "highest fundamental of the lead searched"},
    {"harmonics", ST_P_INT, .def = 20, .min = 1, .max = 200,
     .doc = "harmonics summed per candidate fundamental (weights 0.8^(h-1)), and the lead's "
            "harmonics kept out of the model"},
    {"width_bins", ST_P_NUMBER, .def = 1, .min = 0, .max = 100,
     .doc = "half width of each harmonic's band in bins (where a partial seen through a Hann "
            "window is within 6 dB of its peak), at least width_rel of its frequency"},
    {"width_rel", ST_P_NUMBER, .def = 0.03, .min = 0, .max = 1,
     .doc = "half width of each harmonic's band relative to its frequency (a quarter tone is "
            "0.03)"},
    {"voicing", ST_P_NUMBER, .def = 0.05, .min = 0, .max = 1,
     .doc = "a frame has a lead when the first foreground estimate holds at least this share "
            "of the frame's energy on the pitch's harmonics"},
    {"passes", ST_P_INT, .def = 1, .min = 1, .max = 20,
     .doc = "times the pitch is tracked again on the last foreground and the model remade"},
    {NULL}};

static int repet_pitch_check(st_ctx *ctx, const st_params *p)
{
    if (st_repet_check_periods(ctx, p)) return ST_ERR;
    if (st_num(p, "fmin_hz") > st_num(p, "fmax_hz"))
        return st_fail(ctx, "parameter fmin_hz = %g is above fmax_hz = %g", st_num(p, "fmin_hz"),
                       st_num(p, "fmax_hz"));
    return ST_OK;
}

/* The period model from the frames the lead leaves free: model[j][k] is the
 * median of mag[t][k] over t = j, j + period, ... where lead[t][k] is 0, or
 * over all of them when the lead holds the bin in every segment. */
typedef struct {
    const float *mag;
    const unsigned char *lead;
    int64_t n_frames, period;
    int n_bins, failed;
    float *model;
} free_model_job;

static void free_model_range(void *ctx, int64_t begin, int64_t end)
{
    free_model_job *job = ctx;
    const int64_t n_segments = (job->n_frames + job->period - 1) / job->period;
    float *v = malloc((size_t)n_segments * sizeof *v);
    if (!v) {
        job->failed = 1;
        return;
    }
    const size_t n_bins = (size_t)job->n_bins;
    for (int64_t j = begin; j < end; j++)
        for (size_t k = 0; k < n_bins; k++) {
            int n = 0;
            for (int64_t t = j; t < job->n_frames; t += job->period)
                if (!job->lead[(size_t)t * n_bins + k]) v[n++] = job->mag[(size_t)t * n_bins + k];
            if (n == 0)
                for (int64_t t = j; t < job->n_frames; t += job->period)
                    v[n++] = job->mag[(size_t)t * n_bins + k];
            job->model[(size_t)j * n_bins + k] = st_repet_median(v, n);
        }
    free(v);
}

/* The lead's bins: frame t's comb of the harmonics of f0[t] that the pitch
 * was summed over, where the foreground estimate holds at least `voicing` of
 * the frame's energy on that comb; f0[t] becomes 0 where it does not. */
static void mark_lead(const st_params *p, const float *mag, const float *fg, int64_t n_frames,
                      int n_bins, double bin_hz, float *f0, unsigned char *lead)
{
    const double voicing = st_num(p, "voicing");
    for (int64_t t = 0; t < n_frames; t++) {
        const size_t at = (size_t)t * (size_t)n_bins;
        unsigned char *comb = lead + at;
        st_pitch_comb(f0[t], bin_hz, n_bins, st_num(p, "width_bins"), st_num(p, "width_rel"),
                      st_int(p, "harmonics"), comb);
        double on = 0, all = 0;
        for (int k = 0; k < n_bins; k++) {
            all += (double)mag[at + k] * mag[at + k];
            if (comb[k]) on += (double)fg[at + k] * fg[at + k];
        }
        if (!(all > 0) || on < voicing * all) {
            f0[t] = 0;
            for (int k = 0; k < n_bins; k++)
                comb[k] = 0;
        }
    }
}

/* One channel: REPET and a backfitting pass (repet's refine) give a first
 * foreground; its pitch marks the lead's bins; REPET again with the model
 * taken where the lead is not, and a backfitting pass, give the mask
 * (`passes` times, each from the last foreground). f0 gets 0 where no lead. */
static int channel_mask(const st_params *p, const float *mag, int64_t n_frames, int n_bins,
                        int64_t period, int cutoff, double bin_hz, int n_threads, float *mask,
                        float *f0)
{
    const size_t plane = (size_t)n_frames * (size_t)n_bins;
    const int64_t rows = period < n_frames ? period : n_frames;
    const int fg_kernel = st_int(p, "fg_kernel"), passes = st_int(p, "passes");
    const st_pitch_search search = {
        st_num(p, "fmin_hz"), st_num(p, "fmax_hz"), 10.0, st_int(p, "harmonics"), 0.8, bin_hz};
    float *model = malloc((size_t)rows * (size_t)n_bins * sizeof *model);
    float *fg = malloc(plane * sizeof *fg);
    unsigned char *lead = calloc(plane, 1); /* no lead yet: the first pass is repet's refine */
    int status = -1;
    if (!model || !fg || !lead) goto done;
    for (int pass = 0; pass <= passes; pass++) {
        free_model_job job = {mag, lead, n_frames, period, n_bins, 0, model};
        st_parallel_for(n_threads, rows, free_model_range, &job);
        if (job.failed) goto done;
        st_repet_soft_mask(model, rows, mag, n_frames, n_bins, 1e-16f, cutoff, n_threads, mask);
        if (st_repet_backfit(mag, n_frames, n_bins, period, 1, fg_kernel, cutoff, n_threads, mask))
            goto done;
        if (pass == passes) break;
        for (size_t i = 0; i < plane; i++)
            fg[i] = (1.0f - mask[i]) * mag[i];
        if (st_pitch_track(fg, n_frames, n_bins, &search, n_threads, f0)) goto done;
        mark_lead(p, mag, fg, n_frames, n_bins, bin_hz, f0, lead);
    }
    status = 0;
done:
    free(model);
    free(fg);
    free(lead);
    return status;
}

static int repet_pitch_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p,
                           st_value **out)
{
    extern const st_node_type st_node_repet_pitch;
    (void)n_in;
    const st_spectrum *s = &in[0]->u.spectrum;
    const int64_t n_frames = s->n_frames;
    const int n_bins = s->n_bins, n_channels = s->n_channels;
    const size_t plane = (size_t)n_frames * (size_t)n_bins;
    st_value *fields[5] = {0};
    int status = ST_ERR;
    int64_t mask_shape[3] = {n_channels, n_frames, n_bins}, f0_shape[2] = {n_channels, n_frames};
    int64_t one[1] = {1};
    static const char *const mask_axes[] = {"channel", "time", "freq"},
                             *const f0_axes[] = {"channel", "time"},
                             *const period_axes[] = {"period"};
    double *beat = malloc((size_t)n_frames * sizeof *beat);
    float *mag = malloc((size_t)n_channels * plane * sizeof *mag);
    fields[0] = st_spectrum_like(s);
    fields[1] = st_spectrum_like(s);
    fields[2] = st_array_new(3, mask_shape, mask_axes);
    fields[3] = st_array_new(1, one, period_axes);
    fields[4] = st_array_new(2, f0_shape, f0_axes);
    for (int i = 0; i < 5; i++)
        if (!fields[i]) goto oom;
    if (!beat || !mag) goto oom;
    const int64_t n_lags = st_repet_n_lags(s, p); /* the lags searched alone */
    if (st_beat_spectrum_of_spectrum(s->data, n_channels, n_frames, n_bins, n_lags, ctx->n_threads,
                                     beat))
        goto oom;
    const int64_t period = st_repet_period(ctx, s, p, beat, n_lags);
    if (period < 0) goto done;
    fields[3]->u.array.data[0] = (float)((double)period * s->hop_samples / s->rate_hz);
    st_repet_magnitudes(s->data, n_channels, plane, 0, ctx->n_threads, mag);
    const int cutoff = st_repet_cutoff_bin(st_num(p, "high_pass_hz"), s->rate_hz, s->n_fft);
    for (int c = 0; c < n_channels; c++)
        if (channel_mask(p, mag + (size_t)c * plane, n_frames, n_bins, period, cutoff,
                         s->rate_hz / s->n_fft, ctx->n_threads,
                         fields[2]->u.array.data + (size_t)c * plane,
                         fields[4]->u.array.data + (size_t)c * (size_t)n_frames))
            goto oom;
    if (st_choice(p, "mask") == 1)
        st_mask_harden(fields[2]->u.array.data, (size_t)n_channels * plane,
                       (float)st_num(p, "threshold"));
    st_mask_split(s, fields[2]->u.array.data, 0, fields[0]->u.spectrum.data,
                  fields[1]->u.spectrum.data, ctx->n_threads);
    *out = st_record_of_outputs(&st_node_repet_pitch, fields);
    status = *out ? ST_OK : st_fail(ctx, "out of memory");
    goto done;
oom:
    status = st_fail(ctx, "out of memory for %lld frames x %d bins", (long long)n_frames, n_bins);
done:
    for (int i = 0; i < 5; i++)
        st_value_unref(fields[i]);
    free(beat);
    free(mag);
    return status;
}

const st_node_type st_node_repet_pitch = {
    .name = "repet_pitch",
    .doc = "REPET with the lead's pitch: REPET and one pass of kernel backfitting (repet's "
           "refine) give a first foreground; the pitch of each of its frames by harmonic "
           "summation, kept where the foreground holds at least `voicing` of the frame's energy "
           "on that pitch's harmonics, marks the lead's bins; the repeating model is then the "
           "median over the period-long segments of only the values the lead leaves free (all "
           "of them where it holds a bin in every segment), so that the lead no longer raises the "
           "model where it plays; REPET's mask from that model and one backfitting pass give the "
           "background mask. strata's best on the corpus; it assumes a background that repeats "
           "(doc/repet.md says where it loses). Outputs the "
           "background and foreground spectra, the background mask (channel x time x freq), the "
           "period in seconds and the lead's pitch in Hz (channel x time, 0 where none). One "
           "model per channel; the period from the channels' mean power.",
    .inputs = (const st_port[]){{"in", ST_SPECTRUM}, {NULL}},
    .outputs = (const st_port[]){{"background", ST_SPECTRUM},
                                 {"foreground", ST_SPECTRUM},
                                 {"mask", ST_ARRAY},
                                 {"period", ST_ARRAY},
                                 {"f0", ST_ARRAY},
                                 {NULL}},
    .params = params,
    .check = repet_pitch_check,
    .run = repet_pitch_run,
};
