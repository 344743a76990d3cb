/* Writing audio files, for the save node and for `strata render`. */
#ifndef ST_SAVE_H
#define ST_SAVE_H

#include "../vm/node.h"

/* Writes a to path (format from the extension; subtype as save's parameter)
 * through a temporary file renamed into place. ST_OK, or ST_ERR with the
 * reason in ctx->error. */
int st_save_audio(st_ctx *ctx, const st_audio *a, const char *path, const char *subtype);

#endif
