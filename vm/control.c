#include "control.h"

#include "node.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int st_control_path(const char *name, char *path, size_t size, char *error, size_t error_size)
{
    const char *dir = getenv("XDG_RUNTIME_DIR");
    char fallback[64];
    if (!dir || !*dir) {
        /* a folder of our own, checked: nobody else may have made it first */
        snprintf(fallback, sizeof fallback, "/tmp/strata-%u", (unsigned)geteuid());
        struct stat st;
        if (mkdir(fallback, 0700) && errno != EEXIST) {
            snprintf(error, error_size, "cannot make %s: %s", fallback, strerror(errno));
            return ST_ERR;
        }
        if (lstat(fallback, &st) || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
            (st.st_mode & 077)) {
            snprintf(error, error_size,
                     "%s is not a private folder of this user (set XDG_RUNTIME_DIR)", fallback);
            return ST_ERR;
        }
        dir = fallback;
    }
    struct sockaddr_un addr;
    int n = snprintf(path, size, "%s/strata-%s.sock", dir, name ? name : "strata");
    if (n < 0 || (size_t)n >= size || (size_t)n >= sizeof addr.sun_path) {
        snprintf(error, error_size, "the socket path in %s is too long", dir);
        return ST_ERR;
    }
    return ST_OK;
}

static int make_address(const char *path, struct sockaddr_un *addr)
{
    memset(addr, 0, sizeof *addr);
    addr->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof addr->sun_path) return ST_ERR;
    strcpy(addr->sun_path, path);
    return ST_OK;
}

int st_control_listen(const char *path, char *error, size_t error_size)
{
    struct sockaddr_un addr;
    if (make_address(path, &addr)) {
        snprintf(error, error_size, "the socket path %s is too long", path);
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(error, error_size, "cannot make a socket: %s", strerror(errno));
        return -1;
    }
    /* 0600 right after bind, not through umask (process-wide: JACK's
     * threads are running); until then another user who reaches the folder
     * is still refused by the peer check in st_control_serve */
    int bound = bind(fd, (struct sockaddr *)&addr, sizeof addr);
    int bind_errno = errno;
    if (bound && bind_errno == EADDRINUSE) {
        /* one left by a session that died is replaced; a live one is not */
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int alive = probe >= 0 && connect(probe, (struct sockaddr *)&addr, sizeof addr) == 0;
        if (probe >= 0) close(probe);
        struct stat st;
        if (!alive && lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_uid == geteuid()) {
            unlink(path);
            bound = bind(fd, (struct sockaddr *)&addr, sizeof addr);
            bind_errno = errno;
        } else if (alive) {
            snprintf(error, error_size,
                     "another strata live answers at %s (give this one another --name)", path);
            close(fd);
            return -1;
        } else {
            snprintf(error, error_size,
                     "cannot listen at %s: it exists and is not a socket of this user's", path);
            close(fd);
            return -1;
        }
    }
    if (!bound && chmod(path, 0600)) {
        bind_errno = errno;
        bound = -1;
        unlink(path);
    }
    if (bound) errno = bind_errno;
    if (bound || listen(fd, 8)) {
        snprintf(error, error_size, "cannot listen at %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

/* Writes all of text, giving up at the deadline. */
static void write_all(int fd, const char *text, size_t n, long deadline)
{
    while (n > 0) {
        ssize_t w = send(fd, text, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
            text += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EINTR) return;
        long left = deadline - now_ms();
        if (left <= 0) return;
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        poll(&p, 1, (int)left);
    }
}

static void refuse(int fd, const char *message)
{
    write_all(fd, message, strlen(message), now_ms() + ST_CONTROL_WAIT_MS);
    close(fd);
}

void st_control_serve(int listen_fd, st_control_answer answer, void *data)
{
    int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) || cred.uid != geteuid()) {
        refuse(fd, "error: this session belongs to another user\n");
        return;
    }
    char *request = malloc(ST_CONTROL_MAX + 1);
    char *reply = malloc(65536);
    if (!request || !reply) {
        free(request);
        free(reply);
        refuse(fd, "error: out of memory\n");
        return;
    }
    size_t n = 0;
    long deadline = now_ms() + ST_CONTROL_WAIT_MS;
    const char *problem = NULL;
    for (;;) {
        ssize_t r = recv(fd, request + n, ST_CONTROL_MAX + 1 - n, 0);
        if (r == 0) break; /* the client finished */
        if (r > 0) {
            n += (size_t)r;
            if (n > ST_CONTROL_MAX) {
                problem = "error: the request is longer than 1048576 bytes\n";
                break;
            }
            continue;
        }
        if (errno != EAGAIN && errno != EINTR) {
            problem = "error: the request could not be read\n";
            break;
        }
        long left = deadline - now_ms();
        if (left <= 0) {
            problem = "error: the request did not end within 1000 ms (shut down the writing side "
                      "when done)\n";
            break;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        poll(&p, 1, (int)left);
    }
    if (problem) {
        refuse(fd, problem);
    } else {
        request[n] = 0;
        reply[0] = 0;
        answer(data, request, n, reply, 65536);
        write_all(fd, reply, strlen(reply), now_ms() + ST_CONTROL_WAIT_MS);
        close(fd);
    }
    free(request);
    free(reply);
}

int st_control_request(const char *path, const char *request, size_t n, char *reply,
                       size_t reply_size)
{
    struct sockaddr_un addr;
    if (make_address(path, &addr)) {
        snprintf(reply, reply_size, "the socket path %s is too long", path);
        return ST_ERR;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr)) {
        snprintf(reply, reply_size, "no strata live answers at %s (%s)", path, strerror(errno));
        if (fd >= 0) close(fd);
        return ST_ERR;
    }
    /* a snippet may take a while (a reload of a slow node): wait 60 s */
    struct timeval wait = {60, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &wait, sizeof wait);
    for (size_t sent = 0; sent < n;) {
        ssize_t w = send(fd, request + sent, n - sent, MSG_NOSIGNAL);
        if (w <= 0) {
            snprintf(reply, reply_size, "the session stopped reading (%s)", strerror(errno));
            close(fd);
            return ST_ERR;
        }
        sent += (size_t)w;
    }
    shutdown(fd, SHUT_WR);
    size_t got = 0;
    for (;;) {
        ssize_t r = recv(fd, reply + got, reply_size - 1 - got, 0);
        if (r <= 0) break;
        got += (size_t)r;
        if (got == reply_size - 1) break;
    }
    reply[got] = 0;
    close(fd);
    if (got == 0) {
        snprintf(reply, reply_size, "the session closed the connection without answering");
        return ST_ERR;
    }
    return ST_OK;
}
