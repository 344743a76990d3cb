/* bsseval: BSS Eval v3 (mir_eval 0.7's numbers), framewise too, with SI-SDR
 * and SD-SDR. The numerics are in dsp/bss.c. */
#include "../vm/node.h"
#include "../vm/alloc.h"
#include "dsp/bss.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* framewise windows one evaluation may have: about a minute and a half */
#define MAX_WINDOWS 10000

static const st_param params[] = {
    {"mode", ST_P_STRING, .def_str = "sources", .choices = "sources|images",
     .doc = "bss_eval_sources (mono sources; SDR, SIR, SAR) or bss_eval_images (any channel count; "
            "adds ISR)"},
    {"permutation", ST_P_BOOL, .def = 1,
     .doc = "match estimates to references by the best mean SIR (as mir_eval)"},
    {"window", ST_P_INT, .def = 0, .min = 0, .max = 1e10,
     .doc = "framewise window in samples; 0 computes no framewise scores"},
    {"hop", ST_P_INT, .def = 0, .min = 0, .max = 1e10,
     .doc = "framewise hop in samples; 0 means the window"},
    {"frame_permutation", ST_P_BOOL, .def = 0,
     .doc = "search the permutation in each window too (mir_eval's default is not to)"},
    {"filter_length", ST_P_INT, .def = 512, .min = 1, .max = 8192,
     .doc = "length of the allowed distortion filters"},
    {"version", ST_P_STRING, .def_str = "v3", .choices = "v3|v4",
     .doc = "v3: mir_eval 0.7 (filters fitted per window); v4: museval (filters fitted once on the "
            "whole signal, energies per window)"},
    {"trim", ST_P_BOOL, .def = 0,
     .doc = "cut every signal to the shortest instead of refusing different lengths"},
    {NULL}};

extern const st_node_type st_node_bsseval;

/* The audio of a list, checked for one rate, one channel count and one length. */
static int gather(st_ctx *ctx, const st_value *list, const char *what, int images, int trim,
                  const st_audio **audio, int *n, int *n_chan, int64_t *length, double *rate)
{
    const st_record *r = &list->u.record;
    if (r->n_fields < 1) return st_fail(ctx, "no %s given", what);
    if (r->n_fields > ST_BSS_MAX_SOURCES)
        return st_fail(ctx, "%d %s: at most %d", r->n_fields, what, ST_BSS_MAX_SOURCES);
    for (int i = 0; i < r->n_fields; i++) {
        if (r->field[i]->type != ST_AUDIO)
            return st_fail(ctx, "%s %d is a %s, not audio", what, i + 1,
                           st_type_name(r->field[i]->type));
        const st_audio *a = &r->field[i]->u.audio;
        audio[i] = a;
        if (!images && a->n_channels != 1)
            return st_fail(ctx,
                           "%s %d has %d channels: mode = \"sources\" takes mono (mix down, or use "
                           "mode = \"images\")",
                           what, i + 1, a->n_channels);
        if (*n_chan == 0) *n_chan = a->n_channels, *length = a->n_frames, *rate = a->rate_hz;
        if (a->n_channels != *n_chan)
            return st_fail(ctx, "%s %d has %d channels, others %d", what, i + 1, a->n_channels,
                           *n_chan);
        if (a->rate_hz != *rate)
            return st_fail(ctx, "%s %d is at %g Hz, others at %g Hz", what, i + 1, a->rate_hz,
                           *rate);
        if (a->n_frames != *length) {
            if (!trim)
                return st_fail(
                    ctx, "%s %d has %lld samples, others %lld (trim = true cuts to the shortest)",
                    what, i + 1, (long long)a->n_frames, (long long)*length);
            if (a->n_frames < *length) *length = a->n_frames;
        }
    }
    *n = r->n_fields;
    return ST_OK;
}

static st_value *vector(int n, int64_t n_win, const double *values)
{
    static const char *const axes1[] = {"source"}, *const axes2[] = {"source", "window"};
    int64_t shape[2] = {n, n_win};
    st_value *v = n_win ? st_array_new(2, shape, axes2) : st_array_new(1, shape, axes1);
    if (v)
        for (int64_t i = 0; i < v->u.array.n_elems; i++)
            v->u.array.data[i] = (float)values[i];
    return v;
}

static void scale_invariant(const double *const *ref, const double *const *est, int n_chan,
                            int64_t n, double *si_sdr, double *sd_sdr)
{
    double ss = 0, se = 0, ee = 0;
    for (int c = 0; c < n_chan; c++)
        for (int64_t t = 0; t < n; t++) {
            ss += ref[c][t] * ref[c][t];
            se += ref[c][t] * est[c][t];
            ee += est[c][t] * est[c][t];
        }
    double alpha = se / ss, target = alpha * alpha * ss;
    double residual = target - 2 * alpha * se + ee; /* ||alpha s - e||^2 */
    double error = ss - 2 * se + ee;                /* ||s - e||^2 */
    *si_sdr = 10 * log10(target / residual);
    *sd_sdr = 10 * log10(target / error);
}

static int bsseval_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p,
                       st_value **out)
{
    (void)n_in;
    const st_audio *ref_audio[ST_BSS_MAX_SOURCES], *est_audio[ST_BSS_MAX_SOURCES];
    int n_ref = 0, n_est = 0, n_chan = 0, images = st_choice(p, "mode") == 1,
        trim = st_int(p, "trim");
    int64_t length = 0;
    double rate = 0;
    if (gather(ctx, in[0], "reference", images, trim, ref_audio, &n_ref, &n_chan, &length, &rate) ||
        gather(ctx, in[1], "estimate", images, trim, est_audio, &n_est, &n_chan, &length, &rate))
        return ST_ERR;
    if (n_ref != n_est) return st_fail(ctx, "%d references but %d estimates", n_ref, n_est);
    if (length < 1) return st_fail(ctx, "the signals are empty");
    const int n_src = n_ref, n_rows = n_src * n_chan;
    int64_t window = st_int(p, "window"), hop = st_int(p, "hop") ? st_int(p, "hop") : window;
    int64_t n_win = window ? (length - window + hop) / hop : 0;
    int framewise = window > 0;
    if (n_win < 2) n_win = 1; /* mir_eval falls back to the whole signal */
    /* what a window may cost: each is a whole evaluation (milliseconds), so a
     * tiny window or hop is hours (--window 0.0001 ran for ten minutes on a
     * 6.8 s file): more than MAX_WINDOWS is an error, not a wait (issue 9.11) */
    if (framewise && n_win > MAX_WINDOWS) {
        if (hop < window)
            return st_fail(ctx,
                           "parameter hop = %lld samples (%.4g s) makes %lld windows (at most "
                           "%d): give a hop of at least %.4g s",
                           (long long)hop, (double)hop / rate, (long long)n_win, MAX_WINDOWS,
                           (double)length / MAX_WINDOWS / rate);
        return st_fail(ctx,
                       "parameter window = %lld samples (%.4g s) makes %lld windows (at most %d): "
                       "give a window of at least %.4g s",
                       (long long)window, (double)window / rate, (long long)n_win, MAX_WINDOWS,
                       (double)length / MAX_WINDOWS / rate);
    }
    double *ref[512], *est[512];
    double *scores = calloc((size_t)n_src * (size_t)(7 + 5 * n_win), sizeof *scores);
    int status = scores ? ST_OK : st_fail(ctx, "out of memory");
    /* one block in huge pages: faulting in small pages costs more than the evaluation */
    double *block = st_zalloc(2 * (size_t)n_rows * (size_t)length * sizeof *block);
    if (!block && status == ST_OK) status = st_fail(ctx, "out of memory");
    for (int r = 0; status == ST_OK && r < n_rows; r++) {
        ref[r] = block + (size_t)r * (size_t)length;
        est[r] = block + (size_t)(n_rows + r) * (size_t)length;
        for (int64_t t = 0; t < length; t++) {
            ref[r][t] = ref_audio[r / n_chan]->channel[r % n_chan][t];
            est[r][t] = est_audio[r / n_chan]->channel[r % n_chan][t];
        }
    }
    double *sdr = scores, *sir = sdr + n_src, *sar = sir + n_src, *isr = sar + n_src,
           *perm_d = isr + n_src, *si = perm_d + n_src, *sd = si + n_src;
    double *f_sdr = sd + n_src, *f_sir = f_sdr + n_src * n_win, *f_sar = f_sir + n_src * n_win,
           *f_isr = f_sar + n_src * n_win, *f_perm = f_isr + n_src * n_win;
    int perm[ST_BSS_MAX_SOURCES];
    char message[512];
    st_bss_input input = {.n_src = n_src,
                          .n_chan = n_chan,
                          .n_samples = length,
                          .ref = (const double *const *)ref,
                          .est = (const double *const *)est,
                          .filter_length = st_int(p, "filter_length"),
                          .images = images,
                          .permute = st_int(p, "permutation"),
                          .n_threads = ctx->n_threads};
    st_bss_scores whole = {sdr, sir, sar, isr, perm};
    const int v4 = st_choice(p, "version") == 1;
    int64_t n_v4;
    if (status == ST_OK &&
        (v4 ? st_bss_eval_v4(&input, 0, 0, &whole, &n_v4, message, sizeof message)
            : st_bss_eval(&input, &whole, message, sizeof message)))
        status = st_fail(ctx, "%s", message);
    for (int i = 0; status == ST_OK && i < n_src; i++) {
        perm_d[i] = perm[i];
        scale_invariant((const double *const *)ref + i * n_chan,
                        (const double *const *)est + perm[i] * n_chan, n_chan, length, &si[i],
                        &sd[i]);
    }
    /* framewise: the whole evaluation on each window; NaN where a source is
     * silent. Without a window, the frame arrays hold the whole scores. */
    for (int i = 0; status == ST_OK && !framewise && i < n_src; i++) {
        f_sdr[i] = sdr[i], f_sir[i] = sir[i], f_sar[i] = sar[i], f_isr[i] = isr[i];
        f_perm[i] = perm_d[i];
    }
    if (status == ST_OK && framewise && v4) { /* one fit, every window */
        int f_perm_i[ST_BSS_MAX_SOURCES];
        st_bss_input in_f = input;
        in_f.permute = st_int(p, "frame_permutation");
        st_bss_scores frames = {f_sdr, f_sir, f_sar, f_isr, f_perm_i};
        if (st_bss_eval_v4(&in_f, window, hop, &frames, &n_v4, message, sizeof message))
            status = st_fail(ctx, "%s", message);
        for (int64_t k = 0; status == ST_OK && k < (int64_t)n_src * n_win; k++)
            f_perm[k] = f_perm_i[k / n_win];
    }
    for (int64_t w = 0; status == ST_OK && framewise && !v4 && w < n_win; w++) {
        double r_sdr[ST_BSS_MAX_SOURCES], r_sir[ST_BSS_MAX_SOURCES], r_sar[ST_BSS_MAX_SOURCES],
            r_isr[ST_BSS_MAX_SOURCES];
        int r_perm[ST_BSS_MAX_SOURCES];
        st_bss_scores frame = {r_sdr, r_sir, r_sar, r_isr, r_perm};
        const double *wref[512], *west[512];
        int64_t start = n_win > 1 ? w * hop : 0;
        st_bss_input in_w = input;
        in_w.n_samples = n_win > 1 ? window : length;
        /* framewise scores follow frame_permutation, even when one window covers all */
        in_w.permute = st_int(p, "frame_permutation");
        for (int r = 0; r < n_rows; r++) {
            wref[r] = ref[r] + start;
            west[r] = est[r] + start;
        }
        in_w.ref = wref;
        in_w.est = west;
        int silent = st_bss_any_silent(wref, n_src, n_chan, in_w.n_samples) ||
                     st_bss_any_silent(west, n_src, n_chan, in_w.n_samples);
        if (!silent && st_bss_eval(&in_w, &frame, message, sizeof message)) {
            status = st_fail(ctx, "window %lld: %s", (long long)w, message);
            break;
        }
        for (int i = 0; i < n_src; i++) {
            int64_t k = (int64_t)i * n_win + w;
            f_sdr[k] = silent ? NAN : r_sdr[i];
            f_sir[k] = silent ? NAN : r_sir[i];
            f_sar[k] = silent ? NAN : r_sar[i];
            f_isr[k] = silent || !images ? NAN : r_isr[i];
            f_perm[k] = silent ? NAN : r_perm[i];
        }
        st_progress(ctx, (double)(w + 1) / (double)n_win);
    }
    if (status == ST_OK) {
        st_value *field[] = {
            vector(n_src, 0, sdr),       vector(n_src, 0, sir),       vector(n_src, 0, sar),
            vector(n_src, 0, isr),       vector(n_src, 0, perm_d),    vector(n_src, 0, si),
            vector(n_src, 0, sd),        vector(n_src, n_win, f_sdr), vector(n_src, n_win, f_sir),
            vector(n_src, n_win, f_sar), vector(n_src, n_win, f_isr), vector(n_src, n_win, f_perm)};
        const int n_fields = (int)(sizeof field / sizeof *field);
        /* one field per output port: a mismatch is a bug in this file */
        if (n_fields != st_port_count(st_node_bsseval.outputs))
            status = st_fail(ctx, "%d fields for %d outputs (a bug in the node)", n_fields,
                             st_port_count(st_node_bsseval.outputs));
        else if (!(*out = st_record_of_outputs(&st_node_bsseval, field)))
            status = st_fail(ctx, "out of memory");
        for (int i = 0; i < n_fields; i++)
            st_value_unref(field[i]);
    }
    st_zfree(block);
    free(scores);
    return status;
}

const st_node_type st_node_bsseval = {
    .name = "bsseval",
    .doc = "BSS Eval v3 as mir_eval 0.7 computes it (bss_eval_sources or bss_eval_images, "
           "512-tap distortion filters, the permutation with the best mean SIR), optionally "
           "framewise, plus SI-SDR and SD-SDR (Le Roux et al. 2019) against the matched "
           "estimate. Inputs are lists of audio (strata.list). Scores are in dB; entry i "
           "scores reference i against estimate permutation[i].",
    .inputs = (const st_port[]){{"references", ST_RECORD}, {"estimates", ST_RECORD}, {NULL}},
    .outputs = (const st_port[]){{"sdr", ST_ARRAY},
                                 {"sir", ST_ARRAY},
                                 {"sar", ST_ARRAY},
                                 {"isr", ST_ARRAY},
                                 {"permutation", ST_ARRAY},
                                 {"si_sdr", ST_ARRAY},
                                 {"sd_sdr", ST_ARRAY},
                                 {"frame_sdr", ST_ARRAY},
                                 {"frame_sir", ST_ARRAY},
                                 {"frame_sar", ST_ARRAY},
                                 {"frame_isr", ST_ARRAY},
                                 {"frame_permutation", ST_ARRAY},
                                 {NULL}},
    .params = params,
    .run = bsseval_run,
};
