/* Files that are not audio, read and written the careful way.
 *
 * strata runs on shared machines, in folders other users may write to. A
 * file it reads that is not audio (a beat list, a cache entry) must be a
 * regular file of a bounded size: a FIFO or a device would hang it or fill
 * its memory. A file it writes goes first to a temporary file made beside
 * the target with a name nobody can predict (mkstemp: created exclusively,
 * so a symlink planted there is never followed), then is renamed into place.
 */
#ifndef ST_FILES_H
#define ST_FILES_H

#include <stddef.h>
#include <sys/types.h>

/* Reads the whole of path into a new NUL-terminated buffer (*data, caller
 * frees) when it is a regular file of at most max_bytes. The file is opened
 * without blocking, so a FIFO never waits for a writer. ST_OK, or ST_ERR
 * with the reason in error ("... is not a regular file"). */
int st_file_read(const char *path, size_t max_bytes, char **data, size_t *size, char *error,
                 size_t error_size);

/* Opens a new file (mode 0600) beside target, named target.tmp-XXXXXX with
 * six unpredictable characters; the name goes into tmp. Returns the
 * descriptor, or -1 with errno set. */
int st_file_temp_beside(const char *target, char *tmp, size_t tmp_size);

/* The mode a new file gets here: 0666 without the umask's bits. */
mode_t st_file_default_mode(void);

#endif
