/* Inference layers: convolutions as im2col + one cblas_sgemm (transposed
 * ones as one sgemm + col2im), activations, pooling, dense. */
#include "nn.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

int64_t st_conv1d_out(const st_conv1d *c, int64_t t_in)
{
    int64_t span = (int64_t)c->dilation * (c->kernel - 1);
    if (c->transposed)
        return (t_in - 1) * c->stride - 2 * (int64_t)c->padding + span + c->output_padding + 1;
    int64_t room = t_in + 2 * (int64_t)c->padding - span - 1;
    return room < 0 ? 0 : room / c->stride + 1;
}

static int pointwise(const st_conv1d *c)
{
    return !c->transposed && c->kernel == 1 && c->stride == 1 && c->padding == 0;
}

size_t st_conv1d_scratch(const st_conv1d *c, int64_t t_in)
{
    if (pointwise(c)) return 0;
    if (c->transposed) return (size_t)c->c_out * c->kernel * (size_t)t_in;
    int64_t t_out = st_conv1d_out(c, t_in);
    return (size_t)c->c_in * c->kernel *
           (size_t)(t_out < ST_CONV1D_BLOCK ? t_out : ST_CONV1D_BLOCK);
}

static void add_bias(float *y, const float *bias, int channels, int64_t n, int64_t ld)
{
    if (!bias) return;
    for (int o = 0; o < channels; o++)
        for (int64_t i = 0; i < n; i++)
            y[(size_t)o * ld + i] += bias[o];
}

void st_conv1d_forward_frames(const st_conv1d *c, const float *x, int64_t t_in, int64_t first,
                              int64_t n, float *y, int64_t ld, float *scratch)
{
    int k = c->kernel;
    if (n <= 0) return;
    if (pointwise(c)) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, c->c_out, (int)n, c->c_in, 1.0f,
                    c->weight, c->c_in, x + first, (int)t_in, 0.0f, y, (int)ld);
        add_bias(y, c->bias, c->c_out, n, ld);
        return;
    }
    /* im2col of the frames, then y in one sgemm */
    for (int ci = 0; ci < c->c_in; ci++)
        for (int j = 0; j < k; j++) {
            float *col = scratch + ((size_t)ci * k + j) * n;
            const float *in = x + (size_t)ci * t_in;
            int64_t offset = first * c->stride + (int64_t)j * c->dilation - c->padding;
            if (c->stride == 1) { /* zeros, one contiguous run of the input, zeros */
                int64_t lo = offset < 0 ? -offset : 0, hi = t_in - offset;
                if (hi > n) hi = n;
                if (lo > n) lo = n;
                if (hi < lo) hi = lo;
                memset(col, 0, (size_t)lo * sizeof *col);
                if (hi > lo) memcpy(col + lo, in + lo + offset, (size_t)(hi - lo) * sizeof *col);
                memset(col + hi, 0, (size_t)(n - hi) * sizeof *col);
                continue;
            }
            for (int64_t o = 0; o < n; o++) {
                int64_t at = o * c->stride + offset;
                col[o] = at >= 0 && at < t_in ? in[at] : 0.0f;
            }
        }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, c->c_out, (int)n, c->c_in * k, 1.0f,
                c->weight, c->c_in * k, scratch, (int)n, 0.0f, y, (int)ld);
    add_bias(y, c->bias, c->c_out, n, ld);
}

void st_conv1d_forward(const st_conv1d *c, const float *x, int64_t t_in, float *y, float *scratch)
{
    int64_t t_out = st_conv1d_out(c, t_in);
    int k = c->kernel;
    if (t_out <= 0) return;
    if (c->transposed) {
        /* columns (c_out k) x t_in = W^T x, then each column adds into its output frames */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, c->c_out * k, (int)t_in, c->c_in, 1.0f,
                    c->weight, c->c_out * k, x, (int)t_in, 0.0f, scratch, (int)t_in);
        memset(y, 0, (size_t)c->c_out * t_out * sizeof *y);
        for (int o = 0; o < c->c_out; o++)
            for (int j = 0; j < k; j++) {
                const float *col = scratch + ((size_t)o * k + j) * t_in;
                float *row = y + (size_t)o * t_out;
                for (int64_t i = 0; i < t_in; i++) {
                    int64_t at = i * c->stride - c->padding + (int64_t)j * c->dilation;
                    if (at >= 0 && at < t_out) row[at] += col[i];
                }
            }
        add_bias(y, c->bias, c->c_out, t_out, t_out);
        return;
    }
    if (pointwise(c)) {
        st_conv1d_forward_frames(c, x, t_in, 0, t_out, y, t_out, scratch);
        return;
    }
    /* blocks of output frames: their columns stay in the cache, and a long input needs no
     * scratch as large as itself */
    for (int64_t o0 = 0; o0 < t_out; o0 += ST_CONV1D_BLOCK) {
        int64_t n = t_out - o0 < ST_CONV1D_BLOCK ? t_out - o0 : ST_CONV1D_BLOCK;
        st_conv1d_forward_frames(c, x, t_in, o0, n, y + o0, t_out, scratch);
    }
}

static int64_t out_len(int64_t in, int k, int s, int d, int p, int transposed, int op)
{
    int64_t span = (int64_t)d * (k - 1);
    if (transposed) return (in - 1) * s - 2 * (int64_t)p + span + op + 1;
    int64_t room = in + 2 * (int64_t)p - span - 1;
    return room < 0 ? 0 : room / s + 1;
}

void st_conv2d_out(const st_conv2d *c, int64_t h_in, int64_t w_in, int64_t *h_out, int64_t *w_out)
{
    *h_out = out_len(h_in, c->kh, c->sh, c->dh, c->ph, c->transposed, c->oph);
    *w_out = out_len(w_in, c->kw, c->sw, c->dw, c->pw, c->transposed, c->opw);
}

size_t st_conv2d_scratch(const st_conv2d *c, int64_t h_in, int64_t w_in)
{
    int64_t h_out, w_out;
    st_conv2d_out(c, h_in, w_in, &h_out, &w_out);
    if (c->transposed) return (size_t)c->c_out * c->kh * c->kw * (size_t)(h_in * w_in);
    return (size_t)c->c_in * c->kh * c->kw * (size_t)(h_out * w_out);
}

void st_conv2d_forward(const st_conv2d *c, const float *x, int64_t h_in, int64_t w_in, float *y,
                       float *scratch)
{
    int64_t h_out, w_out;
    st_conv2d_out(c, h_in, w_in, &h_out, &w_out);
    if (h_out <= 0 || w_out <= 0) return;
    int64_t n_in = h_in * w_in, n_out = h_out * w_out;
    int taps = c->kh * c->kw;
    if (c->transposed) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, c->c_out * taps, (int)n_in, c->c_in,
                    1.0f, c->weight, c->c_out * taps, x, (int)n_in, 0.0f, scratch, (int)n_in);
        memset(y, 0, (size_t)c->c_out * n_out * sizeof *y);
        for (int o = 0; o < c->c_out; o++)
            for (int a = 0; a < c->kh; a++)
                for (int b = 0; b < c->kw; b++) {
                    const float *col = scratch + ((size_t)o * taps + (size_t)a * c->kw + b) * n_in;
                    float *plane = y + (size_t)o * n_out;
                    for (int64_t i = 0; i < h_in; i++) {
                        int64_t r = i * c->sh - c->ph + (int64_t)a * c->dh;
                        if (r < 0 || r >= h_out) continue;
                        for (int64_t j = 0; j < w_in; j++) {
                            int64_t q = j * c->sw - c->pw + (int64_t)b * c->dw;
                            if (q >= 0 && q < w_out) plane[r * w_out + q] += col[i * w_in + j];
                        }
                    }
                }
        add_bias(y, c->bias, c->c_out, n_out, n_out);
        return;
    }
    for (int ci = 0; ci < c->c_in; ci++)
        for (int a = 0; a < c->kh; a++)
            for (int b = 0; b < c->kw; b++) {
                float *col = scratch + ((size_t)ci * taps + (size_t)a * c->kw + b) * n_out;
                const float *plane = x + (size_t)ci * n_in;
                for (int64_t i = 0; i < h_out; i++) {
                    int64_t r = i * c->sh - c->ph + (int64_t)a * c->dh;
                    for (int64_t j = 0; j < w_out; j++) {
                        int64_t q = j * c->sw - c->pw + (int64_t)b * c->dw;
                        col[i * w_out + j] =
                            r >= 0 && r < h_in && q >= 0 && q < w_in ? plane[r * w_in + q] : 0.0f;
                    }
                }
            }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, c->c_out, (int)n_out, c->c_in * taps,
                1.0f, c->weight, c->c_in * taps, scratch, (int)n_out, 0.0f, y, (int)n_out);
    add_bias(y, c->bias, c->c_out, n_out, n_out);
}

void st_fold_batch_norm(float *weight, float *bias, int c_out, size_t per_out, const float *gamma,
                        const float *beta, const float *mean, const float *var, float eps)
{
    for (int o = 0; o < c_out; o++) {
        float scale = gamma[o] / sqrtf(var[o] + eps);
        for (size_t k = 0; k < per_out; k++)
            weight[(size_t)o * per_out + k] *= scale;
        bias[o] = (bias[o] - mean[o]) * scale + beta[o];
    }
}

void st_fold_batch_norm_transposed(float *weight, float *bias, int c_in, int c_out,
                                   size_t per_kernel, const float *gamma, const float *beta,
                                   const float *mean, const float *var, float eps)
{
    for (int o = 0; o < c_out; o++) {
        float scale = gamma[o] / sqrtf(var[o] + eps);
        for (int i = 0; i < c_in; i++)
            for (size_t k = 0; k < per_kernel; k++)
                weight[((size_t)i * c_out + o) * per_kernel + k] *= scale;
        bias[o] = (bias[o] - mean[o]) * scale + beta[o];
    }
}

void st_relu(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void st_leaky_relu(float *x, size_t n, float slope)
{
    for (size_t i = 0; i < n; i++)
        x[i] = x[i] > 0.0f ? x[i] : slope * x[i];
}

void st_elu(float *x, size_t n, float alpha)
{
    for (size_t i = 0; i < n; i++)
        x[i] = x[i] > 0.0f ? x[i] : alpha * expm1f(x[i]);
}

void st_sigmoid(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = 1.0f / (1.0f + expf(-x[i]));
}

void st_softmax_channels(float *x, int c, int64_t t)
{
    for (int64_t i = 0; i < t; i++) {
        float top = x[i];
        for (int k = 1; k < c; k++)
            top = fmaxf(top, x[(size_t)k * t + i]);
        float sum = 0.0f;
        for (int k = 0; k < c; k++) {
            float e = expf(x[(size_t)k * t + i] - top);
            x[(size_t)k * t + i] = e;
            sum += e;
        }
        for (int k = 0; k < c; k++)
            x[(size_t)k * t + i] /= sum;
    }
}

int64_t st_maxpool_out(int64_t len, int kernel, int stride)
{
    return len < kernel ? 0 : (len - kernel) / stride + 1;
}

void st_maxpool1d(const float *x, int c, int64_t t, int kernel, int stride, float *y)
{
    int64_t t_out = st_maxpool_out(t, kernel, stride);
    for (int k = 0; k < c; k++)
        for (int64_t o = 0; o < t_out; o++) {
            const float *in = x + (size_t)k * t + o * stride;
            float m = in[0];
            for (int j = 1; j < kernel; j++)
                m = in[j] > m ? in[j] : m;
            y[(size_t)k * t_out + o] = m;
        }
}

void st_maxpool2d(const float *x, int c, int64_t h, int64_t w, int kh, int kw, int sh, int sw,
                  float *y)
{
    int64_t h_out = st_maxpool_out(h, kh, sh), w_out = st_maxpool_out(w, kw, sw);
    for (int k = 0; k < c; k++)
        for (int64_t i = 0; i < h_out; i++)
            for (int64_t j = 0; j < w_out; j++) {
                const float *in = x + ((size_t)k * h + (size_t)(i * sh)) * w + j * sw;
                float m = in[0];
                for (int a = 0; a < kh; a++)
                    for (int b = 0; b < kw; b++)
                        m = in[a * w + b] > m ? in[a * w + b] : m;
                y[((size_t)k * h_out + i) * w_out + j] = m;
            }
}

void st_dense(const float *x, int64_t n, int in, int out, const float *weight, const float *bias,
              float *y)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, out, in, 1.0f, x, in, weight, in,
                0.0f, y, out);
    if (bias)
        for (int64_t r = 0; r < n; r++)
            for (int o = 0; o < out; o++)
                y[r * out + o] += bias[o];
}
