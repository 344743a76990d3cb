/* The control socket of `strata live`: a Unix-domain socket in
 * $XDG_RUNTIME_DIR (or a 0700 folder /tmp/strata-UID when it is unset),
 * mode 0600, that answers only its own user (SO_PEERCRED).
 *
 * A request is the whole of what a client sends before shutting down its
 * writing side, at most ST_CONTROL_MAX bytes, within ST_CONTROL_WAIT_MS:
 * "lua\n" and a snippet, or "set\n" NODE.PARAM " " VALUE. The reply is "ok\n"
 * and the snippet's results, or "error: " and one line. */
#ifndef ST_CONTROL_H
#define ST_CONTROL_H

#include <stddef.h>

#define ST_CONTROL_MAX     (1 << 20)
#define ST_CONTROL_WAIT_MS 1000
/* The longest NODE.PARAM a set request names (client and server agree). */
#define ST_CONTROL_TARGET_MAX 511
#define ST_CONTROL_STR(x)     #x
#define ST_CONTROL_XSTR(x)    ST_CONTROL_STR(x)

/* The socket's path for the JACK client name. ST_ERR with the reason. */
int st_control_path(const char *name, char *path, size_t size, char *error, size_t error_size);

/* Listens at path (replacing a stale socket, refusing a live one): the
 * descriptor, or -1 with the reason. */
int st_control_listen(const char *path, char *error, size_t error_size);

/* Answers one waiting connection: refuses another user, reads the request
 * (bounded in size and time), calls answer, writes its reply. answer fills
 * reply (NUL-terminated) from the request (NUL-terminated, length n). */
typedef void (*st_control_answer)(void *data, const char *request, size_t n, char *reply,
                                  size_t reply_size);
void st_control_serve(int listen_fd, st_control_answer answer, void *data);

/* The client: sends the request, waits (bounded) for the reply. ST_ERR with
 * the reason in reply when the session cannot be reached. */
int st_control_request(const char *path, const char *request, size_t n, char *reply,
                       size_t reply_size);

#endif
