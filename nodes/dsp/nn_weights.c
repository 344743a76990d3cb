/* A network layer's tensors from a safetensors file: see nn_weights.h. */
#include "nn_weights.h"

#include <stdio.h>
#include <string.h>

int st_nn_take_layer(const st_safetensors *s, const char *prefix, int n_dims,
                     const int64_t *weight_shape, int64_t c_out, float **at, float **weight,
                     float **bias, char *error, size_t size)
{
    char name[160];
    snprintf(name, sizeof name, "%s.weight", prefix);
    const st_tensor *w = st_safetensors_need(s, name, n_dims, weight_shape, error, size);
    snprintf(name, sizeof name, "%s.bias", prefix);
    const st_tensor *b =
        w ? st_safetensors_need(s, name, 1, (int64_t[]){c_out}, error, size) : NULL;
    if (!w || !b) return -1;
    *weight = *at;
    *bias = *at + w->n_elems;
    memcpy(*weight, w->data, (size_t)w->n_elems * sizeof **weight);
    memcpy(*bias, b->data, (size_t)b->n_elems * sizeof **bias);
    *at += w->n_elems + b->n_elems;
    return 0;
}

int st_nn_take_batch_norm(const st_safetensors *s, const char *bn, int64_t c_out,
                          const float *stats[4], char *error, size_t size)
{
    static const char *const part[4] = {"weight", "bias", "running_mean", "running_var"};
    char name[160];
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "%s.%s", bn, part[i]);
        const st_tensor *t = st_safetensors_need(s, name, 1, (int64_t[]){c_out}, error, size);
        if (!t) return -1;
        stats[i] = t->data;
    }
    for (int64_t i = 0; i < c_out; i++)
        if (!(stats[3][i] >= 0)) {
            snprintf(error, size, "model tensor '%s.running_var' has a negative variance", bn);
            return -1;
        }
    return 0;
}
