/* unet: masks from a trained U-Net (nodes/dsp/unet.c), patch by patch over
 * the magnitude spectrogram, overlapped and cross-faded so that the masks have
 * no seams; one mask per source, for resynth. */
#include "../vm/node.h"
#include "../vm/parallel.h"
#include "dsp/model_path.h"
#include "dsp/unet.h"

#include <cblas.h>
#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MODEL "unet.safetensors"

static const st_param params[] = {
    {"model", ST_P_STRING, .def_str = "", .flags = ST_FILE_IN,
     .doc = "weights file (safetensors from tools/train/unet.py); empty: the shipped "
            "models/" DEFAULT_MODEL " (vocals, accompaniment)"},
    {"overlap", ST_P_NUMBER, .def = 0.5, .min = 0, .max = 0.875,
     .doc = "fraction of a patch shared with the next; the overlaps are cross-faded"},
    {"masks", ST_P_STRING, .def_str = "ratio", .choices = "ratio|raw",
     .doc = "ratio: m_i = p_i^power / sum_j p_j^power, the masks sum to one; raw: the "
            "network's sigmoid outputs"},
    {"power", ST_P_NUMBER, .def = 1, .min = 0.1, .max = 100,
     .doc = "exponent of the ratio masks (1, chosen on generated validation songs: +0.15 to "
            "+0.26 dB over Spleeter's 2)"},
    {NULL}};

extern const st_node_type st_node_unet;

/* One pass over the patches of one colour (patches that do not overlap), on many threads.
 * Owns nothing; fade and acc belong to the run. */
typedef struct {
    const st_unet *net;
    const st_spectrum *s;
    const float *fade;   /* frames: the cross-fade weight of a patch's frames */
    float *acc;          /* sources x channels x frames x bins: the result, summed into */
    int64_t first, step; /* patch k starts at frame first + k * step */
    int64_t n_patches;   /* per channel */
    int colours, colour; /* this pass: patches k with k % colours == colour */
    int failed;
} pass_job;

static void run_patches(void *ctx, int64_t begin, int64_t end)
{
    pass_job *j = ctx;
    const st_unet_info *info = st_unet_describe(j->net);
    const int B = info->bins, W = info->frames, S = info->n_sources, F = j->s->n_bins;
    const int64_t T = j->s->n_frames;
    const int C = j->s->n_channels;
    st_unet_work *w = st_unet_work_new(j->net);
    float *mag = malloc(sizeof(float) * B * W), *masks = malloc(sizeof(float) * S * B * W);
    if (!w || !mag || !masks) {
        j->failed = 1;
        goto done;
    }
    const int64_t per_channel = (j->n_patches - j->colour + j->colours - 1) / j->colours;
    for (int64_t item = begin; item < end; item++) {
        int c = (int)(item / per_channel);
        int64_t k = (item % per_channel) * j->colours + j->colour;
        int64_t t0 = j->first + k * j->step;
        const float complex *x = j->s->data + (size_t)c * T * F;
        for (int t = 0; t < W; t++) {
            int64_t tt = t0 + t;
            for (int b = 0; b < B; b++)
                mag[(size_t)b * W + t] = tt >= 0 && tt < T ? cabsf(x[tt * F + b]) : 0.0f;
        }
        st_unet_forward(j->net, w, mag, masks);
        for (int src = 0; src < S; src++) {
            float *a = j->acc + ((size_t)src * C + c) * T * F;
            const float *m = masks + (size_t)src * B * W;
            for (int t = 0; t < W; t++) {
                int64_t tt = t0 + t;
                if (tt < 0 || tt >= T) continue;
                for (int b = 0; b < B; b++)
                    a[tt * F + b] += j->fade[t] * m[(size_t)b * W + t];
            }
        }
    }
done:
    st_unet_work_free(w);
    free(mag), free(masks);
}

static int unet_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p, st_value **out)
{
    (void)n_in;
    const st_spectrum *s = &in[0]->u.spectrum;
    char path[4096], error[512];
    const char *model = st_str(p, "model");
    if (model[0])
        snprintf(path, sizeof path, "%s", model);
    else if (st_model_default_path(DEFAULT_MODEL, path, sizeof path))
        return st_fail(ctx, "parameter model: the U-Net model " DEFAULT_MODEL " is not installed "
                            "(looked in $STRATA_MODELS, models/ beside the program and "
                            "../share/strata/models)");
    st_unet *net = st_unet_load(path, error, sizeof error);
    if (!net) return st_fail(ctx, "parameter model: %s", error);
    const st_unet_info *info = st_unet_describe(net);
    if (info->rate_hz != s->rate_hz || info->n_fft != s->n_fft ||
        info->hop_samples != s->hop_samples || s->window != ST_WINDOW_HANN) {
        int status = st_fail(ctx,
                             "parameter model: '%s' is for %g Hz audio and a hann STFT of "
                             "n_fft %d, hop %d; the input is %g Hz, %s, n_fft %d, hop %d",
                             path, info->rate_hz, info->n_fft, info->hop_samples, s->rate_hz,
                             st_window_name(s->window), s->n_fft, s->hop_samples);
        st_unet_free(net);
        return status;
    }
    const int B = info->bins, W = info->frames, S = info->n_sources, F = s->n_bins;
    const int64_t T = s->n_frames;
    const int C = s->n_channels;
    /* patches: step frames apart, the first starting (W - step) frames before the signal so that
     * every frame is covered the same number of times */
    int64_t step = (int64_t)floor(W * (1.0 - st_num(p, "overlap")) + 0.5);
    if (step < 1) step = 1;
    const int64_t first = -(W - step);
    const int64_t n_patches = T > 0 ? (T - first + step - 1) / step : 0;
    const int colours = (int)((W + step - 1) / step);
    int64_t shape[4] = {S, C, T, F};
    static const char *const axes[] = {"source", "channel", "time", "freq"};
    st_value *res = st_array_new(4, shape, axes);
    float *fade = malloc(sizeof(float) * W), *norm = calloc((size_t)T + 1, sizeof *norm);
    float *acc = res ? res->u.array.data : NULL; /* zeroed by st_array_new */
    int status = res && fade && norm ? ST_OK : st_fail(ctx, "out of memory");
    if (status == ST_OK) {
        for (int t = 0; t < W; t++) /* a Hann fade that never reaches zero */
            fade[t] = 0.5f - 0.5f * cosf(2.0f * (float)M_PI * (t + 0.5f) / W);
        for (int64_t k = 0; k < n_patches; k++)
            for (int t = 0; t < W; t++) {
                int64_t tt = first + k * step + t;
                if (tt >= 0 && tt < T) norm[tt] += fade[t];
            }
        openblas_set_num_threads(1); /* the patches run in parallel instead */
        for (int colour = 0; colour < colours && status == ST_OK; colour++) {
            pass_job job = {net, s, fade, acc, first, step, n_patches, colours, colour, 0};
            int64_t per_channel = (n_patches - colour + colours - 1) / colours;
            st_parallel_for(ctx->n_threads, per_channel * C, run_patches, &job);
            if (job.failed) status = st_fail(ctx, "out of memory");
            st_progress(ctx, (double)(colour + 1) / colours);
        }
    }
    if (status == ST_OK) {
        const int ratio = st_choice(p, "masks") == 0;
        const float power = (float)st_num(p, "power");
        const int top =
            B - (B / 8 > 0 ? B / 8 : 1); /* above the model's band: the top eighth's mean */
        float *v = malloc(sizeof(float) * S), *hi = malloc(sizeof(float) * S);
        if (!v || !hi) status = st_fail(ctx, "out of memory");
        for (int c = 0; status == ST_OK && c < C; c++)
            for (int64_t t = 0; t < T; t++) {
                for (int src = 0; src < S; src++) {
                    const float *a = acc + (((size_t)src * C + c) * T + t) * F;
                    float sum = 0;
                    for (int b = top; b < B; b++)
                        sum += a[b];
                    hi[src] = sum / (B - top) / norm[t];
                }
                for (int f = 0; f < F; f++) {
                    float total = 0;
                    for (int src = 0; src < S; src++) {
                        float m = f < B ? acc[(((size_t)src * C + c) * T + t) * F + f] / norm[t]
                                        : hi[src];
                        v[src] = ratio ? powf(m, power) : m;
                        total += v[src];
                    }
                    for (int src = 0; src < S; src++) {
                        float m = !ratio ? v[src] : total > 0 ? v[src] / total : 1.0f / S;
                        res->u.array.data[(((size_t)src * C + c) * T + t) * F + f] = m;
                    }
                }
            }
        free(v), free(hi);
    }
    if (status == ST_OK)
        *out = res;
    else
        st_value_unref(res);
    free(fade), free(norm);
    st_unet_free(net);
    return status;
}

static int shipped_model(const st_params *p, char *path, size_t size)
{
    return st_str(p, "model")[0] ? -1 : st_model_default_path(DEFAULT_MODEL, path, size);
}

const st_node_type st_node_unet = {
    .name = "unet",
    .doc = "Masks from a trained U-Net (Jansson et al. 2017, as Spleeter uses it: 5x5 stride-2 "
           "convolutions with batch norm and leaky ReLU, transposed convolutions with skip "
           "connections, one sigmoid mask per source) run on the magnitude spectrogram patch "
           "by patch, patches overlapped and cross-faded so the masks have no seams; bins above "
           "the model's band take the mean mask of its top eighth. Each channel is its own "
           "input. Gives a stack of masks (source x channel x time x freq, in the model's "
           "source order: vocals, accompaniment for the shipped model) for resynth. The STFT "
           "must be the model's (the shipped one: 44.1 kHz, hann, n_fft 2048, hop 512). "
           "Offline only: a streaming form would need a patch of lookahead (0.74 s for the "
           "shipped model) and a worker thread; its cost would fit (about 1 % of a core for "
           "stereo). Slow: cached.",
    .inputs = (const st_port[]){{"in", ST_SPECTRUM}, {NULL}},
    .outputs = (const st_port[]){{"masks", ST_ARRAY}, {NULL}},
    .params = params,
    .version = 2,                   /* 2: ratio masks' default power 1 (was 2) */
    .implicit_file = shipped_model, /* a retrained default model changes the key */
    .slow = 1,
    .run = unet_run,
};
