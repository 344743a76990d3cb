/* rpca: background/foreground separation by robust PCA of the magnitude
 * spectrogram (Huang et al. 2012), with nussl 1.1's settings and masks. */
#include "../vm/budget.h"
#include "../vm/node.h"
#include "dsp/rpca.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const st_param params[] = {
    {"iterations", ST_P_INT, .def = 100, .min = 1, .max = 10000, .doc = "ALM iterations at most"},
    {"tol", ST_P_NUMBER, .def = 1e-7, .min = 0, .max = 1,
     .doc = "stop when ||M - L - S||_F / ||M||_F falls below"},
    {"lambda", ST_P_NUMBER, .def = 0, .min = 0, .max = 1e6,
     .doc = "weight of the sparse part; 0 takes 1/sqrt(max(bins, frames))"},
    {"mask", ST_P_STRING, .def_str = "binary", .choices = "binary|soft",
     .doc = "binary: background where gain |S| <= |L| (nussl); soft: |L|^p / (|L|^p + (gain "
            "|S|)^p)"},
    {"power", ST_P_NUMBER, .def = 2, .min = 0.01, .max = 100, .doc = "soft mask exponent"},
    {"gain", ST_P_NUMBER, .def = 1, .min = 0, .max = 1e6,
     .doc = "weight of the sparse part in the masks (nussl's gain)"},
    {"cutoff_hz", ST_P_NUMBER, .def = 100, .min = 0, .max = 1e6,
     .doc = "bins below this frequency go to the background (nussl's high-pass rule)"},
    {NULL}};

extern const st_node_type st_node_rpca;

typedef struct {
    st_ctx *ctx;
    int channel, n_channels;
} progress_ctx;

/* The bar: channels done and this channel's iterations; the note: the residual. */
static void on_progress(void *data, int iteration, int max_iter, double error)
{
    progress_ctx *pc = data;
    char note[40];
    snprintf(note, sizeof note, "residual %.3g", error);
    st_progress_note(pc->ctx, (pc->channel + (double)iteration / max_iter) / pc->n_channels, note);
}

static int rpca_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p, st_value **out)
{
    (void)n_in;
    const st_spectrum *s = &in[0]->u.spectrum;
    const int F = s->n_bins;
    const int64_t T = s->n_frames;
    const size_t per = (size_t)F * (size_t)T;
    int64_t shape[4] = {2, s->n_channels, T, F};
    static const char *const axes[] = {"mask", "channel", "time", "freq"};
    /* two spectra and the masks out; M, L, S, the SVD's factors and its copy of M inside */
    double bytes = (double)per * (24.0 * s->n_channels + 24.0);
    char what[160];
    snprintf(what, sizeof what, "robust PCA of %d bins x %lld frames", F, (long long)T);
    if (st_memory_check(ctx, bytes, what, "raise the stft's hop, or split the input"))
        return ST_ERR;
    st_value *bg = st_spectrum_like(s), *fg = st_spectrum_like(s),
             *masks = st_array_new(4, shape, axes);
    float *m = malloc(sizeof(float) * per), *l = malloc(sizeof(float) * per);
    float *sp = malloc(sizeof(float) * per);
    int status = bg && fg && masks && m && l && sp ? ST_OK : st_fail(ctx, "out of memory");
    const int soft = st_choice(p, "mask") == 1;
    const float power = (float)st_num(p, "power"), gain = (float)st_num(p, "gain");
    const int cutoff_bin = (int)ceil(st_num(p, "cutoff_hz") * s->n_fft / s->rate_hz);
    st_rpca_options o = {.lambda = st_num(p, "lambda"),
                         .max_iter = st_int(p, "iterations"),
                         .tol = st_num(p, "tol"),
                         .n_threads = ctx->n_threads,
                         .progress = on_progress};
    progress_ctx pc = {ctx, 0, s->n_channels};
    o.progress_data = &pc;
    for (int c = 0; status == ST_OK && c < s->n_channels; c++) {
        const float complex *x = s->data + (size_t)c * per;
        for (size_t i = 0; i < per; i++)
            m[i] = cabsf(x[i]);
        st_rpca_result r;
        pc.channel = c;
        if (st_rpca(m, F, T, l, sp, &o, &r)) {
            status = st_fail(ctx,
                             "channel %d: the decomposition failed (silent input, or out of "
                             "memory)",
                             c + 1);
            break;
        }
        float *mb = masks->u.array.data + (size_t)c * per;
        float *mf = masks->u.array.data + (size_t)s->n_channels * per + (size_t)c * per;
        for (int64_t t = 0; t < T; t++)
            for (int f = 0; f < F; f++) {
                size_t i = (size_t)t * F + f;
                float a = fabsf(l[i]), b = gain * fabsf(sp[i]), w;
                if (f < cutoff_bin)
                    w = 1;
                else if (!soft)
                    w = b <= a;
                else {
                    float pa = powf(a, power), pb = powf(b, power);
                    w = pa + pb > 0 ? pa / (pa + pb) : 1;
                }
                mb[i] = w, mf[i] = 1 - w;
                bg->u.spectrum.data[(size_t)c * per + i] = x[i] * w;
                fg->u.spectrum.data[(size_t)c * per + i] = x[i] * (1 - w);
            }
        st_progress(ctx, (double)(c + 1) / s->n_channels);
    }
    if (status == ST_OK) {
        st_value *fields[3] = {bg, fg, masks};
        if (!(*out = st_record_of_outputs(&st_node_rpca, fields)))
            status = st_fail(ctx, "out of memory");
    }
    free(m), free(l), free(sp);
    st_value_unref(bg), st_value_unref(fg), st_value_unref(masks);
    return status;
}

const st_node_type st_node_rpca = {
    .name = "rpca",
    .doc = "Background/foreground separation by robust PCA of each channel's magnitude "
           "spectrogram, M = L + S (inexact ALM, Lin et al.; Huang et al. 2012 for singing "
           "voice) with nussl 1.1's settings: lambda 1/sqrt(max(bins, frames)), mu 1.25/||M||_2, "
           "rho 1.5, at most 100 iterations, tolerance 1e-7. The low-rank part L is the "
           "background, the sparse part S the foreground; masks binary (nussl) or soft, bins "
           "below cutoff_hz to the background. Singular value thresholding by a randomised "
           "truncated SVD. Gives the masked spectra and the masks (background, foreground). "
           "Slow: cached.",
    .inputs = (const st_port[]){{"in", ST_SPECTRUM}, {NULL}},
    .outputs =
        (const st_port[]){
            {"background", ST_SPECTRUM}, {"foreground", ST_SPECTRUM}, {"masks", ST_ARRAY}, {NULL}},
    .params = params,
    .version = 3,        /* 2: warm-started partial SVDs (other rounding, same fixed point);
                            3: the partial SVD's products in fixed parts (other rounding) */
    .threads_matter = 1, /* OpenBLAS threads the exact SVD and the low-rank product */
    .slow = 1,
    .run = rpca_run,
};
