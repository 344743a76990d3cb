#include "outputs.h"

#include "files.h"
#include "node.h"

#include <errno.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
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

/* Guarded by lock: save nodes may run on worker threads one day. The
 * signals that end a command are blocked while the lock is held, so the
 * handler below never sees the table half changed. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pending *held;
static int n_held, cap_held, holding, force, exit_hook, signal_hook;
/* the temporary files being written now (st_output_open .. close) */
enum { MAX_OPEN = 16 };
static const char *open_tmp[MAX_OPEN];
static const int ending_signals[3] = {SIGINT, SIGTERM, SIGHUP};
/* the thread that installed the handler (the command's), where it runs */
static pthread_t owner;
static volatile sig_atomic_t owner_set;
/* Lines to print once the set's files are in place ("wrote PATH"), and the
 * folders made for the set, removed (when empty) if it fails: a failed
 * command says it wrote nothing and leaves no empty folder. */
static char **said, **made;
static FILE **said_to; /* where each line of said goes */
static int n_said, cap_said, n_made, cap_made;

/* Appends a copy of text to list; 0, or -1 out of memory. Lock held. */
static int push(char ***list, int *n, int *cap, const char *text)
{
    if (*n == *cap) {
        int grown_cap = *cap ? 2 * *cap : 8;
        char **grown = realloc(*list, (size_t)grown_cap * sizeof *grown);
        if (!grown) return -1;
        *list = grown, *cap = grown_cap;
    }
    char *copy = strdup(text);
    if (!copy) return -1;
    (*list)[(*n)++] = copy;
    return 0;
}

static void free_list(char **list, int *n)
{
    for (int i = 0; i < *n; i++)
        free(list[i]);
    *n = 0;
}

/* The folders made for the set, last made first: rmdir leaves one that
 * holds anything. Lock held. */
static void remove_made_folders(void)
{
    for (int i = n_made - 1; i >= 0; i--)
        rmdir(made[i]);
    free_list(made, &n_made);
}

static void enter(sigset_t *saved)
{
    sigset_t block;
    sigemptyset(&block);
    for (int i = 0; i < 3; i++)
        sigaddset(&block, ending_signals[i]);
    pthread_sigmask(SIG_BLOCK, &block, saved);
    pthread_mutex_lock(&lock);
}

static void leave(const sigset_t *saved)
{
    pthread_mutex_unlock(&lock);
    pthread_sigmask(SIG_SETMASK, saved, NULL);
}

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
    free_list(said, &n_said);
    remove_made_folders();
}

static void at_exit(void)
{
    sigset_t saved;
    enter(&saved);
    drop_all();
    leave(&saved);
}

/* Ctrl-C, a kill or a closed terminal during a command: its temporary
 * files (finished and held, or being written) are removed, then the signal
 * ends the process as it would have. Only async-signal-safe calls. */
static void on_ending_signal(int sig)
{
    /* delivered to a thread strata did not start (OpenBLAS's, JACK's): pass
     * it to the thread that keeps the tables, which takes it once it no
     * longer blocks it (outside enter .. leave) */
    if (owner_set && !pthread_equal(pthread_self(), owner)) {
        pthread_kill(owner, sig);
        return;
    }
    for (int i = 0; i < n_held; i++)
        unlink(held[i].tmp);
    for (int i = 0; i < MAX_OPEN; i++)
        if (open_tmp[i]) unlink(open_tmp[i]);
    for (int i = n_made - 1; i >= 0; i--)
        rmdir(made[i]);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* The handler, for each ending signal whose action is the default (one the
 * shell set to be ignored, as for a background job, stays ignored). */
static void install_signal_hook(void)
{
    for (int i = 0; i < 3; i++) {
        struct sigaction old, sa = {0};
        if (sigaction(ending_signals[i], NULL, &old) != 0 || old.sa_handler != SIG_DFL) continue;
        sa.sa_handler = on_ending_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(ending_signals[i], &sa, NULL);
    }
}

void st_outputs_begin(void)
{
    sigset_t saved;
    enter(&saved);
    holding = 1;
    if (!exit_hook) exit_hook = atexit(at_exit) == 0;
    if (!signal_hook) owner = pthread_self(), owner_set = 1, install_signal_hook(), signal_hook = 1;
    leave(&saved);
}

void st_outputs_abort(void)
{
    sigset_t saved;
    enter(&saved);
    drop_all();
    holding = 0;
    leave(&saved);
}

int st_outputs_commit(char *error, size_t error_size)
{
    int status = ST_OK;
    sigset_t saved;
    enter(&saved);
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
    if (status == ST_OK) {
        for (int i = 0; i < n_said; i++)
            fprintf(said_to[i], "%s\n", said[i]), fflush(said_to[i]);
        free_list(made, &n_made);
    } else {
        remove_made_folders();
    }
    free_list(said, &n_said);
    leave(&saved);
    return status;
}

int st_outputs_checkpoint(char *error, size_t error_size)
{
    sigset_t saved;
    enter(&saved);
    int was_holding = holding;
    leave(&saved);
    if (!was_holding) return ST_OK;
    int status = st_outputs_commit(error, error_size);
    st_outputs_begin();
    return status;
}

/* Holds line for the commit. Lock held. 0, or -1 out of memory. said_to
 * grows ahead of said (push doubles said's capacity as this does), so it
 * always has room for said's lines. */
static int hold_line(FILE *to, const char *line)
{
    if (n_said == cap_said) {
        FILE **grown = realloc(said_to, (size_t)(cap_said ? 2 * cap_said : 8) * sizeof *grown);
        if (!grown) return -1;
        said_to = grown;
    }
    const int i = n_said;
    if (push(&said, &n_said, &cap_said, line)) return -1;
    said_to[i] = to;
    return 0;
}

void st_outputs_say(FILE *to, const char *line)
{
    sigset_t saved;
    enter(&saved);
    if (!holding || hold_line(to, line)) fprintf(to, "%s\n", line); /* now */
    leave(&saved);
}

void st_outputs_made_folder(const char *path)
{
    sigset_t saved;
    enter(&saved);
    if (holding) push(&made, &n_made, &cap_made, path); /* out of memory: the folder stays */
    leave(&saved);
}

const char *st_outputs_pending(const char *path)
{
    sigset_t saved;
    enter(&saved);
    int i = find_held(path);
    const char *tmp = i >= 0 ? held[i].tmp : NULL;
    leave(&saved);
    return tmp;
}

/* Renames tmp into place now, or holds it for the commit. */
static int finish(const char *tmp, const char *target, char *error, size_t error_size)
{
    int status = ST_OK;
    sigset_t saved;
    enter(&saved);
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
    leave(&saved);
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
    sigset_t saved;
    enter(&saved); /* made and registered with the signals blocked: never left behind */
    o->fd = st_file_temp_beside(path, o->tmp, sizeof o->tmp);
    for (int i = 0; o->fd >= 0 && i < MAX_OPEN; i++)
        if (!open_tmp[i]) {
            open_tmp[i] = o->tmp;
            break;
        }
    leave(&saved);
    if (o->fd < 0) {
        snprintf(error, size, "cannot write '%s': %s", path, strerror(errno));
        return ST_ERR;
    }
    return ST_OK;
}

/* o's temporary file is no longer being written: held, renamed or removed. */
static void forget_open(const st_output *o)
{
    sigset_t saved;
    enter(&saved);
    for (int i = 0; i < MAX_OPEN; i++)
        if (open_tmp[i] == o->tmp) open_tmp[i] = NULL;
    leave(&saved);
}

int st_output_close(st_output *o, int status, char *error, size_t size)
{
    if (o->fd < 0) {
        forget_open(o);
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
    forget_open(o);
    return status;
}
