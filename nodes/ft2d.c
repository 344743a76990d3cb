/* ft2d: the repeating background as the peaks of the 2-D Fourier transform
 * of the magnitude spectrogram (Seetharaman, Pishdadian & Pardo 2017), as
 * nussl 1.1.9's FT2D. */
#include "../vm/node.h"
#include "dsp/fft.h"
#include "dsp/repet.h"
#include "dsp/window.h"

#include <complex.h>
#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const st_param params[] = {
    {"neighborhood", ST_P_INT, .def = 25, .min = 1, .max = 10001,
     .doc = "peak-picking filter length along the 2-D transform's time-rate axis"},
    {"neighborhood_freq", ST_P_INT, .def = 1, .min = 1, .max = 10001,
     .doc = "the same along its frequency-rate axis (nussl's neighborhood_size = (freq, time))"},
    {"filter", ST_P_STRING, .def_str = "local_std", .choices = "local_std|original",
     .doc = "local_std: soft peaks, (local max - local mean) / local std at local maxima; "
            "original: binary peaks, local maxima that stand above the global std"},
    {"use_bg_2dft", ST_P_BOOL, .def = 1,
     .doc = "make the mask from the peaks' inverse (background); false: from the rest's "
            "(foreground)"},
    {"high_pass_hz", ST_P_NUMBER, .def = 100, .min = 0, .max = 100000,
     .doc = "bins below the one nearest this frequency go to the background"},
    {"mask", ST_P_STRING, .def_str = "soft", .choices = "soft|hard",
     .doc = "hard: background where the soft mask is at least threshold"},
    {"threshold", ST_P_NUMBER, .def = 0.5, .min = 0, .max = 1,
     .doc = "hard masks: the soft value from which a bin is background"},
    {NULL}};

/* scipy.ndimage's `reflect` boundary: d c b a | a b c d | d c b a */
static int64_t reflect(int64_t i, int64_t n)
{
    int64_t period = 2 * n;
    i %= period;
    if (i < 0) i += period;
    return i < n ? i : period - 1 - i;
}

/* One channel's background (or foreground) mask, written to mask (n_frames x
 * n_bins). x holds the 2-D transform's scratch: n_frames x n_bins complex. */
static int channel_mask(const float *mag, int64_t n_frames, int n_bins, const st_params *p,
                        float wsum, float complex *x, float *mask)
{
    const int64_t T = n_frames, F = n_bins;
    const size_t n = (size_t)T * (size_t)F;
    const int64_t nt = st_int(p, "neighborhood"), nf = st_int(p, "neighborhood_freq");
    const int local_std = st_choice(p, "filter") == 0, use_bg = st_int(p, "use_bg_2dft");
    float *data = malloc(n * sizeof *data), *peaks = malloc(n * sizeof *peaks);
    if (!data || !peaks) {
        free(data);
        free(peaks);
        return -1;
    }
    /* nussl's STFT is divided by the window's sum; its 1e-7s are in those units */
    for (size_t i = 0; i < n; i++)
        x[i] = mag[i] / wsum;
    st_fft_planner_lock();
    fftwf_plan forward = fftwf_plan_dft_2d((int)T, (int)F, (fftwf_complex *)x, (fftwf_complex *)x,
                                           FFTW_FORWARD, FFTW_ESTIMATE);
    fftwf_plan inverse = fftwf_plan_dft_2d((int)T, (int)F, (fftwf_complex *)x, (fftwf_complex *)x,
                                           FFTW_BACKWARD, FFTW_ESTIMATE);
    st_fft_planner_unlock();
    int status = -1;
    if (!forward || !inverse) goto done;
    for (size_t i = 0; i < n; i++) /* the plans may have used the array */
        x[i] = mag[i] / wsum;
    fftwf_execute(forward);

    /* |fftshift(X)| over its maximum; shifted (u, v) is X[(u - T/2) mod T][(v - F/2) mod F] */
    float top = 0;
    for (int64_t u = 0; u < T; u++)
        for (int64_t v = 0; v < F; v++) {
            int64_t su = (u - T / 2 + T) % T, sv = (v - F / 2 + F) % F;
            float a = cabsf(x[su * F + sv]);
            data[u * F + v] = a;
            top = a > top ? a : top;
        }
    for (size_t i = 0; i < n; i++)
        data[i] /= top + 1e-7f;
    double spread = 0; /* original: the global (population) std of data */
    if (!local_std) {
        double s = 0, s2 = 0;
        for (size_t i = 0; i < n; i++)
            s += data[i], s2 += (double)data[i] * data[i];
        spread = sqrt(fmax(s2 / n - (s / n) * (s / n), 0));
    }
    /* local maximum, mean and std (or minimum) over nt x nf, reflected at the edges */
    float best = 0;
    for (int64_t u = 0; u < T; u++)
        for (int64_t v = 0; v < F; v++) {
            float hi = -INFINITY, lo = INFINITY;
            double s = 0, s2 = 0;
            for (int64_t a = -(nt / 2); a < nt - nt / 2; a++)
                for (int64_t b = -(nf / 2); b < nf - nf / 2; b++) {
                    int64_t uu = u + a, vv = v + b;
                    uu = uu >= 0 && uu < T ? uu : reflect(uu, T);
                    vv = vv >= 0 && vv < F ? vv : reflect(vv, F);
                    float d = data[uu * F + vv];
                    hi = d > hi ? d : hi;
                    lo = d < lo ? d : lo;
                    s += d, s2 += (double)d * d;
                }
            float here = data[u * F + v], peak = 0;
            if (here == hi) {
                if (local_std) {
                    double mean = s / (double)(nt * nf);
                    double sd = sqrt(fmax(s2 / (double)(nt * nf) - mean * mean, 0)) + 1e-7;
                    peak = (float)((hi - mean) / sd);
                } else {
                    peak = hi - lo > spread ? 1.0f : 0.0f;
                }
            }
            peaks[u * F + v] = peak;
            best = peak > best ? peak : best;
        }
    if (local_std)
        for (size_t i = 0; i < n; i++)
            peaks[i] /= best + 1e-7f;
    /* symmetric along the time-rate axis (nussl: the max with its fliplr), back to
     * unshifted order, times X: the background's 2-D transform (or the rest's) */
    for (int64_t u = 0; u < T; u++)
        for (int64_t v = 0; v < F; v++) {
            const int64_t w = F - 1 - v; /* written through flipud: read flipped */
            float m = fmaxf(peaks[u * F + w], peaks[(T - 1 - u) * F + w]);
            int64_t su = (u - T / 2 + T) % T, sv = (v - F / 2 + F) % F;
            x[su * F + sv] *= use_bg ? m : 1.0f - m;
        }
    fftwf_execute(inverse);
    /* est = min(|ifft2|, |S| + 1e-7) / (|S| + 1e-7), over its maximum */
    float est_top = 0;
    for (size_t i = 0; i < n; i++) {
        float s = mag[i] / wsum + 1e-7f, e = cabsf(x[i]) / (float)n;
        mask[i] = (e < s ? e : s) / s;
        est_top = mask[i] + 1e-7f > est_top ? mask[i] + 1e-7f : est_top;
    }
    for (size_t i = 0; i < n; i++) {
        mask[i] /= est_top;
        if (!use_bg) mask[i] = 1.0f - mask[i];
    }
    status = 0;
done:
    st_fft_planner_lock();
    if (forward) fftwf_destroy_plan(forward);
    if (inverse) fftwf_destroy_plan(inverse);
    st_fft_planner_unlock();
    free(data);
    free(peaks);
    return status;
}

static int ft2d_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p, st_value **out)
{
    (void)n_in;
    extern const st_node_type st_node_ft2d;
    const st_spectrum *s = &in[0]->u.spectrum;
    const int64_t n_frames = s->n_frames;
    const int n_bins = s->n_bins;
    const size_t plane = (size_t)n_frames * (size_t)n_bins;
    int64_t mask_shape[3] = {s->n_channels, n_frames, n_bins};
    static const char *const mask_axes[] = {"channel", "time", "freq"};
    st_value *fields[3] = {st_spectrum_like(s), st_spectrum_like(s),
                           st_array_new(3, mask_shape, mask_axes)};
    float complex *x = st_fft_alloc(plane * sizeof *x);
    float *mag = malloc(plane * sizeof *mag), *window = malloc((size_t)s->n_fft * sizeof *window);
    int status = ST_ERR;
    if (!fields[0] || !fields[1] || !fields[2] || !x || !mag || !window) {
        status =
            st_fail(ctx, "out of memory for %lld frames x %d bins", (long long)n_frames, n_bins);
        goto done;
    }
    st_window_fill(s->window, s->n_fft, window);
    float wsum = 0;
    for (int i = 0; i < s->n_fft; i++)
        wsum += window[i];
    const int cutoff = st_repet_cutoff_bin(st_num(p, "high_pass_hz"), s->rate_hz, s->n_fft);
    const int hard = st_choice(p, "mask") == 1;
    const float threshold = (float)st_num(p, "threshold");
    for (int c = 0; c < s->n_channels; c++) {
        const float complex *xc = s->data + (size_t)c * plane;
        float *m = fields[2]->u.array.data + (size_t)c * plane;
        for (size_t i = 0; i < plane; i++)
            mag[i] = cabsf(xc[i]);
        if (channel_mask(mag, n_frames, n_bins, p, wsum, x, m)) {
            status = st_fail(ctx, "out of memory for the 2-D transform of %lld x %d",
                             (long long)n_frames, n_bins);
            goto done;
        }
        float complex *b = fields[0]->u.spectrum.data + (size_t)c * plane;
        float complex *f = fields[1]->u.spectrum.data + (size_t)c * plane;
        for (size_t i = 0; i < plane; i++) {
            if ((int)(i % (size_t)n_bins) < cutoff) m[i] = 1.0f;
            if (hard) m[i] = m[i] >= threshold ? 1.0f : 0.0f;
            b[i] = m[i] * xc[i];
            f[i] = (1.0f - m[i]) * xc[i];
        }
        st_progress(ctx, (double)(c + 1) / s->n_channels);
    }
    *out = st_record_of_outputs(&st_node_ft2d, fields);
    status = *out ? ST_OK : st_fail(ctx, "out of memory");
done:
    for (int i = 0; i < 3; i++)
        st_value_unref(fields[i]);
    st_fft_free(x);
    free(mag);
    free(window);
    return status;
}

const st_node_type st_node_ft2d = {
    .name = "ft2d",
    .doc = "2DFT separation (Seetharaman, Pishdadian & Pardo 2017) as nussl 1.1.9's FT2D: "
           "repeating patterns are peaks of the 2-D Fourier transform of the magnitude "
           "spectrogram. The peaks (soft, local_std, or binary, original) over a neighbourhood "
           "along the time-rate axis are kept, made symmetric along it, and the inverse "
           "transform's magnitude, at most |X|, over |X| is the background mask (scaled to a "
           "maximum of 1); bins below high_pass_hz are background. Each channel on its own. "
           "Outputs the background and foreground spectra and the background mask.",
    .inputs = (const st_port[]){{"in", ST_SPECTRUM}, {NULL}},
    .outputs =
        (const st_port[]){
            {"background", ST_SPECTRUM}, {"foreground", ST_SPECTRUM}, {"mask", ST_ARRAY}, {NULL}},
    .params = params,
    .run = ft2d_run,
};
