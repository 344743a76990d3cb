#include "outputs.h"

#include "files.h"
#include "node.h"

#include <errno.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int folder_of(const char *path, struct stat *st)
{
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", path);
    return stat(dirname(copy), st) == 0 && S_ISDIR(st->st_mode);
}

int st_output_folder_exists(const char *path)
{
    struct stat st;
    return folder_of(path, &st);
}

/* ---- the output set ---- */

typedef struct {
    char *target, *tmp;
    dev_t folder_dev;
    ino_t folder_ino;
} pending;

/* Guarded by lock: save nodes may run on worker threads one day. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pending *held;
static int n_held, cap_held, holding, force, exit_hook;

void st_outputs_set_force(int on) { force = on; }

static const char *base_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* The entry for path (same folder, same name), or -1. Call with lock held. */
static int find_held(const char *path)
{
    struct stat folder;
    if (!folder_of(path, &folder)) return -1;
    for (int i = 0; i < n_held; i++)
        if (held[i].folder_dev == folder.st_dev && held[i].folder_ino == folder.st_ino &&
            strcmp(base_of(held[i].target), base_of(path)) == 0)
            return i;
    return -1;
}

static void drop_all(void)
{
    for (int i = 0; i < n_held; i++) {
        unlink(held[i].tmp);
        free(held[i].target);
        free(held[i].tmp);
    }
    n_held = 0;
}

static void at_exit(void)
{
    pthread_mutex_lock(&lock);
    drop_all();
    pthread_mutex_unlock(&lock);
}

void st_outputs_begin(void)
{
    pthread_mutex_lock(&lock);
    holding = 1;
    if (!exit_hook) exit_hook = atexit(at_exit) == 0;
    pthread_mutex_unlock(&lock);
}

void st_outputs_abort(void)
{
    pthread_mutex_lock(&lock);
    drop_all();
    holding = 0;
    pthread_mutex_unlock(&lock);
}

int st_outputs_commit(char *error, size_t error_size)
{
    int status = ST_OK;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < n_held; i++) {
        /* a temporary file the patch itself removed (with its folder) is no loss */
        if (status == ST_OK && rename(held[i].tmp, held[i].target) != 0 &&
            access(held[i].tmp, F_OK) == 0)
            status = ST_ERR,
            snprintf(error, error_size, "cannot move the finished file into '%s': %s",
                     held[i].target, strerror(errno));
        if (status != ST_OK) unlink(held[i].tmp);
        free(held[i].target);
        free(held[i].tmp);
    }
    n_held = 0;
    holding = 0;
    pthread_mutex_unlock(&lock);
    return status;
}

const char *st_outputs_pending(const char *path)
{
    pthread_mutex_lock(&lock);
    int i = find_held(path);
    const char *tmp = i >= 0 ? held[i].tmp : NULL;
    pthread_mutex_unlock(&lock);
    return tmp;
}

/* Renames tmp into place now, or holds it for the commit. */
static int finish(const char *tmp, const char *target, char *error, size_t error_size)
{
    int status = ST_OK;
    pthread_mutex_lock(&lock);
    int i = find_held(target);
    if (!holding) {
        if (rename(tmp, target) != 0)
            status = ST_ERR,
            snprintf(error, error_size, "cannot move the finished file into '%s': %s", target,
                     strerror(errno));
    } else if (i >= 0) { /* written twice: the second version wins */
        unlink(held[i].tmp);
        char *copy = strdup(tmp);
        if (copy)
            free(held[i].tmp), held[i].tmp = copy;
        else
            status = ST_ERR, snprintf(error, error_size, "out of memory");
    } else {
        struct stat folder;
        if (n_held == cap_held) {
            int cap = cap_held ? 2 * cap_held : 8;
            pending *grown = realloc(held, (size_t)cap * sizeof *grown);
            if (grown) held = grown, cap_held = cap;
        }
        pending p = {strdup(target), strdup(tmp), 0, 0};
        if (n_held < cap_held && p.target && p.tmp && folder_of(target, &folder)) {
            p.folder_dev = folder.st_dev;
            p.folder_ino = folder.st_ino;
            held[n_held++] = p;
        } else {
            free(p.target), free(p.tmp);
            status = ST_ERR, snprintf(error, error_size, "out of memory");
        }
    }
    pthread_mutex_unlock(&lock);
    return status;
}

/* ---- one file ---- */

/* The mode the new file takes: the old file's, or the default. A read-only
 * file is refused unless forced. */
static int target_mode(const char *path, mode_t *mode, char *error, size_t size)
{
    struct stat st;
    *mode = st_file_default_mode();
    if (lstat(path, &st) != 0) return ST_OK;
    if (S_ISDIR(st.st_mode)) {
        snprintf(error, size, "cannot write '%s': it is a folder", path);
        return ST_ERR;
    }
    if (!S_ISREG(st.st_mode)) return ST_OK; /* a symlink is replaced, its target left alone */
    *mode = st.st_mode & 07777;
    if (!force && ((st.st_mode & 0222) == 0 || access(path, W_OK) != 0)) {
        snprintf(error, size,
                 "refusing to replace '%s': it is read-only (mode %04o); --force replaces it", path,
                 (unsigned)(st.st_mode & 07777));
        return ST_ERR;
    }
    return ST_OK;
}

int st_output_open(st_output *o, const char *path, char *error, size_t size)
{
    o->path = path;
    o->fd = -1;
    if (target_mode(path, &o->mode, error, size)) return ST_ERR;
    /* beside the target, so that rename never crosses a file system */
    o->fd = st_file_temp_beside(path, o->tmp, sizeof o->tmp);
    if (o->fd < 0) {
        snprintf(error, size, "cannot write '%s': %s", path, strerror(errno));
        return ST_ERR;
    }
    return ST_OK;
}

int st_output_close(st_output *o, int status, char *error, size_t size)
{
    if (o->fd < 0) {
        unlink(o->tmp);
        if (status == ST_OK)
            snprintf(error, size, "cannot write '%s': %s", o->path, strerror(errno));
        return ST_ERR;
    }
    if (status == ST_OK && fchmod(o->fd, o->mode) != 0)
        status = ST_ERR,
        snprintf(error, size, "cannot set the mode of '%s': %s", o->path, strerror(errno));
    /* the bytes reach the disk before the name does */
    if (status == ST_OK && fsync(o->fd) != 0)
        status = ST_ERR, snprintf(error, size, "cannot write '%s': %s", o->path, strerror(errno));
    if (close(o->fd) != 0 && status == ST_OK)
        status = ST_ERR, snprintf(error, size, "cannot write '%s': %s", o->path, strerror(errno));
    o->fd = -1;
    if (status == ST_OK) status = finish(o->tmp, o->path, error, size);
    if (status != ST_OK) unlink(o->tmp);
    return status;
}
