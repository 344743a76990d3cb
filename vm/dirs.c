#include "dirs.h"

#include "node.h"
#include "outputs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One component: there already as a folder, or made now. */
static int make_one(const char *path, const char *whole, mode_t mode, char *error, size_t size)
{
    struct stat st;
    if (mkdir(path, mode) == 0) {
        st_outputs_made_folder(path); /* removed again if the command fails */
        return ST_OK;
    }
    int reason = errno;
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode)) return ST_OK;
        snprintf(error, size, "cannot make the folder '%s': '%s' exists and is not a folder", whole,
                 path);
        return ST_ERR;
    }
    snprintf(error, size, "cannot make the folder '%s': %s", whole, strerror(reason));
    return ST_ERR;
}

int st_make_dirs(const char *path, mode_t mode, char *error, size_t error_size)
{
    char buf[4096];
    if (!path[0]) {
        snprintf(error, error_size, "cannot make a folder with an empty name");
        return ST_ERR;
    }
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        snprintf(error, error_size, "cannot make the folder '%.200s...': the name is too long",
                 path);
        return ST_ERR;
    }
    for (char *p = buf + 1; *p; p++)
        if (*p == '/' && p[-1] != '/') {
            *p = 0;
            if (make_one(buf, path, mode, error, error_size)) return ST_ERR;
            *p = '/';
        }
    return make_one(buf, path, mode, error, error_size);
}

int st_dirs_check(const char *path, char *error, size_t error_size)
{
    char buf[4096];
    struct stat st;
    if (!path[0]) path = ".";
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        snprintf(error, error_size, "cannot make the folder '%.200s...': the name is too long",
                 path);
        return ST_ERR;
    }
    /* the nearest part of the path that exists */
    while (stat(buf, &st) != 0) {
        if (errno != ENOENT && errno != ENOTDIR) {
            snprintf(error, error_size, "cannot write into '%s': %s", path, strerror(errno));
            return ST_ERR;
        }
        char *slash = strrchr(buf, '/');
        while (slash && slash > buf && slash[-1] == '/')
            slash--;
        if (!slash) {
            snprintf(buf, sizeof buf, ".");
        } else if (slash == buf) {
            buf[1] = 0; /* "/" */
        } else {
            *slash = 0;
        }
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(error, error_size, "cannot make the folder '%s': '%s' exists and is not a folder",
                 path, buf);
        return ST_ERR;
    }
    if (access(buf, W_OK | X_OK) != 0) {
        int reason = errno;
        if (strcmp(buf, path) == 0)
            snprintf(error, error_size, "cannot write into '%s': %s", path, strerror(reason));
        else
            snprintf(error, error_size, "cannot make the folder '%s' in '%s': %s", path, buf,
                     strerror(reason));
        return ST_ERR;
    }
    return ST_OK;
}
