/* A small neural-network inference core: the layers of the beat tracker's
 * TCN and of a U-Net mask model, float32, every product through
 * cblas_sgemm (im2col for convolutions). PyTorch's layouts and arithmetic:
 *   conv1d            x: c_in x t,      weight c_out x c_in x k
 *   conv1d transposed x: c_in x t,      weight c_in x c_out x k
 *   conv2d            x: c_in x h x w,  weight c_out x c_in x kh x kw
 *   conv2d transposed x: c_in x h x w,  weight c_in x c_out x kh x kw
 *   dense             x: n x in,        weight out x in
 * A layer's output length follows torch.nn's formulas. Nothing here
 * allocates: the caller sizes buffers with the *_out and *_scratch helpers
 * when it loads a network and reuses them for every forward pass. */
#ifndef ST_NN_H
#define ST_NN_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int c_in, c_out, kernel, stride, dilation, padding;
    int transposed, output_padding; /* transposed only */
    const float *weight, *bias;     /* bias may be NULL */
} st_conv1d;

typedef struct {
    int c_in, c_out, kh, kw, sh, sw, dh, dw, ph, pw;
    int transposed, oph, opw; /* transposed only: output padding */
    const float *weight, *bias;
} st_conv2d;

int64_t st_conv1d_out(const st_conv1d *c, int64_t t_in);
size_t st_conv1d_scratch(const st_conv1d *c, int64_t t_in); /* floats */
void st_conv1d_forward(const st_conv1d *c, const float *x, int64_t t_in, float *y, float *scratch);
/* Output frames per im2col block of st_conv1d_forward. */
#define ST_CONV1D_BLOCK 1024
/* Output frames first .. first + n - 1 (n <= ST_CONV1D_BLOCK) of a conv1d
 * that is not transposed, into y (c_out rows of ld floats), the same numbers
 * as st_conv1d_forward's: threads can share out the frames of one layer. */
void st_conv1d_forward_frames(const st_conv1d *c, const float *x, int64_t t_in, int64_t first,
                              int64_t n, float *y, int64_t ld, float *scratch);

void st_conv2d_out(const st_conv2d *c, int64_t h_in, int64_t w_in, int64_t *h_out, int64_t *w_out);
size_t st_conv2d_scratch(const st_conv2d *c, int64_t h_in, int64_t w_in); /* floats */
void st_conv2d_forward(const st_conv2d *c, const float *x, int64_t h_in, int64_t w_in, float *y,
                       float *scratch);

/* Folds an eval-mode batch norm that follows a convolution into its weight
 * and bias (in place): w *= gamma / sqrt(var + eps), b = (b - mean) * that
 * + beta. per_out = weight values per output channel; transposed convs keep
 * c_in x c_out x k, so their stride between outputs differs: use
 * st_fold_batch_norm_transposed. bias must have c_out values. */
void st_fold_batch_norm(float *weight, float *bias, int c_out, size_t per_out, const float *gamma,
                        const float *beta, const float *mean, const float *var, float eps);
void st_fold_batch_norm_transposed(float *weight, float *bias, int c_in, int c_out,
                                   size_t per_kernel, const float *gamma, const float *beta,
                                   const float *mean, const float *var, float eps);

void st_relu(float *x, size_t n);
void st_leaky_relu(float *x, size_t n, float slope);
void st_elu(float *x, size_t n, float alpha);
void st_sigmoid(float *x, size_t n);
/* Softmax over the channel axis of c x t (each time step sums to 1). */
void st_softmax_channels(float *x, int c, int64_t t);

/* Max-pool without padding (floor mode): 1-D over the last axis of c x t,
 * 2-D over the last two of c x h x w. */
int64_t st_maxpool_out(int64_t len, int kernel, int stride);
void st_maxpool1d(const float *x, int c, int64_t t, int kernel, int stride, float *y);
void st_maxpool2d(const float *x, int c, int64_t h, int64_t w, int kh, int kw, int sh, int sw,
                  float *y);

/* y (n x out) = x (n x in) W^T + b. */
void st_dense(const float *x, int64_t n, int in, int out, const float *weight, const float *bias,
              float *y);

#endif
