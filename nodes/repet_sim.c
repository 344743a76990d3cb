/* repet_sim: the repeating background of a spectrum from the frames most
 * like each frame (Rafii & Pardo 2012), as nussl 1.1.9's RepetSim. */
#include "../vm/budget.h"
#include "../vm/node.h"
#include "../vm/parallel.h"
#include "dsp/masks.h"
#include "dsp/repet.h"
#include "spectral.h"

#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const st_param params[] = {
    {"similarity_threshold", ST_P_NUMBER, .def = 0, .min = 0, .max = 1,
     .doc =
         "least similarity of a repeating frame, on the frame's similarities rescaled to [0, 1]"},
    {"min_distance", ST_P_NUMBER, .def = 1, .min = 0, .max = 3600,
     .doc = "seconds between two repeating frames of one frame"},
    {"max_repeating_frames", ST_P_INT, .def = 100, .min = 1, .max = 10000,
     .doc = "peaks searched per frame; the first (the frame itself) is dropped, so at most one "
            "fewer repeating frames"},
    {"high_pass_hz", ST_P_NUMBER, .def = 100, .min = 0, .max = 100000,
     .doc = "bins below the one nearest this frequency go to the background"},
    {"mask", ST_P_STRING, .def_str = "soft", .choices = "soft|hard",
     .doc = "soft: (min(model, |X|) + eps) / (|X| + eps), eps 1e-16; hard: 1 where that is at "
            "least threshold"},
    {"threshold", ST_P_NUMBER, .def = 0.5, .min = 0, .max = 1,
     .doc = "hard masks: the soft value from which a bin is background"},
    {"shared", ST_P_BOOL, .def = 0,
     .doc = "one model and mask for every channel, from the root of their mean power (else one "
            "model per channel; the similarities always come from the mean magnitude)"},
    {NULL}};

/* Rows of the channels' mean magnitude scaled to norm 1 (0 for silence);
 * items are frames. A mono spectrum's magnitudes are already in unit. */
typedef struct {
    const st_spectrum *s;
    float *unit;
} unit_job;

static void unit_range(void *ctx, int64_t begin, int64_t end)
{
    unit_job *job = ctx;
    const st_spectrum *s = job->s;
    const size_t n_bins = (size_t)s->n_bins, plane = (size_t)s->n_frames * n_bins;
    for (int64_t t = begin; t < end; t++) {
        float *u = job->unit + (size_t)t * n_bins;
        if (s->n_channels > 1)
            for (size_t k = 0; k < n_bins; k++) {
                double m = 0;
                for (int c = 0; c < s->n_channels; c++)
                    m += cabsf(s->data[(size_t)c * plane + (size_t)t * n_bins + k]);
                u[k] = (float)(m / s->n_channels);
            }
        double norm = 0;
        for (size_t k = 0; k < n_bins; k++)
            norm += (double)u[k] * u[k];
        float scale = norm > 0 ? (float)(1.0 / sqrt(norm)) : 0.0f;
        for (size_t k = 0; k < n_bins; k++)
            u[k] *= scale;
    }
}

static void unit_rows(const st_spectrum *s, int n_threads, float *unit)
{
    if (s->n_channels == 1) /* cabsf's values, to the bit */
        st_repet_magnitudes(s->data, 1, (size_t)s->n_frames * (size_t)s->n_bins, 0, n_threads,
                            unit);
    unit_job job = {s, unit};
    st_parallel_for(n_threads, s->n_frames, unit_range, &job);
}

typedef struct {
    const float *mag; /* n_models planes */
    int64_t n_frames;
    int n_bins, width, n_models;
    const int32_t *neighbours;
    const int *n_neighbours;
    float *model;
    int failed;
} model_job;

/* Items are (model channel, frame). */
static void model_range(void *ctx, int64_t begin, int64_t end)
{
    model_job *job = ctx;
    const size_t n_bins = (size_t)job->n_bins, plane = (size_t)job->n_frames * n_bins;
    const float **rows = malloc(((size_t)job->width + 1) * sizeof *rows);
    st_rows_median *median = st_rows_median_new(job->width);
    if (!rows || !median) {
        job->failed = 1;
        goto done;
    }
    for (int64_t item = begin; item < end; item++) {
        int64_t c = item / job->n_frames, t = item % job->n_frames;
        float *out = job->model + (size_t)c * plane + (size_t)t * n_bins;
        int n = job->n_neighbours[t];
        if (n == 0) { /* nussl: a model of ones */
            for (size_t k = 0; k < n_bins; k++)
                out[k] = 1.0f;
            continue;
        }
        const int32_t *nb = job->neighbours + (size_t)t * (size_t)job->width;
        for (int i = 0; i < n; i++)
            rows[i] = job->mag + (size_t)c * plane + (size_t)nb[i] * n_bins;
        st_rows_median_run(median, rows, n, job->n_bins, out);
    }
done:
    free(rows);
    st_rows_median_free(median);
}

static int repet_sim_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p,
                         st_value **out)
{
    (void)n_in;
    extern const st_node_type st_node_repet_sim;
    const st_spectrum *s = &in[0]->u.spectrum;
    const int64_t n_frames = s->n_frames;
    const int n_bins = s->n_bins, shared = st_int(p, "shared");
    const int n_models = shared ? 1 : s->n_channels;
    const int n_peaks = st_int(p, "max_repeating_frames");
    const int width = n_peaks > 1 ? n_peaks - 1 : 1;
    const size_t plane = (size_t)n_frames * (size_t)n_bins;
    int64_t mask_shape[3] = {n_models, n_frames, n_bins}, nb_shape[2] = {n_frames, width};
    static const char *const mask_axes[] = {"channel", "time", "freq"};
    static const char *const nb_axes[] = {"time", "rank"};
    st_value *fields[4] = {st_spectrum_like(s), st_spectrum_like(s),
                           st_array_new(3, mask_shape, mask_axes),
                           st_array_new(2, nb_shape, nb_axes)};
    int32_t *neighbours = malloc(plane ? (size_t)n_frames * (size_t)width * sizeof *neighbours : 1);
    int *counts = malloc((size_t)n_frames * sizeof *counts + 1);
    int status = ST_ERR;
    for (int i = 0; i < 4; i++)
        if (!fields[i]) goto oom;
    if (!neighbours || !counts) goto oom;

    /* the unit rows live in the mask's memory until the model needs it */
    float *mask = fields[2]->u.array.data;
    float *unit = shared || s->n_channels == 1 ? mask : (float *)fields[0]->u.spectrum.data;
    unit_rows(s, ctx->n_threads, unit);
    double min_distance = st_num(p, "min_distance") * s->rate_hz / s->hop_samples;
    /* up to 1 GiB (a song of about 4 minutes at hop 512 and 44.1 kHz) for the
     * upper triangle of the similarities, which halves the multiply-adds */
    double upper_bytes = fmin(1024.0 * 1024.0 * 1024.0, st_memory_budget());
    /* the triangle borrows the two spectra's memory, written only at the end
     * (the background's holds the unit rows when there are several channels) */
    const size_t spectrum_floats = 2 * plane * (size_t)s->n_channels;
    const int both = unit == mask;
    st_repet_spare spare = {
        {(float *)fields[1]->u.spectrum.data, both ? (float *)fields[0]->u.spectrum.data : NULL},
        {spectrum_floats, both ? spectrum_floats : 0}};
    if (st_repet_sim_neighbours(unit, n_frames, n_bins, min_distance,
                                (float)st_num(p, "similarity_threshold"), n_peaks, ctx->n_threads,
                                upper_bytes, &spare, neighbours, counts))
        goto oom;
    float *nb = fields[3]->u.array.data;
    for (size_t i = 0; i < (size_t)n_frames * (size_t)width; i++)
        nb[i] = (float)neighbours[i];

    /* the magnitudes sit in the foreground's memory until the masks are applied */
    float *mag = (float *)fields[1]->u.spectrum.data;
    st_repet_magnitudes(s->data, s->n_channels, plane, shared, ctx->n_threads, mag);
    model_job mj = {mag, n_frames, n_bins, width, n_models, neighbours, counts, mask, 0};
    st_parallel_for(ctx->n_threads, n_models * n_frames, model_range, &mj);
    if (mj.failed) goto oom;
    const int cutoff = st_repet_cutoff_bin(st_num(p, "high_pass_hz"), s->rate_hz, s->n_fft);
    for (int c = 0; c < n_models; c++)
        st_repet_soft_mask(mask + (size_t)c * plane, n_frames, mag + (size_t)c * plane, n_frames,
                           n_bins, 1e-16f, cutoff, ctx->n_threads, mask + (size_t)c * plane);
    if (st_choice(p, "mask") == 1)
        st_mask_harden(mask, plane * (size_t)n_models, (float)st_num(p, "threshold"));
    st_mask_split(s, mask, shared, fields[0]->u.spectrum.data, fields[1]->u.spectrum.data,
                  ctx->n_threads);
    *out = st_record_of_outputs(&st_node_repet_sim, fields);
    status = *out ? ST_OK : st_fail(ctx, "out of memory");
    goto done;
oom:
    status = st_fail(ctx, "out of memory for %lld frames x %d bins", (long long)n_frames, n_bins);
done:
    for (int i = 0; i < 4; i++)
        st_value_unref(fields[i]);
    free(neighbours);
    free(counts);
    return status;
}

const st_node_type st_node_repet_sim = {
    .name = "repet_sim",
    .doc = "REPET-SIM (Rafii & Pardo 2012) as nussl 1.1.9's RepetSim: for each frame, the frames "
           "most like it (cosine similarity of the channels' mean magnitude, computed by blocks "
           "with cblas_sgemm), found as nussl does: the similarities rescaled to [0, 1], the "
           "largest taken while its surroundings within min_distance are zeroed, up to "
           "max_repeating_frames, the first (the frame itself) dropped; the repeating model is "
           "their median magnitude, the background mask compares min(model, |X|) with |X|, and "
           "bins below high_pass_hz are all background. Outputs the background and foreground "
           "spectra, the background mask (channel x time x freq) and each frame's repeating "
           "frames (time x rank, frame indices, -1 past the last).",
    .inputs = (const st_port[]){{"in", ST_SPECTRUM}, {NULL}},
    .outputs = (const st_port[]){{"background", ST_SPECTRUM},
                                 {"foreground", ST_SPECTRUM},
                                 {"mask", ST_ARRAY},
                                 {"neighbours", ST_ARRAY},
                                 {NULL}},
    .params = params,
    .run = repet_sim_run,
};
