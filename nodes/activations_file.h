/* Activation files: one row per frame, two numbers in [0, 1] (beat that is
 * not a downbeat, downbeat) separated by blanks; # starts a comment. madmom's
 * RNNDownBeatProcessor output saved with np.savetxt has this form. */
#ifndef ST_ACTIVATIONS_FILE_H
#define ST_ACTIVATIONS_FILE_H

#include "../vm/node.h"

#include <stdint.h>

/* *act gets 2 x *n_frames values, row by row (the caller frees it). Errors
 * name the parameter param and the file. */
int st_activations_read(st_ctx *ctx, const char *param, const char *path, double **act,
                        int64_t *n_frames);

#endif
