/* cube: a song's magnitude spectrogram cut at its downbeats into a
 * (freq, time-in-bar, bar) array, with the map that undoes it (uncube).
 *
 * One STFT of the whole song, sliced: each frame goes to the bar its centre
 * lies in. Unlike one STFT per bar (loopextractor), every cell of the cube is
 * a frame of the song's own spectrum, so a mask made in the cube applies to
 * the mixture spectrum as it is and the inverse is exact. */
#include "../vm/budget.h"
#include "../vm/node.h"
#include "../vm/parallel.h"
#include "bars.h"
#include "dsp/magnitude.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static const st_param params[] = {
    {"align", ST_P_STRING, .def_str = "pad", .choices = "pad|warp",
     .doc = "pad: bars keep their frames and shorter bars end in zeros (loopextractor's way); "
            "warp: every bar stretched to the longest by repeating frames (nearest frame, so "
            "that uncube is still exact)"},
    {"bars_per_unit", ST_P_INT, .def = 1, .min = 1, .max = 64,
     .doc = "cut at every n-th downbeat from the first: slices of n bars, for loops longer "
            "than a bar"},
    {"power", ST_P_NUMBER, .def = 1, .min = 0.1, .max = 4,
     .doc = "cells hold the magnitude (averaged over channels) to this power"},
    {NULL}};

extern const st_node_type st_node_cube;

/* the first frame whose centre is at or after time_s (may be negative) */
static int64_t first_frame_at(const st_spectrum *s, double time_s)
{
    double offset = s->center ? 0 : s->n_fft / 2.0;
    return (int64_t)ceil((time_s * s->rate_hz - offset) / s->hop_samples - 1e-9);
}

enum { MAX_LAG = 8 };

/* similarity[lag - 1]: mean over slices b of cos(X[:, :, b], X[:, :, b + lag]).
 * dot[b * (MAX_LAG + 1) + lag] = <X_b, X_{b+lag}> (lag 0 holds the squared
 * norms), each summed over the cells in order; the slices b are split over
 * threads, each thread reading every cell for its own sums. */
typedef struct {
    const st_array *cube;
    double *dot;
} similarity_job;

static void slice_dots(void *ctx, int64_t begin, int64_t end)
{
    const similarity_job *job = ctx;
    const int64_t n_cells = job->cube->shape[0] * job->cube->shape[1], n_bars = job->cube->shape[2];
    double *dot = job->dot;
    for (int64_t i = 0; i < n_cells; i++) {
        const float *x = job->cube->data + i * n_bars;
        for (int64_t b = begin; b < end; b++)
            for (int lag = 0; lag <= MAX_LAG && b + lag < n_bars; lag++)
                dot[b * (MAX_LAG + 1) + lag] += (double)x[b] * x[b + lag];
    }
}

static int slice_similarity(const st_array *cube, float *similarity, int n_threads)
{
    const int64_t n_bars = cube->shape[2];
    double *dot = calloc((size_t)(n_bars * (MAX_LAG + 1)), sizeof *dot);
    for (int lag = 0; lag < MAX_LAG; lag++)
        similarity[lag] = 0;
    if (!dot) return ST_ERR;
    similarity_job job = {cube, dot};
    st_parallel_for(n_threads, n_bars, slice_dots, &job);
    for (int lag = 1; lag <= MAX_LAG; lag++) {
        double total = 0;
        int64_t n = 0;
        for (int64_t b = 0; b + lag < n_bars; b++) {
            double norms = dot[b * (MAX_LAG + 1)] * dot[(b + lag) * (MAX_LAG + 1)];
            if (norms <= 0) continue;
            total += dot[b * (MAX_LAG + 1) + lag] / sqrt(norms);
            n++;
        }
        similarity[lag - 1] = n ? (float)(total / n) : 0;
    }
    free(dot);
    return ST_OK;
}

/* The cells, a cache line of bars at a time: cells (k, pos, b..b+15) are
 * adjacent in the cube, so each item reads the sixteen source frames (each
 * contiguous) and writes whole lines; items are split over threads. */
enum { BAR_GROUP = 16 };

typedef struct {
    const st_spectrum *s;
    float *cell;
    const int64_t *source; /* bar x position: the song frame of the cell, -1 for none */
    int64_t n_time, n_bars;
    float power;
    int non_finite;
} cells_job;

static void fill_cells(void *ctx, int64_t begin, int64_t end)
{
    cells_job *c = ctx;
    const st_spectrum *s = c->s;
    const int64_t n_bins = s->n_bins, n_time = c->n_time, n_bars = c->n_bars;
    const size_t per_channel = (size_t)s->n_frames * (size_t)n_bins;
    float *rows = malloc(((size_t)BAR_GROUP + 1) * (size_t)n_bins * sizeof *rows);
    if (!rows) {
        __atomic_store_n(&c->non_finite, -1, __ATOMIC_RELAXED);
        return;
    }
    float *mag = rows + (size_t)BAR_GROUP * n_bins;
    for (int64_t item = begin; item < end; item++) {
        const int64_t pos = item % n_time, b0 = item / n_time * BAR_GROUP;
        const int64_t n = b0 + BAR_GROUP < n_bars ? BAR_GROUP : n_bars - b0;
        for (int64_t i = 0; i < n; i++) {
            float *row = rows + i * n_bins;
            const int64_t t = c->source[(b0 + i) * n_time + pos];
            if (t < 0) {
                for (int64_t k = 0; k < n_bins; k++)
                    row[k] = 0;
                continue;
            }
            st_channel_mean_magnitudes(s->data + (size_t)t * n_bins, per_channel, s->n_channels,
                                       n_bins, row, mag);
            for (int64_t k = 0; k < n_bins; k++) {
                const float m = row[k];
                if (!isfinite(m)) __atomic_store_n(&c->non_finite, 1, __ATOMIC_RELAXED);
                row[k] = c->power == 1.0f ? m : powf(m, c->power);
            }
        }
        for (int64_t k = 0; k < n_bins; k++) {
            float *line = c->cell + ((size_t)k * n_time + (size_t)pos) * n_bars + b0;
            for (int64_t i = 0; i < n; i++)
                line[i] = rows[i * n_bins + k];
        }
    }
    free(rows);
}

/* The message for the first non-finite magnitude, in frame order. */
static int non_finite(st_ctx *ctx, const st_spectrum *s)
{
    const size_t per_channel = (size_t)s->n_frames * (size_t)s->n_bins;
    for (int64_t t = 0; t < s->n_frames; t++)
        for (int64_t k = 0; k < s->n_bins; k++) {
            float m = 0;
            for (int c = 0; c < s->n_channels; c++)
                m += cabsf(s->data[c * per_channel + (size_t)t * s->n_bins + k]);
            m /= s->n_channels;
            if (!isfinite(m))
                return st_fail(ctx, "the spectrum holds %s at frame %lld, bin %lld (%.3f s)",
                               isnan(m) ? "NaN" : "an infinity", (long long)t, (long long)k,
                               (double)t * s->hop_samples / s->rate_hz);
        }
    return ST_ERR;
}

static int cube_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p, st_value **out)
{
    (void)n_in;
    const st_spectrum *s = &in[0]->u.spectrum;
    const int warp = st_choice(p, "align") == 1;
    const float power = (float)st_num(p, "power");
    st_bars bars;
    if (st_bars_from_events(ctx, &in[1]->u.events, (double)s->length_samples / s->rate_hz,
                            st_int(p, "bars_per_unit"), &bars))
        return ST_ERR;
    const int64_t n_frames = s->n_frames, n_bins = s->n_bins;
    const int n_bars = bars.n_bars;
    int64_t *first = malloc((size_t)n_bars * 2 * sizeof *first), *length = first + n_bars;
    int *bar_of = malloc((size_t)(n_frames ? n_frames : 1) * sizeof *bar_of);
    st_value *cube = NULL, *frames = NULL, *grid = NULL, *similarity = NULL;
    int status = first && bar_of ? ST_OK : st_fail(ctx, "out of memory");
    /* each bar's first frame and length as if uncut; T = the longest */
    int64_t n_time = 1;
    for (int b = 0; status == ST_OK && b < n_bars; b++) {
        first[b] = first_frame_at(s, bars.virtual_start_s[b]);
        length[b] = first_frame_at(s, bars.virtual_end_s[b]) - first[b];
        if (length[b] < 1) length[b] = 1;
    }
    for (int64_t t = 0, b = 0; status == ST_OK && t < n_frames; t++) {
        double time_s =
            ((double)t * s->hop_samples + (s->center ? 0 : s->n_fft / 2.0)) / s->rate_hz;
        while (b + 1 < n_bars && time_s >= bars.start_s[b + 1])
            b++;
        bar_of[t] = (int)b;
        if (t - first[b] + 1 > length[b]) length[b] = t - first[b] + 1; /* a tail joined */
    }
    for (int b = 0; b < n_bars; b++)
        if (status == ST_OK && length[b] > n_time) n_time = length[b];
    char what[160], fix[160];
    snprintf(what, sizeof what, "the cube (%lld bins x %lld frames x %d bars)", (long long)n_bins,
             (long long)n_time, n_bars);
    snprintf(fix, sizeof fix,
             "its longest bar is %.1f s (median %.3f s): check the downbeats, or lower "
             "bars_per_unit",
             (double)n_time * s->hop_samples / s->rate_hz, bars.median_bar_s);
    if (status == ST_OK && n_time * n_bins * n_bars > ((int64_t)1 << 31))
        status = st_fail(ctx, "%s is too large (2^31 elements at most): %s", what, fix);
    else if (status == ST_OK) /* float32 elements */
        status = st_memory_check(ctx, 4.0 * (double)(n_time * n_bins * n_bars), what, fix);
    if (status == ST_OK) {
        static const char *const cube_axes[] = {"freq", "time", "bar"};
        static const char *const frame_axes[] = {"frame", "field"};
        static const char *const bar_axes[] = {"bar", "field"};
        int64_t cube_shape[3] = {n_bins, n_time, n_bars}, frame_shape[2] = {n_frames, 2},
                bar_shape[2] = {n_bars, 2};
        cube = st_array_new(3, cube_shape, cube_axes);
        frames = st_array_new(2, frame_shape, frame_axes);
        grid = st_array_new(2, bar_shape, bar_axes);
        if (!cube || !frames || !grid) status = st_fail(ctx, "out of memory");
    }
    /* where each song frame sits: (bar, position); injective, so uncube is exact */
    for (int64_t t = 0; status == ST_OK && t < n_frames; t++) {
        int b = bar_of[t];
        int64_t j = t - first[b], pos = j;
        if (warp && length[b] > 1) pos = llround((double)j * (n_time - 1) / (length[b] - 1));
        frames->u.array.data[2 * t] = (float)b;
        frames->u.array.data[2 * t + 1] = (float)pos;
    }
    for (int b = 0; status == ST_OK && b < n_bars; b++) {
        grid->u.array.data[2 * b] = (float)bars.start_s[b];
        grid->u.array.data[2 * b + 1] = (float)bars.end_s[b];
    }
    /* the cells: a frame's magnitudes (mean over channels) to the power; each
     * cell's source frame first (warp: the cells p whose nearest source frame
     * is j; a later frame wins, as if written in frame order) */
    int64_t *source = status == ST_OK ? malloc((size_t)(n_bars * n_time) * sizeof *source) : NULL;
    if (status == ST_OK && !source) status = st_fail(ctx, "out of memory");
    for (int64_t i = 0; status == ST_OK && i < n_bars * n_time; i++)
        source[i] = -1;
    for (int64_t t = 0; status == ST_OK && t < n_frames; t++) {
        const int b = bar_of[t];
        const int64_t j = t - first[b];
        int64_t p0 = j, p1 = j;
        if (warp && length[b] >= 2) {
            double r = (double)(n_time - 1) / (length[b] - 1);
            p0 = (int64_t)ceil((j - 0.5) * r - 1e-9), p1 = (int64_t)floor((j + 0.5) * r - 1e-9);
            if (p0 < 0) p0 = 0;
            if (p1 > n_time - 1) p1 = n_time - 1;
        }
        for (int64_t pos = p0; pos <= p1; pos++)
            source[b * n_time + pos] = t;
    }
    if (status == ST_OK) {
        cells_job job = {s, cube->u.array.data, source, n_time, n_bars, power, 0};
        st_parallel_for(ctx->n_threads, (n_bars + BAR_GROUP - 1) / BAR_GROUP * n_time, fill_cells,
                        &job);
        if (job.non_finite < 0)
            status = st_fail(ctx, "out of memory");
        else if (job.non_finite)
            status = non_finite(ctx, s);
    }
    free(source);
    /* how well slices repeat: mean cosine similarity of each slice with the one `lag` later */
    if (status == ST_OK) {
        static const char *const lag_axes[] = {"lag"};
        int64_t n_lags = MAX_LAG;
        if (!(similarity = st_array_new(1, &n_lags, lag_axes)) ||
            slice_similarity(&cube->u.array, similarity->u.array.data, ctx->n_threads))
            status = st_fail(ctx, "out of memory");
    }
    free(first);
    free(bar_of);
    st_bars_free(&bars);
    if (status == ST_OK) {
        st_value *fields[4] = {cube, frames, grid, similarity};
        if (!(*out = st_record_of_outputs(&st_node_cube, fields)))
            status = st_fail(ctx, "out of memory");
    }
    st_value_unref(cube);
    st_value_unref(frames);
    st_value_unref(grid);
    st_value_unref(similarity);
    return status;
}

const st_node_type st_node_cube = {
    .name = "cube",
    .doc = "Cut a spectrum at its downbeats into a cube (freq, time, bar) of magnitudes (mean over "
           "channels) for the loop factorization. Downbeats are the events labelled 1 (every "
           "event when all labels are 0). The audio before the first and after the last downbeat "
           "is kept as further bars of the median bar length (the first and last may be "
           "partial; a partial first bar is aligned to its end, so positions stay positions in "
           "the bar). One STFT of the whole song is sliced, frame by frame, by its centre time, "
           "so the cube's cells are the mixture's own frames. Outputs: cube; frames (frame x "
           "{bar, position}: where each song frame sits, for uncube); bars (bar x {start, end} "
           "in seconds); similarity (lag 1..8: the mean cosine similarity of each slice's "
           "magnitudes with the slice lag slices later, 0 where the song is too short: how "
           "long its loops are).",
    .inputs = (const st_port[]){{"spectrum", ST_SPECTRUM}, {"downbeats", ST_EVENTS}, {NULL}},
    .outputs = (const st_port[]){{"cube", ST_ARRAY},
                                 {"frames", ST_ARRAY},
                                 {"bars", ST_ARRAY},
                                 {"similarity", ST_ARRAY},
                                 {NULL}},
    .params = params,
    /* 1: units of several bars start at the song's first whole bar (results cached downstream,
     * such as ntd's, must not be reused across this change) */
    .version = 1,
    .run = cube_run,
};
