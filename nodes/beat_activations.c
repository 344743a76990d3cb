/* Audio to beat activations: mono, 44.1 kHz, features, network. */
#include "beat_activations.h"

#include "../vm/alloc.h"

#include "dsp/beat_tcn.h"
#include "dsp/logspec.h"
#include "dsp/resample.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The bands folded to 12 pitch classes, frame by frame: *chroma, or NULL when
 * memory is short. */
static float *fold_chroma(const st_logspec *spec, const float *features, int64_t n_frames)
{
    int n_bands = st_logspec_n_bands(spec), pitch_class[256];
    for (int b = 0; b < n_bands && b < 256; b++) {
        double f = st_logspec_band_hz(spec, b);
        pitch_class[b] = -1;
        if (f >= ST_BEAT_CHROMA_MIN_HZ && f <= ST_BEAT_CHROMA_MAX_HZ) {
            long midi = lround(69.0 + 12.0 * log2(f / 440.0));
            pitch_class[b] = (int)(midi % 12);
        }
    }
    float *chroma = calloc((size_t)(n_frames > 0 ? n_frames : 1) * 12, sizeof *chroma);
    if (!chroma) return NULL;
    for (int64_t t = 0; t < n_frames; t++) {
        const float *row = features + (size_t)t * n_bands;
        float *c = chroma + (size_t)t * 12;
        for (int b = 0; b < n_bands && b < 256; b++)
            if (pitch_class[b] >= 0) c[pitch_class[b]] += row[b];
    }
    return chroma;
}

int st_beat_activations(st_ctx *ctx, const char *param, const st_audio *a, const char *model,
                        float **act, int64_t *n_frames, float **chroma)
{
    char path[4096], error[512];
    if (model[0])
        snprintf(path, sizeof path, "%s", model);
    else if (st_beat_tcn_default_path(path, sizeof path))
        return st_fail(
            ctx,
            "parameter %s: the beat model beats_tcn.safetensors is not installed "
            "(looked in $STRATA_MODELS, models/ beside the program and ../share/strata/models)",
            param);
    if (a->n_frames < 1 || a->n_channels < 1) return st_fail(ctx, "input: the audio is empty");
    /* the channels averaged, then 44.1 kHz */
    st_value *mono = st_audio_new(1, a->n_frames, a->rate_hz);
    if (!mono) return st_fail(ctx, "out of memory");
    float *m = mono->u.audio.channel[0];
    for (int c = 0; c < a->n_channels; c++)
        for (int64_t t = 0; t < a->n_frames; t++)
            m[t] += a->channel[c][t] / (float)a->n_channels;
    for (int64_t t = 0; t < a->n_frames; t++)
        if (!isfinite(m[t])) {
            st_value_unref(mono);
            return st_fail(ctx, "input: sample %lld is not a finite number", (long long)t);
        }
    if (a->rate_hz != ST_LOGSPEC_RATE_HZ) {
        st_value *r =
            st_resample(&mono->u.audio, ST_LOGSPEC_RATE_HZ, 1, ctx->n_threads, error, sizeof error);
        st_value_unref(mono);
        if (!r) return st_fail(ctx, "input: resampling to 44.1 kHz: %s", error);
        mono = r;
    }
    const st_audio *x = &mono->u.audio;
    st_beat_tcn *net = st_beat_tcn_load(path, error, sizeof error);
    st_logspec *spec = net ? st_logspec_create() : NULL;
    int64_t n = st_logspec_n_frames(x->n_frames);
    float *features = NULL, *out = NULL;
    int status = ST_OK;
    if (!net)
        status = st_fail(ctx, "parameter %s: %s", param, error);
    else if (!spec)
        status = st_fail(ctx, "out of memory");
    else if (st_logspec_n_bands(spec) != st_beat_tcn_n_bands(net))
        status = st_fail(ctx, "parameter %s: '%s' expects %d bands, the front end makes %d", param,
                         path, st_beat_tcn_n_bands(net), st_logspec_n_bands(spec));
    if (status == ST_OK) {
        features = st_zalloc((size_t)n * st_logspec_n_bands(spec) * sizeof *features);
        out = malloc((size_t)n * 2 * sizeof *out);
        if (!features || !out || st_beat_tcn_plan(net, n, ctx->n_threads) ||
            st_logspec_compute(spec, x->channel[0], x->n_frames, features, ctx->n_threads))
            status = st_fail(ctx, "out of memory (%lld frames)", (long long)n);
    }
    if (status == ST_OK) st_beat_tcn_run(net, features, n, out);
    float *folded = NULL;
    if (status == ST_OK && chroma && !(folded = fold_chroma(spec, features, n)))
        status = st_fail(ctx, "out of memory (%lld frames)", (long long)n);
    st_zfree(features);
    st_logspec_destroy(spec);
    st_beat_tcn_destroy(net);
    st_value_unref(mono);
    if (status != ST_OK) {
        free(out);
        return status;
    }
    *act = out;
    *n_frames = n;
    if (chroma) *chroma = folded;
    return ST_OK;
}

int st_beat_shipped_model(const st_params *p, char *path, size_t size)
{
    return st_str(p, "model")[0] ? -1 : st_beat_tcn_default_path(path, size);
}
