/* Output files: written whole, replaced with care, committed as a set.
 *
 * Every file strata writes for the user (audio, pictures) goes through
 * here. It is written to a temporary file beside its target (made by
 * st_file_temp_beside: unique name, created exclusively, never through a
 * symlink), flushed to disk and renamed into place. An existing target keeps
 * its mode, and a read-only one is not replaced unless forced, as cp and
 * editors do.
 *
 * Inside an output set (st_outputs_begin), finished files wait under their
 * temporary names until st_outputs_commit renames them all, so a command
 * that fails halfway (a full disk after the first of two outputs) removes
 * its new files and keeps every old one. Outside a set a file is renamed
 * into place as soon as it is written.
 */
#ifndef ST_OUTPUTS_H
#define ST_OUTPUTS_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* One file being written: write to fd between open and close. */
typedef struct {
    const char *path; /* the target (borrowed) */
    char tmp[4200];
    int fd;
    mode_t mode;
} st_output;

/* Checks the target may be replaced and opens its temporary file. ST_OK,
 * or ST_ERR with one line in error. */
int st_output_open(st_output *o, const char *path, char *error, size_t error_size);
/* Closes the temporary file; when status is ST_OK, sets its mode, flushes
 * it and renames it into place (or holds it for the set's commit).
 * Otherwise removes it. Returns the final status, the reason in error. */
int st_output_close(st_output *o, int status, char *error, size_t error_size);

/* Whether the folder path would be written in exists. */
int st_output_folder_exists(const char *path);

/* Output sets: begin holds back the renames until commit; commit renames
 * every held file into place (ST_ERR with the reason if one cannot be);
 * abort removes them. Files still held at exit are removed. */
void st_outputs_begin(void);
int st_outputs_commit(char *error, size_t error_size);
void st_outputs_abort(void);
/* Inside a set: commits the files held so far (ST_ERR and the reason if one
 * cannot be moved) and begins a new set, so that a command that then ends
 * with a failure keeps them. Outside a set: nothing. */
int st_outputs_checkpoint(char *error, size_t error_size);
/* A line for the standard output once the set's files are in place
 * ("wrote PATH"): printed by a successful commit, dropped by a failure;
 * printed at once outside a set. */
void st_outputs_say(FILE *to, const char *line);
/* A folder st_make_dirs made: inside a set, removed again (when empty) if
 * the set fails, so a failed command leaves no empty folder. */
void st_outputs_made_folder(const char *path);
/* Allow replacing read-only files (--force). */
void st_outputs_set_force(int force);
/* The temporary file holding the new, not yet committed contents of path,
 * or NULL: a patch that reads back what it wrote reads the new bytes. */
const char *st_outputs_pending(const char *path);

#endif
