/* repet_audio: REPET from the song straight to its background and
 * foreground audio, holding only the magnitudes and the period's model:
 * what stft, repet_mask, resynth and the song minus the background give,
 * without the spectrum or the mask in memory (each frame is made again,
 * masked and inverted in one step). */
#include "../vm/alloc.h"
#include "../vm/budget.h"
#include "../vm/node.h"
#include "dsp/magnitude.h"
#include "dsp/repet.h"
#include "dsp/stft.h"
#include "dsp/vec4.h"
#include "repet_period.h"
#include "stft_framing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const st_param params[] = {
    ST_REPET_PARAMS,
    {"n_fft", ST_P_INT, .def = 2048, .min = 16, .max = 65536,
     .doc = "STFT frame length in samples (the window is as long)"},
    {"hop", ST_P_INT, .def = 0, .min = 0, .max = 65536,
     .doc = "samples between frames; 0 means n_fft / 4"},
    {"window", ST_P_STRING, .def_str = "sqrt_hann", .choices = "hann|sqrt_hann|hamming",
     .doc = "analysis window (periodic; sqrt_hann is nussl's)"},
    {"center", ST_P_BOOL, .def = 1,
     .doc = "pad n_fft / 2 zeros at both ends so that frame t is centred on sample t * hop"},
    {NULL}};

static int repet_audio_check(st_ctx *ctx, const st_params *p)
{
    if (st_stft_check_framing(ctx, p)) return ST_ERR;
    return st_repet_check_periods(ctx, p);
}

/* What each frame's background needs: the period's model and the mask's
 * settings. */
typedef struct {
    const float *model; /* n_channels x rows x n_bins */
    int64_t rows;
    int n_bins, cutoff_bin;
    float threshold; /* < 0: soft */
} background_job;

/* Frame t of channel c times its background mask, made from |X| and the
 * model's row t mod period as repet_mask makes it (st_repet_soft_mask_row,
 * then st_mask_harden: the same operations on each bin, four bins at a time
 * (SSE), so the same bits). Bins below the cutoff keep their value (x 1). */
static void background_frame(void *ctx, int c, int64_t t, float _Complex *bins, float *scratch)
{
    const background_job *job = ctx;
    const int n_bins = job->n_bins;
    const float *row =
        job->model + ((size_t)c * (size_t)job->rows + (size_t)(t % job->rows)) * (size_t)n_bins;
    const float eps = 1e-16f, threshold = job->threshold;
    const v4f one = {1.0f, 1.0f, 1.0f, 1.0f}, zero = {0};
    float *x = (float *)bins; /* re, im */
    st_magnitudes(bins, n_bins, scratch);
    int k = job->cutoff_bin < n_bins ? job->cutoff_bin : n_bins;
    for (; k + 4 <= n_bins; k += 4) {
        const v4f model = v4_load(row + k), mag = v4_load(scratch + k);
        v4f m = (V4_SELECT(model < mag, model, mag) + eps) / (mag + eps);
        if (threshold >= 0) m = V4_SELECT(m >= threshold, one, zero);
        v4_store(x + 2 * k, v4_load(x + 2 * k) * __builtin_shufflevector(m, m, 0, 0, 1, 1));
        v4_store(x + 2 * k + 4, v4_load(x + 2 * k + 4) * __builtin_shufflevector(m, m, 2, 2, 3, 3));
    }
    for (; k < n_bins; k++) {
        const float lo = row[k] < scratch[k] ? row[k] : scratch[k];
        float m = (lo + eps) / (scratch[k] + eps);
        if (threshold >= 0) m = m >= threshold ? 1.0f : 0.0f;
        bins[k] *= m;
    }
}

static int repet_audio_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p,
                           st_value **out)
{
    extern const st_node_type st_node_repet_audio;
    (void)n_in;
    const st_audio *a = &in[0]->u.audio;
    const int n_fft = st_int(p, "n_fft"), center = st_int(p, "center");
    const int hop = st_stft_hop(p);
    const int64_t n_frames = st_stft_n_frames(a->n_frames, n_fft, hop, center);
    if (n_frames < 1)
        return st_fail(ctx,
                       "the audio (%lld samples) is shorter than n_fft = %d with center = false",
                       (long long)a->n_frames, n_fft);
    /* the framing, without data: nothing here holds the complex frames */
    const st_spectrum shape = {.n_fft = n_fft,
                               .hop_samples = hop,
                               .n_bins = n_fft / 2 + 1,
                               .n_frames = n_frames,
                               .n_channels = a->n_channels,
                               .window = (st_window)st_choice(p, "window"),
                               .center = center,
                               .rate_hz = a->rate_hz,
                               .length_samples = a->n_frames};
    const int n_bins = shape.n_bins;
    /* magnitudes in blocks of bins (dsp/repet.h): read in order by the beat
     * spectrum and the model, never a frame apart */
    const int n_blocks = (n_bins + ST_REPET_BLOCK - 1) / ST_REPET_BLOCK;
    const size_t block_floats = ST_REPET_BLOCK * (size_t)n_frames;
    const size_t blocked = (size_t)n_blocks * block_floats; /* a channel's */
    char what[160];
    snprintf(what, sizeof what, "the magnitudes (hop = %d with n_fft = %d: %lld frames)", hop,
             n_fft, (long long)n_frames);
    if (st_memory_check(ctx, (double)blocked * a->n_channels * sizeof(float), what, "raise hop"))
        return ST_ERR;

    const int n_outputs = st_port_count(st_node_repet_audio.outputs);
    st_value *fields[4] = {0};
    int status = ST_ERR;
    const int64_t n_lags = st_repet_n_lags(&shape, p);
    int64_t lag_shape[1] = {n_lags}, one[1] = {1};
    static const char *const lag_axes[] = {"lag"}, *const period_axes[] = {"period"};
    double *beat = malloc((size_t)n_frames * sizeof *beat);
    /* The magnitudes' blocks lie in up to three regions: the first two each
     * just large enough for one output's samples (whole blocks), the third the
     * rest. Once the model is made the first two become the outputs
     * (st_audio_adopt), whose pages are then already there instead of new ones
     * the kernel zeroes; the third is freed, so that an output never keeps
     * more than its own size (at small hops the magnitudes are several times
     * the song). */
    const int n_all = a->n_channels * n_blocks;
    const size_t samples = (size_t)a->n_channels * (size_t)(a->n_frames ? a->n_frames : 1);
    const int n_per_output = (int)((samples + block_floats - 1) / block_floats);
    int n_region[3];
    n_region[0] = n_per_output < n_all ? n_per_output : n_all;
    n_region[1] = n_per_output < n_all - n_region[0] ? n_per_output : n_all - n_region[0];
    n_region[2] = n_all - n_region[0] - n_region[1];
    float *region[3] = {0};
    int regions_made = 1;
    for (int r = 0; r < 3; r++)
        if (n_region[r] &&
            !(region[r] = st_zalloc((size_t)n_region[r] * block_floats * sizeof(float))))
            regions_made = 0;
    float **blocks = malloc((size_t)n_all * sizeof *blocks), *model = NULL;
    fields[2] = st_array_new(1, one, period_axes);
    fields[3] = st_array_new(1, lag_shape, lag_axes);
    if (!beat || !regions_made || !blocks || !fields[2] || !fields[3]) goto oom;
    for (int r = 0, i = 0; r < 3; r++)
        for (int k = 0; k < n_region[r]; k++, i++)
            blocks[i] = region[r] + (size_t)k * block_floats;
    if (st_stft_magnitudes(a, &shape, ST_REPET_BLOCK, blocks, ctx->n_threads)) goto oom;

    /* the beat spectrum over the lags searched, from the power averaged over channels */
    if (st_beat_spectrum_of_magnitudes((const float *const *)blocks, a->n_channels, n_frames,
                                       n_bins, n_lags, ctx->n_threads, beat))
        goto oom;
    for (int64_t l = 0; l < n_lags; l++)
        fields[3]->u.array.data[l] = (float)beat[l];
    const int64_t period = st_repet_period(ctx, &shape, p, beat, n_lags);
    if (period < 0) goto done;
    fields[2]->u.array.data[0] = (float)((double)period * hop / a->rate_hz);

    /* each channel's model over one period: all the inverse needs of the magnitudes */
    const int64_t rows = period < n_frames ? period : n_frames;
    model = malloc((size_t)a->n_channels * (size_t)rows * (size_t)n_bins * sizeof *model);
    if (!model) goto oom;
    for (int c = 0; c < a->n_channels; c++)
        if (st_repet_period_model_blocks((const float *const *)blocks + c * n_blocks, n_frames,
                                         n_bins, period, st_num(p, "quantile"), ctx->n_threads,
                                         model + (size_t)c * (size_t)rows * (size_t)n_bins))
            goto oom;

    st_progress(ctx, 0.5);
    background_job job = {model, rows, n_bins,
                          st_repet_cutoff_bin(st_num(p, "high_pass_hz"), a->rate_hz, n_fft),
                          st_choice(p, "mask") == 1 ? (float)st_num(p, "threshold") : -1.0f};
    /* the magnitudes are dead: the first two regions hold the outputs (every
     * sample is written); a region too small for them (another hop) and the
     * rest are freed */
    for (int i = 0; i < 2; i++) {
        const size_t floats = (size_t)n_region[i] * block_floats;
        if (region[i] && floats >= samples &&
            (fields[i] = st_audio_adopt(a->n_channels, a->n_frames, a->rate_hz, region[i])))
            region[i] = NULL;
        if (!fields[i]) fields[i] = st_audio_new(a->n_channels, a->n_frames, a->rate_hz);
    }
    for (int r = 0; r < 3; r++) {
        st_zfree(region[r]);
        region[r] = NULL;
    }
    if (!fields[0] || !fields[1] ||
        st_istft_filtered(&shape, a, background_frame, &job, &fields[0]->u.audio,
                          &fields[1]->u.audio, ctx->n_threads))
        goto oom;
    *out = st_record_of_outputs(&st_node_repet_audio, fields);
    status = *out ? ST_OK : st_fail(ctx, "out of memory");
    goto done;
oom:
    status = st_fail(ctx, "out of memory for %lld frames x %d bins", (long long)n_frames, n_bins);
done:
    for (int i = 0; i < n_outputs; i++)
        st_value_unref(fields[i]);
    free(beat);
    for (int r = 0; r < 3; r++)
        st_zfree(region[r]);
    free(blocks);
    free(model);
    return status;
}

const st_node_type st_node_repet_audio = {
    .name = "repet_audio",
    .doc = "REPET (as the repet node, one model per channel) from audio straight to audio: the "
           "STFT (n_fft, hop, window, center as the stft node's, nussl's sqrt-Hann by default), "
           "repet_mask's period and mask, the background inverted with the mixture's phase and "
           "the foreground as the song minus the background. The same samples as stft, "
           "repet_mask, resynth and `song - background` (what `strata repet` ran before), with "
           "the same period unless two lags of the beat spectrum tie to rounding (here it comes "
           "from the magnitudes, squared), but the spectrum and the mask are never held: only the "
           "magnitudes (in blocks of 16 bins, read in order), until the period's model is made; "
           "then each frame is computed again, masked and inverted (a forward FFT costs less "
           "than the fresh pages of a spectrum), and the outputs reuse the magnitudes' memory. "
           "Outputs the background and foreground audio, the period in seconds and the beat "
           "spectrum over the lags searched (0 to max_period, capped at a third of the "
           "duration). For the mask itself, backfitting or adaptive periods, use repet_mask.",
    .inputs = (const st_port[]){{"in", ST_AUDIO}, {NULL}},
    .outputs = (const st_port[]){{"background", ST_AUDIO},
                                 {"foreground", ST_AUDIO},
                                 {"period", ST_ARRAY},
                                 {"beat_spectrum", ST_ARRAY},
                                 {NULL}},
    .params = params,
    .check = repet_audio_check,
    .run = repet_audio_run,
};
