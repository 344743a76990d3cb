/* nmf_filter: streaming NMF with fixed templates, as FluCoMa's NMFFilter.
 * Each input after the spectrum is one source's templates, learned offline
 * (an nmf result or a (rank, freq) array) and a constant of the stream
 * program. Per frame, a few KL multiplicative updates of the activations,
 * warm-started from the previous frame, then ratio masks per source. The
 * same code runs offline (run) and per block (process), so a render equals
 * the offline result. */
#include "../vm/node.h"

#include <float.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SOURCES 4
#define H_FLOOR     1e-9f /* activations never reach 0, so a silent stretch can end */

static const st_param params[] = {
    {"iterations", ST_P_INT, .def = 10, .min = 1, .max = 200,
     .doc = "multiplicative updates of the activations per frame"},
    {"power", ST_P_NUMBER, .def = 1, .min = 0.01, .max = 100,
     .doc = "mask_s = V_s^p / sum_j V_j^p, V_s the source's model of the frame"},
    {NULL}};

/* Owned by the node (offline) or the program (streaming); all memory from open. */
typedef struct {
    int n_bins, n_channels, n_sources, rank; /* rank: all sources' templates together */
    int first[MAX_SOURCES + 1];              /* source s has components first[s] .. first[s+1]-1 */
    float *w;                                /* rank x n_bins, each template contiguous */
    float *w_sum;                            /* rank: each template's sum */
    float *h;                                /* n_channels x rank: the warm start */
    float *mag, *model, *ratio;              /* n_bins each: scratch of one frame */
    float *part;                             /* n_sources x n_bins: the sources' models */
    int iterations;
    float power;
} nmf_filter;

static void filter_free(nmf_filter *f)
{
    if (!f) return;
    free(f->w), free(f->w_sum), free(f->h), free(f->mag), free(f->model), free(f->ratio);
    free(f->part);
    free(f);
}

/* The templates of a source: an nmf result's W or a (rank, freq) array. */
static const st_array *templates_of(const st_value *v)
{
    if (v->type == ST_RECORD) v = st_record_get(v, "W");
    if (!v || v->type != ST_ARRAY || v->u.array.n_axes != 2) return NULL;
    return &v->u.array;
}

/* Builds the filter from the template inputs; writes why not into error. */
static nmf_filter *filter_new(st_value *const *sources, int n_sources, int n_bins, int n_channels,
                              const st_params *p, char *error, size_t size)
{
    if (n_sources > MAX_SOURCES) {
        snprintf(error, size, "at most %d sources (template sets), got %d", MAX_SOURCES, n_sources);
        return NULL;
    }
    nmf_filter *f = calloc(1, sizeof *f);
    if (!f) return snprintf(error, size, "out of memory"), NULL;
    f->n_bins = n_bins, f->n_channels = n_channels, f->n_sources = n_sources;
    f->iterations = st_int(p, "iterations");
    f->power = (float)st_num(p, "power");
    for (int s = 0; s < n_sources; s++) {
        const st_array *a = templates_of(sources[s]);
        if (!a || a->shape[1] != n_bins) {
            snprintf(error, size,
                     "templates %d must be an nmf result or a (rank, freq) array of %d bins", s + 1,
                     n_bins);
            filter_free(f);
            return NULL;
        }
        f->first[s + 1] = f->first[s] + (int)a->shape[0];
    }
    f->rank = f->first[n_sources];
    f->w = malloc(sizeof(float) * (size_t)f->rank * n_bins);
    f->w_sum = malloc(sizeof(float) * (size_t)f->rank);
    f->h = malloc(sizeof(float) * (size_t)n_channels * f->rank);
    f->mag = malloc(sizeof(float) * (size_t)n_bins);
    f->model = malloc(sizeof(float) * (size_t)n_bins);
    f->ratio = malloc(sizeof(float) * (size_t)n_bins);
    f->part = malloc(sizeof(float) * (size_t)n_sources * n_bins);
    if (!f->w || !f->w_sum || !f->h || !f->mag || !f->model || !f->ratio || !f->part) {
        snprintf(error, size, "out of memory");
        filter_free(f);
        return NULL;
    }
    for (int s = 0; s < n_sources; s++) {
        const st_array *a = templates_of(sources[s]);
        memcpy(f->w + (size_t)f->first[s] * n_bins, a->data, sizeof(float) * (size_t)a->n_elems);
    }
    for (int k = 0; k < f->rank; k++) {
        double sum = 0;
        for (int b = 0; b < n_bins; b++)
            sum += f->w[(size_t)k * n_bins + b];
        f->w_sum[k] = sum > 0 ? (float)sum : 1.0f;
    }
    for (int i = 0; i < n_channels * f->rank; i++)
        f->h[i] = H_FLOOR;
    return f;
}

/* One frame of one channel: KL updates of h against the templates, then the
 * masked frame of each source into y[s]. Real-time safe. */
static void filter_frame(nmf_filter *f, int channel, const float complex *x, float complex **y)
{
    const int nb = f->n_bins, K = f->rank;
    float *h = f->h + (size_t)channel * K, *mag = f->mag, *model = f->model, *ratio = f->ratio;
    for (int b = 0; b < nb; b++)
        mag[b] = cabsf(x[b]);
    for (int it = 0; it < f->iterations; it++) {
        memset(model, 0, sizeof(float) * nb);
        for (int k = 0; k < K; k++) {
            const float *w = f->w + (size_t)k * nb, hk = h[k];
            for (int b = 0; b < nb; b++)
                model[b] += w[b] * hk;
        }
        for (int b = 0; b < nb; b++)
            ratio[b] = mag[b] / (model[b] > FLT_MIN ? model[b] : FLT_MIN);
        for (int k = 0; k < K; k++) {
            const float *w = f->w + (size_t)k * nb;
            float num = 0;
            for (int b = 0; b < nb; b++)
                num += w[b] * ratio[b];
            h[k] = fmaxf(h[k] * num / f->w_sum[k], H_FLOOR);
        }
    }
    /* the sources' models of this frame, and masks V_s^p / sum_j V_j^p taken on
     * V / max_j V_j, so that no power overflows */
    for (int s = 0; s < f->n_sources; s++) {
        float *v = f->part + (size_t)s * nb;
        memset(v, 0, sizeof(float) * nb);
        for (int k = f->first[s]; k < f->first[s + 1]; k++) {
            const float *w = f->w + (size_t)k * nb, hk = h[k];
            for (int b = 0; b < nb; b++)
                v[b] += w[b] * hk;
        }
    }
    for (int b = 0; b < nb; b++) {
        float top = 0, total = 0, u[MAX_SOURCES];
        for (int s = 0; s < f->n_sources; s++)
            top = fmaxf(top, f->part[(size_t)s * nb + b]);
        for (int s = 0; s < f->n_sources; s++) {
            u[s] = top > FLT_MIN ? f->part[(size_t)s * nb + b] / top : 1.0f;
            if (f->power != 1) u[s] = powf(u[s], f->power);
            total += u[s];
        }
        for (int s = 0; s < f->n_sources; s++)
            y[s][b] = x[b] * (u[s] / total);
    }
}

extern const st_node_type st_node_nmf_filter;

static int nmf_filter_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p,
                          st_value **out)
{
    const st_spectrum *s = &in[0]->u.spectrum;
    char error[256];
    nmf_filter *f = filter_new(in + 1, n_in - 1, s->n_bins, s->n_channels, p, error, sizeof error);
    if (!f) return st_fail(ctx, "%s", error);
    st_value *parts[MAX_SOURCES] = {0};
    int status = ST_OK;
    for (int q = 0; q < MAX_SOURCES; q++)
        if (!(parts[q] = st_spectrum_like(s))) status = st_fail(ctx, "out of memory");
    const size_t per = (size_t)s->n_frames * s->n_bins;
    for (int64_t t = 0; status == ST_OK && t < s->n_frames; t++)
        for (int c = 0; c < s->n_channels; c++) {
            const size_t at = (size_t)c * per + (size_t)t * s->n_bins;
            float complex *y[MAX_SOURCES];
            for (int q = 0; q < f->n_sources; q++)
                y[q] = parts[q]->u.spectrum.data + at;
            filter_frame(f, c, s->data + at, y);
        }
    if (status == ST_OK && !(*out = st_record_of_outputs(&st_node_nmf_filter, parts)))
        status = st_fail(ctx, "out of memory");
    for (int q = 0; q < MAX_SOURCES; q++)
        st_value_unref(parts[q]);
    filter_free(f);
    return status;
}

static void nmf_filter_close(void *state) { filter_free(state); }

static int nmf_filter_open(st_ctx *ctx, st_open *o, void **state)
{
    if (o->constant[0] || o->in[0].type != ST_SPECTRUM)
        return st_fail(ctx, "streams a spectrum (from a streaming stft)");
    for (int i = 1; i < o->n_in; i++)
        if (!o->constant[i])
            return st_fail(ctx,
                           "templates %d must be computed offline (an nmf result), not "
                           "streamed",
                           i);
    char error[256];
    nmf_filter *f = filter_new(o->constant + 1, o->n_in - 1, o->in[0].n_bins, o->in[0].n_channels,
                               o->params, error, sizeof error);
    if (!f) return st_fail(ctx, "%s", error);
    for (int q = 0; q < MAX_SOURCES; q++)
        o->out[q] = o->in[0];
    o->latency_samples = 0;
    *state = f;
    return ST_OK;
}

/* Real-time safe: the filter's memory is from open; no locks, no I/O. */
static void nmf_filter_process(void *state, const st_block *const *in, st_block *out, int n)
{
    (void)n;
    nmf_filter *f = state;
    const size_t frame = (size_t)f->n_channels * f->n_bins;
    for (int t = 0; t < in[0]->n_frames; t++)
        for (int c = 0; c < f->n_channels; c++) {
            const size_t at = (size_t)t * frame + (size_t)c * f->n_bins;
            float complex *y[MAX_SOURCES];
            for (int q = 0; q < f->n_sources; q++)
                y[q] = out[q].bins + at;
            filter_frame(f, c, in[0]->bins + at, y);
        }
    for (int q = 0; q < MAX_SOURCES; q++) {
        if (q >= f->n_sources)
            memset(out[q].bins, 0, sizeof(float complex) * frame * (size_t)in[0]->n_frames);
        out[q].n_frames = in[0]->n_frames;
    }
}

const st_node_type st_node_nmf_filter = {
    .name = "nmf_filter",
    .doc = "Streaming NMF with fixed templates (as FluCoMa's NMFFilter): after the spectrum come "
           "one to four sources' templates, learned offline (nmf results, or (rank, freq) "
           "arrays). Per frame, `iterations` KL multiplicative updates of the activations "
           "against all the templates, warm-started from the previous frame; each source's "
           "part of the frame by the ratio mask of its model. Outputs s1..s4 (silent beyond "
           "the sources given). Streams with no latency beyond the STFT's; offline gives the "
           "same frames.",
    .inputs = (const st_port[]){{"in", ST_SPECTRUM}, {"templates", ST_ANY}, {NULL}},
    .outputs = (const st_port[]){{"s1", ST_SPECTRUM},
                                 {"s2", ST_SPECTRUM},
                                 {"s3", ST_SPECTRUM},
                                 {"s4", ST_SPECTRUM},
                                 {NULL}},
    .params = params,
    .version = 1,
    .variadic = 1,
    .run = nmf_filter_run,
    .open = nmf_filter_open,
    .process = nmf_filter_process,
    .close = nmf_filter_close,
};
