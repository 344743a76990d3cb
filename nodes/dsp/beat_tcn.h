/* The beat tracker's network (made by tools/train/train_beats.py): a
 * temporal convolutional network from log-filtered spectrogram frames to
 * per-frame probabilities of (beat that is not a downbeat, downbeat).
 *
 *   conv1d k3 -> BN -> ELU -> per dilation d: h + ELU(BN(conv1d k dilation d (h)))
 *   -> conv1d k1 -> softmax over (no beat, beat, downbeat)
 *
 * Batch norms are folded into the convolutions at load; buffers are sized
 * for a number of frames by st_beat_tcn_plan, and st_beat_tcn_run allocates
 * nothing. */
#ifndef ST_BEAT_TCN_H
#define ST_BEAT_TCN_H

#include <stddef.h>
#include <stdint.h>

typedef struct st_beat_tcn st_beat_tcn;

/* Loads and checks a model file. NULL with the reason in error. */
st_beat_tcn *st_beat_tcn_load(const char *path, char *error, size_t error_size);
void st_beat_tcn_destroy(st_beat_tcn *m);
int st_beat_tcn_n_bands(const st_beat_tcn *m);
int st_beat_tcn_n_params(const st_beat_tcn *m);
/* Sizes the buffers for up to max_frames and n_threads threads (each takes
 * a share of the frames of every layer). 0, or -1 when memory is short. */
int st_beat_tcn_plan(st_beat_tcn *m, int64_t max_frames, int n_threads);
/* features: n_frames x n_bands; act: n_frames x 2 (beat, downbeat). n_frames <= the plan's. */
void st_beat_tcn_run(st_beat_tcn *m, const float *features, int64_t n_frames, float *act);

/* The same network computed layer by layer over the whole length, on one
 * thread with buffers of its own (allocates): the reference that tests hold
 * st_beat_tcn_run's blocks and threads to. 0, or -1 when memory is short. */
int st_beat_tcn_run_plain(const st_beat_tcn *m, const float *features, int64_t n_frames,
                          float *act);

/* The default model file: $STRATA_MODELS/beats_tcn.safetensors, else models/ beside the
 * executable, else ../share/strata/models from it (an install), else ../models from it (a
 * build in a subfolder of the source tree, such as build-san/). 0, or -1. */
int st_beat_tcn_default_path(char *path, size_t size);

#endif
