/* A U-Net mask model (Jansson et al., ISMIR 2017, as Spleeter uses it):
 * an encoder of 5x5 stride-2 convolutions (batch norm, leaky ReLU), a
 * decoder of 5x5 stride-2 transposed convolutions (batch norm, ReLU) with
 * skip concatenations, and one sigmoid mask per source. Weights and every
 * setting come from a safetensors file that tools/train/unet.py writes;
 * every tensor's shape and every metadata field is checked on loading.
 *
 * The network sees one patch: `bins` STFT bins (the lowest) x `frames`
 * frames of a magnitude spectrogram, compressed as
 * log1p(c |X| / max|X|) / log1p(c) with the patch's own maximum. */
#ifndef ST_UNET_H
#define ST_UNET_H

#include <stddef.h>

#define ST_UNET_MAX_DEPTH   10
#define ST_UNET_MAX_SOURCES 16

typedef struct st_unet st_unet;           /* the weights (read-only once loaded) */
typedef struct st_unet_work st_unet_work; /* one thread's buffers */

typedef struct {
    double rate_hz;
    int n_fft, hop_samples;
    int bins, frames; /* the patch */
    int depth, n_sources, n_params;
    int widths[ST_UNET_MAX_DEPTH];
    char source[ST_UNET_MAX_SOURCES][32];
} st_unet_info;

/* Reads and checks a model. NULL with one line in error. */
st_unet *st_unet_load(const char *path, char *error, size_t error_size);
void st_unet_free(st_unet *m);
const st_unet_info *st_unet_describe(const st_unet *m);
/* Floating-point operations of one patch (multiply-adds count two). */
double st_unet_flops(const st_unet *m);

st_unet_work *st_unet_work_new(const st_unet *m);
void st_unet_work_free(st_unet_work *w);

/* mag: bins x frames (row = bin), any non-negative values; masks: sources x
 * bins x frames, each in [0, 1]. Allocates nothing. */
void st_unet_forward(const st_unet *m, st_unet_work *w, const float *mag, float *masks);

#endif
