#include "files.h"

#include "node.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int st_file_read(const char *path, size_t max_bytes, char **data, size_t *size, char *error,
                 size_t error_size)
{
    *data = NULL;
    *size = 0;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(error, error_size, "cannot open '%s': %s", path, strerror(errno));
        return ST_ERR;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(error, error_size, "cannot read '%s': it is not a regular file", path);
        close(fd);
        return ST_ERR;
    }
    if ((uint64_t)st.st_size > max_bytes) {
        snprintf(error, error_size,
                 "cannot read '%s': it holds %lld bytes, more than the %zu allowed", path,
                 (long long)st.st_size, max_bytes);
        close(fd);
        return ST_ERR;
    }
    size_t cap = (size_t)st.st_size + 1, used = 0;
    char *buf = malloc(cap);
    if (!buf) {
        snprintf(error, error_size, "out of memory reading '%s'", path);
        close(fd);
        return ST_ERR;
    }
    /* the file may grow while it is read: never past max_bytes */
    for (;;) {
        if (used + 1 == cap) {
            if (cap - 1 >= max_bytes) break;
            size_t grown_cap = cap * 2 > max_bytes + 1 ? max_bytes + 1 : cap * 2;
            char *grown = realloc(buf, grown_cap);
            if (!grown) break;
            buf = grown;
            cap = grown_cap;
        }
        ssize_t got = read(fd, buf + used, cap - 1 - used);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            snprintf(error, error_size, "cannot read '%s': %s", path, strerror(errno));
            free(buf);
            close(fd);
            return ST_ERR;
        }
        if (got == 0) break;
        used += (size_t)got;
    }
    close(fd);
    buf[used] = 0;
    *data = buf;
    *size = used;
    return ST_OK;
}

int st_file_temp_beside(const char *target, char *tmp, size_t tmp_size)
{
    if ((size_t)snprintf(tmp, tmp_size, "%s.tmp-XXXXXX", target) >= tmp_size) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return mkostemp(tmp, O_CLOEXEC); /* O_CREAT | O_EXCL, mode 0600 */
}

static mode_t default_mode;
static pthread_once_t default_mode_once = PTHREAD_ONCE_INIT;

static void read_umask(void)
{
    mode_t mask = umask(022); /* the only way to read it; restored at once */
    umask(mask);
    default_mode = 0666 & ~mask;
}

mode_t st_file_default_mode(void)
{
    pthread_once(&default_mode_once, read_umask);
    return default_mode;
}
