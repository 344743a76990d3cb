/* Beat and downbeat activations of audio from strata's own network: the
 * channels averaged, resampled to 44.1 kHz when needed, the log-filtered
 * spectrogram (dsp/logspec.c), the TCN (dsp/beat_tcn.c). For the beats and
 * activations nodes. */
#ifndef ST_BEAT_ACTIVATIONS_H
#define ST_BEAT_ACTIVATIONS_H

#include "../vm/node.h"

#include <stdint.h>

#define ST_BEAT_FPS 100

#define ST_BEAT_CHROMA_MIN_HZ 65.0   /* C2 */
#define ST_BEAT_CHROMA_MAX_HZ 4200.0 /* C8 */

/* *act gets 2 x *n_frames values (beat that is not a downbeat, downbeat),
 * 100 frames per second (the caller frees it). model: a safetensors file, or
 * "" for the default one. Errors name param. With chroma not NULL, *chroma
 * gets 12 x *n_frames values (frame-major, the caller frees it): the front
 * end's bands between ST_BEAT_CHROMA_MIN_HZ and _MAX_HZ summed by the pitch
 * class of their centre (the same log10(1 + x) values the network reads; C
 * is class 0), for the bar-phase stage (dsp/bar_phase.h). */
int st_beat_activations(st_ctx *ctx, const char *param, const st_audio *a, const char *model,
                        float **act, int64_t *n_frames, float **chroma);

/* The implicit_file hook of the nodes with a "model" parameter: the shipped
 * beats_tcn.safetensors when it is empty, so that its identity is in the key. */
int st_beat_shipped_model(const st_params *p, char *path, size_t size);

#endif
