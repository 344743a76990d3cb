/* control-client: a raw client of strata live's control socket, for the
 * tests: it sends what `strata send` never would and prints the reply.
 *   control-client PATH raw TEXT    TEXT, then the end of the request
 *   control-client PATH half TEXT   TEXT, and the connection left open
 *   control-client PATH big BYTES   "lua\n" and BYTES more bytes
 * Every wait is bounded (5 s); exit 1 when no reply came. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: control-client PATH raw|half|big TEXT|BYTES\n");
        return 2;
    }
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", argv[1]);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr)) {
        perror("control-client: connect");
        return 1;
    }
    struct timeval wait = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &wait, sizeof wait);
    if (strcmp(argv[2], "big") == 0) {
        long n = atol(argv[3]);
        char chunk[65536];
        memset(chunk, 'x', sizeof chunk);
        send(fd, "lua\n", 4, MSG_NOSIGNAL);
        /* the session may stop reading (and answer) before all is sent */
        while (n > 0) {
            ssize_t w =
                send(fd, chunk, n < (long)sizeof chunk ? (size_t)n : sizeof chunk, MSG_NOSIGNAL);
            if (w <= 0) break;
            n -= w;
        }
        shutdown(fd, SHUT_WR);
    } else {
        send(fd, argv[3], strlen(argv[3]), MSG_NOSIGNAL);
        if (strcmp(argv[2], "half") != 0) shutdown(fd, SHUT_WR);
    }
    char reply[65536];
    size_t got = 0;
    ssize_t r;
    while (got < sizeof reply - 1 && (r = recv(fd, reply + got, sizeof reply - 1 - got, 0)) > 0)
        got += (size_t)r;
    reply[got] = 0;
    close(fd);
    fputs(reply, stdout);
    return got ? 0 : 1;
}
