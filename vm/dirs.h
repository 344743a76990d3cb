/* Folders for outputs, made with mkdir(2), never through a shell. */
#ifndef ST_DIRS_H
#define ST_DIRS_H

#include <stddef.h>
#include <sys/types.h>

/* Makes path and every missing folder above it (mode, less the umask), as
 * `mkdir -p` does. ST_OK, or ST_ERR with one line in error: a part of the
 * path that exists and is not a folder, or the reason mkdir gave. */
int st_make_dirs(const char *path, mode_t mode, char *error, size_t error_size);

/* Whether st_make_dirs(path) and files in it could be made, without making
 * anything: path is a folder that may be written in, or the nearest part of
 * it that exists is. ST_OK, or ST_ERR with one line in error. */
int st_dirs_check(const char *path, char *error, size_t error_size);

#endif
