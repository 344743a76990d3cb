/* Writing audio files, and the set of files one command writes.
 *
 * Both the save node and `strata render` write audio; this module lives in
 * vm/ so that both layers may use it without the runtime knowing the save
 * node. The file goes through vm/outputs.h: a temporary file renamed into
 * place, the old file's mode kept, part of the command's output set.
 */
#ifndef ST_AUDIO_FILE_H
#define ST_AUDIO_FILE_H

#include "value.h"

#include <stddef.h>

/* Encodings, in the order of the save node's "subtype" choices. */
#define ST_AUDIO_SUBTYPES "auto|PCM_16|PCM_24|PCM_32|FLOAT|DOUBLE|VORBIS|OPUS|MP3"

/* Whether path can be written: a known extension and an existing folder.
 * ST_OK, or ST_ERR with the reason in error. */
int st_audio_file_check_path(const char *path, char *error, size_t error_size);

/* Writes a to path (the format from the extension; subtype one of
 * ST_AUDIO_SUBTYPES). progress (may be NULL) hears the fraction written.
 * ST_OK, or ST_ERR with one line in error. */
int st_audio_file_write(const st_audio *a, const char *path, const char *subtype,
                        void (*progress)(void *data, double fraction), void *progress_data,
                        char *error, size_t error_size);

#endif
