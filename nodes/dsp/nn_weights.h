/* A network layer's tensors taken from a safetensors file (safetensors.h),
 * shared by the beat tracker's TCN and the U-Net: the weight and bias
 * copied into the caller's arena, and a batch norm's four statistics,
 * checked before nn.h folds them into the layer. Every tensor's shape and
 * finiteness are checked by st_safetensors_need; a batch norm's variance
 * must also be non-negative (its square root divides the weight). */
#ifndef ST_NN_WEIGHTS_H
#define ST_NN_WEIGHTS_H

#include "safetensors.h"

/* Copies `prefix`.weight (n_dims dimensions of weight_shape) and
 * `prefix`.bias (c_out values) to *at, one after the other, sets *weight and
 * *bias to the copies and moves *at past them. 0, or -1 with the reason in
 * error. */
int st_nn_take_layer(const st_safetensors *s, const char *prefix, int n_dims,
                     const int64_t *weight_shape, int64_t c_out, float **at, float **weight,
                     float **bias, char *error, size_t size);

/* The batch norm `bn`.{weight, bias, running_mean, running_var}, c_out
 * values each, in that order in stats (the file's memory). 0, or -1 with
 * the reason (missing, misshapen, not finite, a negative variance) in error. */
int st_nn_take_batch_norm(const st_safetensors *s, const char *bn, int64_t c_out,
                          const float *stats[4], char *error, size_t size);

#endif
