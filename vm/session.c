#include "session.h"

#include "../lua/binding.h"
#include "board.h"
#include "control.h"
#include "recorder.h"

#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <limits.h>
#include <lualib.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <readline/history.h>
#include <readline/readline.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_WATCHED 256

/* Owns its Lua state (and through it the graph of the playing program),
 * the watch descriptors and the socket. */
typedef struct {
    const st_session_options *opt;
    lua_State *L;         /* the state of the program playing or waiting */
    pthread_mutex_t lock; /* L and its graph: the session's thread and JACK's notification one */
    st_live *live;
    st_transport transport;
    char ends[1024]; /* the JACK ports, described: every program must have them */
    int inotify_fd, listen_fd;
    char socket_path[512];
    char *watched[MAX_WATCHED]; /* real paths */
    int n_watched;
    char *watched_dir[MAX_WATCHED];
    int dir_wd[MAX_WATCHED];
    int n_dirs;
    uint64_t end_frames; /* the played input ends here (0: never) */
    /* the reload waiting for its swap to be scheduled, to be reported */
    long report_ticket;
    double report_t0;      /* when the save (or snippet) was seen */
    char report_what[300]; /* "reloaded NAME" or "snippet" */
    long reported_swap;
    char error[2048];
    int exited; /* the last error was the patch's os.exit */
} session;

static volatile sig_atomic_t stop_signal;
static void on_signal(int sig) { stop_signal = sig; }

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* ---- running a patch ---- */

/* Notes every file the patch reads as code: dofile, loadfile, and require's
 * Lua searcher, into the table given. */
static const char track_files[] =
    "local noted = ...\n"
    "local function note(path) if type(path) == 'string' then noted[#noted + 1] = path end end\n"
    "local dofile0, loadfile0 = dofile, loadfile\n"
    "dofile = function(path, ...) note(path) return dofile0(path, ...) end\n"
    "loadfile = function(path, ...) note(path) return loadfile0(path, ...) end\n"
    "local searcher = package.searchers[2]\n"
    "package.searchers[2] = function(name)\n"
    "  local loader, path = searcher(name)\n"
    "  if type(loader) == 'function' then note(path) end\n"
    "  return loader, path\n"
    "end\n";

/* os.exit would end the session from inside a Lua call, past its cleanup:
 * it raises instead. In the first run (before anything plays: a usage
 * error, a --help) the session then ends with that status and no message;
 * in a reload, the old program plays on. */
static int refuse_exit(lua_State *L)
{
    int status =
        lua_isboolean(L, 1) ? (lua_toboolean(L, 1) ? 0 : 1) : (int)luaL_optinteger(L, 1, 0);
    lua_createtable(L, 0, 3);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "exit");
    lua_pushinteger(L, status);
    lua_setfield(L, -2, "status");
    lua_pushfstring(L, "the patch called os.exit(%d)", status);
    lua_setfield(L, -2, "message");
    return lua_error(L);
}

/* The error at the top of L into s->error; returns its status (2 for a
 * usage error, else 1). */
static int take_error(session *s, lua_State *L)
{
    int status = 1;
    s->exited = 0;
    if (lua_istable(L, -1)) {
        lua_getfield(L, -1, "exit");
        s->exited = lua_toboolean(L, -1);
        lua_pop(L, 1);
        lua_getfield(L, -1, "status");
        if (lua_isinteger(L, -1)) status = (int)lua_tointeger(L, -1);
        lua_pop(L, 1);
        lua_getfield(L, -1, "message");
    }
    const char *message = lua_tostring(L, -1);
    snprintf(s->error, sizeof s->error, "%s",
             message ? message : "the patch raised an error that is not a string");
    return status || s->exited ? status : 1;
}

static void watch_file(session *s, const char *path);

/* A change of a streaming parameter of node, on every program that has it. */
static int live_change(void *data, const st_node *node, const char *name, double value, char *error,
                       size_t size)
{
    session *s = data;
    const st_node_type *t = st_node_type_of(node);
    if (!st_param_find(t, name, NULL)) {
        snprintf(error, size, "%s has no parameter '%s'", t->name, name);
        return ST_ERR;
    }
    if (!s->live || st_live_set(s->live, node, name, value) != ST_OK) {
        snprintf(error, size, "%s cannot change %s while playing (or it is not in the program)",
                 t->name, name);
        return ST_ERR;
    }
    return ST_OK;
}

/* Runs the patch in a new Lua state whose graph takes over the results of
 * previous (may be NULL). NULL with the message in s->error and the exit
 * status in *status. */
static lua_State *run_patch(session *s, st_graph *previous, int *status)
{
    const st_session_options *opt = s->opt;
    lua_State *L = st_lua_patch_state(refuse_exit, &opt->config, opt->patch, opt->argc, opt->argv);
    *status = 1;
    if (!L) {
        snprintf(s->error, sizeof s->error, "out of memory");
        return NULL;
    }
    st_graph *g = st_lua_graph(L);
    st_graph_config(g)->newest_output_wins = 1;
    st_graph_reuse(g, previous);
    lua_newtable(L); /* the files read, at index 1 of the stack */
    if (luaL_loadstring(L, track_files) != LUA_OK) {
        take_error(s, L);
        lua_close(L);
        return NULL;
    }
    lua_pushvalue(L, 1);
    lua_call(L, 1, 0);
    lua_pushcfunction(L, st_lua_error_handler);
    int lua_status =
        opt->patch_text ? luaL_loadstring(L, opt->patch_text) : luaL_loadfile(L, opt->patch);
    if (lua_status == LUA_OK) {
        for (int i = 0; i < opt->argc; i++)
            lua_pushstring(L, opt->argv[i]);
        lua_status = lua_pcall(L, opt->argc, 0, 2);
    }
    fflush(stdout);
    /* every file it read is watched, even when it failed (a fix there reloads) */
    for (lua_Integer i = 1; lua_rawgeti(L, 1, i) == LUA_TSTRING; i++) {
        watch_file(s, lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    if (lua_status != LUA_OK) {
        *status = take_error(s, L);
        lua_close(L);
        return NULL;
    }
    lua_settop(L, 0);
    /* from here on (snippets), h:set() and loop:start() reach the programs */
    st_lua_set_live(L, live_change, s);
    return L;
}

/* Reads strata.transport() into the st_transport given as light userdata;
 * run under lua_pcall, since a patch or a snippet may have replaced
 * package, package.loaded.strata or its transport with anything. */
static int transport_reader(lua_State *L)
{
    st_transport *t = lua_touserdata(L, 1);
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "loaded");
    lua_getfield(L, -1, "strata");
    lua_getfield(L, -1, "transport");
    lua_call(L, 0, 1);
    if (!lua_istable(L, -1)) return 0;
    int settings = lua_gettop(L);
    lua_getfield(L, settings, "bpm");
    t->bpm = lua_tonumber(L, -1);
    lua_getfield(L, settings, "beats_per_bar");
    t->beats_per_bar = (int)lua_tointeger(L, -1);
    lua_getfield(L, settings, "fade_ms");
    t->fade_ms = lua_tonumber(L, -1);
    lua_getfield(L, settings, "jack");
    t->follow_jack = lua_toboolean(L, -1);
    lua_getfield(L, settings, "quantize");
    const char *q = lua_tostring(L, -1);
    t->quantize = q && strcmp(q, "now") == 0    ? ST_QUANTIZE_NOW
                  : q && strcmp(q, "beat") == 0 ? ST_QUANTIZE_BEAT
                                                : ST_QUANTIZE_BAR;
    return 0;
}

/* The settings of strata.transport in L; the defaults when they make no
 * clock. Returns 0 (and the defaults) when they cannot be read at all. */
static int read_transport(lua_State *L, st_transport *t)
{
    st_transport read = ST_TRANSPORT_DEFAULT;
    lua_settop(L, 0);
    lua_pushcfunction(L, transport_reader);
    lua_pushlightuserdata(L, &read);
    int ok = lua_pcall(L, 1, 0, 0) == LUA_OK;
    lua_settop(L, 0);
    *t = ok && read.bpm > 0 && read.beats_per_bar >= 1 ? read : ST_TRANSPORT_DEFAULT;
    return ok;
}

static int same_transport(const st_transport *a, const st_transport *b)
{
    return a->bpm == b->bpm && a->beats_per_bar == b->beats_per_bar && a->quantize == b->quantize &&
           a->fade_ms == b->fade_ms && a->follow_jack == b->follow_jack;
}

/* "in: in 2; out: out 2": the JACK ports a program needs. */
static void describe_ends(const st_program *p, char *text, size_t size)
{
    size_t used = 0;
    text[0] = 0;
    for (int outputs = 0; outputs < 2; outputs++) {
        used += (size_t)snprintf(text + used, size - used, "%s%s:", outputs ? "; " : "",
                                 outputs ? "outputs" : "inputs");
        if (used >= size) return;
        int n = st_program_n_ends(p, outputs);
        if (n == 0) used += (size_t)snprintf(text + used, size - used, " none");
        for (int i = 0; i < n && used < size; i++)
            used += (size_t)snprintf(text + used, size - used, "%s %s (%d channels)", i ? "," : "",
                                     st_program_end_prefix(p, outputs, i),
                                     st_program_end_channels(p, outputs, i));
        if (used >= size) return;
    }
}

/* The program of L's graph for the running shape, with the ports of the
 * first; NULL with the reason in s->error. */
static st_program *compile(session *s, lua_State *L, int block, double rate, const char *source)
{
    char error[1500];
    st_program *p = st_program_compile(st_lua_graph(L), block, rate, error, sizeof error);
    if (!p) {
        snprintf(s->error, sizeof s->error, "%s", error);
        return NULL;
    }
    char ends[sizeof s->ends];
    describe_ends(p, ends, sizeof ends);
    if (s->ends[0] && strcmp(ends, s->ends) != 0) {
        snprintf(
            s->error, sizeof s->error,
            "%.300s: the JACK ports would change (%.600s; playing %.600s): restart strata live to "
            "change them",
            source, ends, s->ends);
        st_program_free(p);
        return NULL;
    }
    return p;
}

/* The period or the rate changed (a JACK thread, or the session's own from
 * st_live_poll). A reload can hold the lock for minutes: never wait for it. */
static st_program *recompile(void *data, int block, double rate, int *busy)
{
    session *s = data;
    if (pthread_mutex_trylock(&s->lock) != 0) {
        *busy = 1;
        return NULL;
    }
    st_program *p = compile(s, s->L, block, rate, s->opt->patch);
    if (!p)
        fprintf(stderr, "strata: cannot recompile for %d frames at %g Hz: %s\n", block, rate,
                s->error);
    pthread_mutex_unlock(&s->lock);
    return p;
}

/* When the played input ends (0: it does not), from L's graph. */
static void find_end(session *s, const st_program *p)
{
    double seconds = st_program_natural_seconds(st_lua_graph(s->L));
    s->end_frames = seconds > 0 ? (uint64_t)llround(seconds * st_live_rate(s->live)) +
                                      (uint64_t)st_program_latency(p)
                                : 0;
}

/* Offers p, compiled from L (which replaces the session's state), and notes
 * what to report once its swap is scheduled. */
static void offer(session *s, lua_State *L, st_program *p, double t0, const char *what)
{
    st_transport t;
    read_transport(L, &t);
    if (L != s->L) {
        lua_close(s->L);
        s->L = L;
    }
    s->transport = t;
    find_end(s, p);
    s->report_ticket = st_live_offer(s->live, p, &t);
    s->report_t0 = t0;
    snprintf(s->report_what, sizeof s->report_what, "%s", what);
}

/* A save: the patch again, in a fresh state. */
static void reload(session *s, double t0)
{
    int status;
    pthread_mutex_lock(&s->lock);
    lua_State *L = run_patch(s, st_lua_graph(s->L), &status);
    double t1 = now_ms();
    /* offline values are computed when the program is compiled: the
     * playing graph's results are taken over until then */
    st_program *p =
        L ? compile(s, L, st_live_block(s->live), st_live_rate(s->live), s->opt->patch) : NULL;
    if (L) st_graph_reuse(st_lua_graph(L), NULL);
    if (getenv("STRATA_LIVE_TIMING")) /* for tests/bench/live_reload.sh */
        fprintf(stderr, "timing: patch %.1f ms, compile %.1f ms, %d results taken over\n", t1 - t0,
                now_ms() - t1, L ? st_graph_get_stats(st_lua_graph(L)).reused : 0);
    if (p) {
        const char *name = strrchr(s->opt->patch, '/');
        char what[300];
        snprintf(what, sizeof what, "reloaded %s", name ? name + 1 : s->opt->patch);
        offer(s, L, p, t0, what);
    } else {
        if (L) lua_close(L);
        fprintf(stderr, "%s; still playing the last good version\n", s->error);
    }
    pthread_mutex_unlock(&s->lock);
}

/* ---- files ---- */

static void watch_file(session *s, const char *path)
{
    char real[PATH_MAX];
    if (!realpath(path, real) || s->n_watched == MAX_WATCHED || s->inotify_fd < 0) return;
    for (int i = 0; i < s->n_watched; i++)
        if (strcmp(s->watched[i], real) == 0) return;
    char *copy = strdup(real);
    if (!copy) return;
    s->watched[s->n_watched++] = copy;
    char *slash = strrchr(real, '/');
    *slash = 0;
    const char *dir = real[0] ? real : "/";
    for (int i = 0; i < s->n_dirs; i++)
        if (strcmp(s->watched_dir[i], dir) == 0) return;
    /* the folder, not the file: editors save by writing a new file and
     * renaming it over the old one */
    int wd = inotify_add_watch(s->inotify_fd, dir, IN_CLOSE_WRITE | IN_MOVED_TO);
    if (wd < 0 || s->n_dirs == MAX_WATCHED || !(s->watched_dir[s->n_dirs] = strdup(dir))) return;
    s->dir_wd[s->n_dirs++] = wd;
}

/* True when the events waiting name a watched file. */
static int read_changes(session *s)
{
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    int changed = 0;
    ssize_t n;
    while ((n = read(s->inotify_fd, buf, sizeof buf)) > 0) {
        for (char *at = buf; at < buf + n;) {
            struct inotify_event *e = (struct inotify_event *)at;
            at += sizeof *e + e->len;
            if (!e->len) continue;
            for (int d = 0; d < s->n_dirs; d++) {
                if (s->dir_wd[d] != e->wd) continue;
                char path[PATH_MAX + 256];
                snprintf(path, sizeof path, "%s%s%s", s->watched_dir[d],
                         strcmp(s->watched_dir[d], "/") ? "/" : "", e->name);
                for (int i = 0; i < s->n_watched; i++)
                    changed |= strcmp(s->watched[i], path) == 0;
            }
        }
    }
    return changed;
}

/* ---- snippets and set ---- */

static void append(char *text, size_t size, const char *more)
{
    size_t used = strlen(text);
    if (used < size) snprintf(text + used, size - used, "%s", more);
}

static int count_outputs(st_graph *g)
{
    int n = 0;
    for (int i = 0; i < st_graph_n_nodes(g); i++)
        n += st_node_type_of(st_graph_node(g, i))->stream_role == ST_STREAM_OUTPUT;
    return n;
}

typedef struct {
    char *reply;
    size_t size;
} reply_text;

/* Appends the text of arguments 2.. (tab-separated, then a newline) to the
 * reply_text given as light userdata; run under lua_pcall. */
static int results_as_text(lua_State *L)
{
    reply_text *text = lua_touserdata(L, 1);
    int n = lua_gettop(L);
    for (int i = 2; i <= n; i++) {
        append(text->reply, text->size, luaL_tolstring(L, i, NULL));
        lua_pop(L, 1);
        append(text->reply, text->size, i < n ? "\t" : "\n");
    }
    return 0;
}

/* Runs code in the playing patch's state. A snippet that makes an output
 * (or changes the transport) swaps in a program from the graph as it now
 * is. The results (or the error) in reply. */
static int run_snippet(session *s, const char *code, size_t n, char *reply, size_t size)
{
    double t0 = now_ms();
    pthread_mutex_lock(&s->lock);
    lua_State *L = s->L;
    st_graph *g = st_lua_graph(L);
    int outputs_before = count_outputs(g);
    /* all or nothing: the outputs a failed snippet made are withdrawn, or
     * every later compile (snippet, save, period change) would meet them */
    int nodes_before = st_graph_n_nodes(g);
    lua_settop(L, 0);
    lua_pushcfunction(L, st_lua_error_handler);
    /* an expression's value is the answer: try "return CODE" first */
    char *with_return = malloc(n + 8);
    int loaded = LUA_ERRMEM;
    if (with_return) {
        memcpy(with_return, "return ", 7);
        memcpy(with_return + 7, code, n);
        loaded = luaL_loadbufferx(L, with_return, n + 7, "=snippet", "t");
        free(with_return);
    }
    if (loaded != LUA_OK) {
        lua_settop(L, 1);
        loaded = luaL_loadbufferx(L, code, n, "=snippet", "t");
    }
    int ok = loaded == LUA_OK && lua_pcall(L, 0, LUA_MULTRET, 1) == LUA_OK;
    fflush(stdout);
    if (!ok) {
        take_error(s, L);
        snprintf(reply, size, "error: %s\n", s->error);
        lua_settop(L, 0);
        st_graph_withdraw_from(g, nodes_before);
        pthread_mutex_unlock(&s->lock);
        return ST_ERR;
    }
    /* the results as text, under lua_pcall too: a __tostring may raise */
    int n_results = lua_gettop(L) - 1;
    lua_remove(L, 1);
    reply_text text = {reply, size};
    snprintf(reply, size, "ok\n");
    if (!lua_checkstack(L, 2)) {
        snprintf(reply, size, "error: too many results\n");
    } else {
        lua_pushcfunction(L, results_as_text);
        lua_insert(L, 1);
        lua_pushlightuserdata(L, &text);
        lua_insert(L, 2);
        if (lua_pcall(L, n_results + 1, 0, 0) != LUA_OK)
            snprintf(reply, size, "error: %s\n",
                     lua_isstring(L, -1) ? lua_tostring(L, -1) : "a result cannot be shown");
    }
    lua_settop(L, 0);
    st_transport t;
    /* a snippet that breaks the way to the transport (package = nil)
     * leaves the clock as it was */
    if (!read_transport(L, &t)) t = s->transport;
    if (count_outputs(g) != outputs_before || !same_transport(&t, &s->transport)) {
        st_program *p = compile(s, L, st_live_block(s->live), st_live_rate(s->live), "snippet");
        if (!p) {
            snprintf(reply, size, "error: %s\n", s->error);
            st_graph_withdraw_from(g, nodes_before);
            pthread_mutex_unlock(&s->lock);
            return ST_ERR;
        }
        offer(s, L, p, t0, "snippet ran");
    }
    pthread_mutex_unlock(&s->lock);
    return ST_OK;
}

/* "NODE.PARAM VALUE": NODE is a Lua expression in the patch's state that
 * gives a node (a global's name, usually). */
static void set_param(session *s, const char *text, char *reply, size_t size)
{
    char target[ST_CONTROL_TARGET_MAX + 1], extra[2];
    double value;
    if (sscanf(text, " %" ST_CONTROL_XSTR(ST_CONTROL_TARGET_MAX) "s %lf %1s", target, &value,
               extra) != 2) {
        snprintf(reply, size, "error: set wants NODE.PARAM VALUE (a number), not '%.200s'\n", text);
        return;
    }
    char *dot = strrchr(target, '.');
    if (!dot || dot == target || !dot[1]) {
        snprintf(reply, size, "error: set wants NODE.PARAM, not '%s'\n", target);
        return;
    }
    *dot = 0;
    const char *param = dot + 1;
    pthread_mutex_lock(&s->lock);
    lua_State *L = s->L;
    lua_settop(L, 0);
    st_ref ref;
    char code[600];
    snprintf(code, sizeof code, "return %s", target);
    if (luaL_loadbufferx(L, code, strlen(code), "=set", "t") != LUA_OK ||
        lua_pcall(L, 0, 1, 0) != LUA_OK || !st_lua_ref_at(L, 1, &ref)) {
        snprintf(reply, size, "error: '%s' is not a node of the patch (a global holding one)\n",
                 target);
    } else {
        char error[300];
        if (live_change(s, ref.node, param, value, error, sizeof error))
            snprintf(reply, size, "error: %s: %s\n", target, error);
        else
            snprintf(reply, size, "ok\n");
    }
    lua_settop(L, 0);
    pthread_mutex_unlock(&s->lock);
}

static void answer(void *data, const char *request, size_t n, char *reply, size_t size)
{
    session *s = data;
    if (n >= 4 && memcmp(request, "lua\n", 4) == 0)
        run_snippet(s, request + 4, n - 4, reply, size);
    else if (n >= 4 && memcmp(request, "set\n", 4) == 0 && strlen(request) == n)
        set_param(s, request + 4, reply, size);
    else
        snprintf(reply, size, "error: not a request (\"lua\" or \"set\" and a newline first)\n");
}

/* ---- the REPL ---- */

static session *repl_session;
static int repl_done;

static void on_line(char *line)
{
    if (!line) { /* end of input */
        repl_done = 1;
        rl_callback_handler_remove();
        return;
    }
    if (*line) {
        add_history(line);
        char reply[65536];
        run_snippet(repl_session, line, strlen(line), reply, sizeof reply);
        fputs(strncmp(reply, "ok\n", 3) == 0 ? reply + 3 : reply, stdout);
        fflush(stdout);
    }
    free(line);
}

/* The REPL's history file: $XDG_STATE_HOME/strata/history, else
 * ~/.local/state/strata/history (its folder made 0700). Empty when there is
 * no home. */
static void history_path(char *path, size_t size)
{
    const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    char dir[3000];
    path[0] = 0;
    if (state && *state)
        snprintf(dir, sizeof dir, "%s/strata", state);
    else if (home && *home)
        snprintf(dir, sizeof dir, "%s/.local/state/strata", home);
    else
        return;
    /* the parents of the folder, then the folder */
    for (char *slash = strchr(dir + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = 0;
        mkdir(dir, 0700);
        *slash = '/';
    }
    if (mkdir(dir, 0700) && errno != EEXIST) return;
    snprintf(path, size, "%s/history", dir);
}

/* ---- the session ---- */

/* "reloaded NAME in N ms, swap at bar B" once the audio thread has given the
 * program its swap frame (N: from the save to then; with quantize "now" the
 * program plays from that period on): the bar (and beat, off the bar) where
 * it starts. */
static void report(session *s, const st_live_status *st)
{
    if (!s->report_ticket || st->scheduled != s->report_ticket) return;
    double ms = now_ms() - s->report_t0;
    int bpb = st->beats_per_bar > 0 ? st->beats_per_bar : 4;
    double beat = st->scheduled_beat;
    long bar = (long)floor(beat / bpb + 1e-9) + 1;
    double in_bar = beat - (double)(bar - 1) * bpb;
    if (in_bar < 1e-3) /* on the bar, to within a frame */
        fprintf(stderr, "%s in %.0f ms, swap at bar %ld\n", s->report_what, ms, bar);
    else
        fprintf(stderr, "%s in %.0f ms, swap at bar %ld beat %.2f\n", s->report_what, ms, bar,
                in_bar + 1);
    if (getenv("STRATA_LIVE_TIMING")) { /* for tests/bench/live_reload.sh */
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        fprintf(stderr, "timing: scheduled at %lld ns\n",
                (long long)t.tv_sec * 1000000000LL + t.tv_nsec);
    }
    /* the new program's input may start afresh at the swap (a play that is
     * not carried over): its end counts from there. A carried one ends
     * sooner, and the session then plays silence until this end: better
     * than cutting a restarted input short */
    if (s->end_frames) s->end_frames += st->scheduled_frame;
    s->report_ticket = 0;
}

/* ---- the board ---- */

typedef struct {
    char message[300];
} board_state;

/* loops[i + 1]'s node in the patch's state, or NULL. */
static const st_node *board_loop(session *s, int i)
{
    lua_State *L = s->L;
    st_ref ref;
    const st_node *node = NULL;
    lua_getglobal(L, "loops");
    if (lua_istable(L, -1) && lua_rawgeti(L, -1, i + 1) != LUA_TNIL && st_lua_ref_at(L, -1, &ref))
        node = ref.node;
    lua_settop(L, 0);
    return node;
}

/* A key does what a snippet does. */
static void board_keys(session *s, board_state *b)
{
    for (int key; (key = st_board_key()) >= 0;) {
        char code[200], reply[1024];
        int i = st_board_loop_of_key(key);
        double playing = 0;
        if (key == 'q') {
            stop_signal = SIGTERM;
            return;
        } else if (key == ' ') {
            snprintf(code, sizeof code, "for _, l in ipairs(loops) do l:stop() end");
        } else if (i >= 0) {
            pthread_mutex_lock(&s->lock);
            const st_node *node = board_loop(s, i);
            pthread_mutex_unlock(&s->lock);
            if (!node) continue;
            st_live_get(s->live, node, "playing", &playing);
            snprintf(code, sizeof code, "loops[%d]:%s()", i + 1, playing ? "stop" : "start");
        } else {
            continue;
        }
        run_snippet(s, code, strlen(code), reply, sizeof reply);
        reply[strcspn(reply, "\n")] = 0;
        snprintf(b->message, sizeof b->message, "%.100s: %.180s", code, reply);
    }
}

static void board_draw(session *s, board_state *b, const st_live_status *st, double rate)
{
    st_board_view v = {.client = s->opt->live.client_name ? s->opt->live.client_name : "strata",
                       .seconds = st->frames / rate,
                       .beat = st->beat,
                       .bpm = st->bpm,
                       .beats_per_bar = st->beats_per_bar,
                       .xruns = st->xruns,
                       .recording = s->opt->record,
                       .message = b->message};
    static char names[ST_BOARD_MAX][128];
    pthread_mutex_lock(&s->lock);
    lua_State *L = s->L;
    lua_getglobal(L, "board_names");
    for (int i = 0; i < ST_BOARD_MAX; i++) {
        const st_node *node = board_loop(s, i);
        if (!node) break;
        lua_getglobal(L, "board_names");
        lua_rawgeti(L, -1, i + 1);
        snprintf(names[i], sizeof names[i], "%s", lua_isstring(L, -1) ? lua_tostring(L, -1) : "?");
        lua_settop(L, 0);
        double playing = 0, level = 0;
        st_live_get(s->live, node, "playing", &playing);
        st_live_get(s->live, node, "level", &level);
        v.name[i] = names[i];
        v.playing[i] = playing != 0;
        v.level[i] = level;
        v.n_loops = i + 1;
    }
    lua_settop(L, 0);
    pthread_mutex_unlock(&s->lock);
    st_board_draw(&v);
}

static void close_session(session *s)
{
    if (s->listen_fd >= 0) {
        close(s->listen_fd);
        unlink(s->socket_path);
    }
    if (s->inotify_fd >= 0) close(s->inotify_fd);
    for (int i = 0; i < s->n_watched; i++)
        free(s->watched[i]);
    for (int i = 0; i < s->n_dirs; i++)
        free(s->watched_dir[i]);
    if (s->L) lua_close(s->L);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

int st_session_run(const st_session_options *opt)
{
    session *s = calloc(1, sizeof *s);
    if (!s) return 1;
    s->opt = opt;
    s->listen_fd = -1;
    pthread_mutex_init(&s->lock, NULL);
    s->inotify_fd = opt->no_watch ? -1 : inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (!opt->patch_text) watch_file(s, opt->patch);
    int status;
    if (!(s->L = run_patch(s, NULL, &status))) {
        const char *e = s->error;
        if (*e && !s->exited)
            fprintf(stderr, "%s%s\n", strncmp(e, "strata", 6) ? "strata: " : "", e);
        close_session(s);
        return status;
    }
    read_transport(s->L, &s->transport);
    st_live_options live_opt = opt->live;
    live_opt.recompile = recompile;
    live_opt.data = s;
    if (!(s->live = st_live_connect(&live_opt))) {
        close_session(s);
        return 1;
    }
    double rate = st_live_rate(s->live);
    int block = st_live_block(s->live);
    st_program *first = compile(s, s->L, block, rate, s->opt->patch);
    if (!first) {
        fprintf(stderr, "strata: %s\n", s->error);
        st_live_close(s->live);
        close_session(s);
        return 1;
    }
    describe_ends(first, s->ends, sizeof s->ends);
    find_end(s, first);
    int latency = st_program_latency(first);
    st_recorder *recorder = NULL;
    if (opt->record) {
        char why[600];
        if (!(recorder = st_recorder_open(opt->record, st_program_n_channels(first, 1), rate, why,
                                          sizeof why))) {
            fprintf(stderr, "strata: %s\n", why);
            st_program_free(first);
            st_live_close(s->live);
            close_session(s);
            return 1;
        }
        st_live_record(s->live, recorder);
    }
    if (st_live_start(s->live, first, &s->transport)) {
        char ignored[8];
        if (!st_live_close(s->live) && recorder)
            st_recorder_close(recorder, ignored, sizeof ignored);
        close_session(s);
        return 1;
    }
    char error[1024];
    if (recorder) fprintf(stderr, "strata: recording to %s\n", opt->record);
    if (st_control_path(opt->live.client_name, s->socket_path, sizeof s->socket_path, error,
                        sizeof error) ||
        (s->listen_fd = st_control_listen(s->socket_path, error, sizeof error)) < 0)
        fprintf(stderr, "strata: no control socket: %s\n", error);
    const char *client = opt->live.client_name ? opt->live.client_name : "strata";
    fprintf(stderr,
            "strata: %s live at %g Hz, period %d, %d in / %d out, latency %d samples (%.1f ms)\n",
            client, rate, block, st_program_n_channels(first, 0), st_program_n_channels(first, 1),
            latency, 1000.0 * latency / rate);
    if (!st_graph_config(st_lua_graph(s->L))->quiet)
        fprintf(stderr, "strata: %s %s; %.0f bpm, %d beats a bar%s%s\n",
                opt->patch_text ? "playing" : "watching", opt->patch, s->transport.bpm,
                s->transport.beats_per_bar, s->listen_fd >= 0 ? "; control socket " : "",
                s->listen_fd >= 0 ? s->socket_path : "");

    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL); /* a closed terminal ends the run cleanly too */
    char history[3100] = "";
    if (opt->repl) {
        repl_session = s;
        history_path(history, sizeof history);
        stifle_history(1000);
        if (history[0]) read_history(history);
        rl_callback_handler_install("strata> ", on_line);
    }
    int saved_stderr = -1;
    if (opt->board) {
        /* the board owns the terminal: what would go to stderr meanwhile is
         * dropped (the board shows xruns; errors come after it closes) */
        fflush(stderr);
        saved_stderr = dup(2);
        int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null_fd >= 0) dup2(null_fd, 2), close(null_fd);
        if (st_board_open()) {
            dup2(saved_stderr, 2);
            close(saved_stderr);
            fprintf(stderr, "strata board: needs a terminal\n");
            stop_signal = SIGTERM;
            saved_stderr = -1;
        }
    }
    int show_position = isatty(2) && !opt->repl && !opt->board && !opt->config.quiet;
    board_state board = {.message = ""};
    int reported_start = 0, reported_xruns = 0, reported_oversized = 0;
    double last_shown = 0;
    const char *reason;
    status = 0;
    while (!stop_signal && !repl_done) {
        if (st_live_server_gone(s->live, &reason)) {
            fprintf(stderr, "%sstrata: the JACK server shut down%s%s; stopping\n",
                    show_position ? "\n" : "", reason[0] ? ": " : "", reason);
            status = 3;
            break;
        }
        struct pollfd fds[3];
        int n_fds = 0, at_inotify = -1, at_socket = -1, at_stdin = -1;
        if (s->inotify_fd >= 0)
            at_inotify = n_fds, fds[n_fds++] = (struct pollfd){s->inotify_fd, POLLIN, 0};
        if (s->listen_fd >= 0)
            at_socket = n_fds, fds[n_fds++] = (struct pollfd){s->listen_fd, POLLIN, 0};
        if (opt->repl || opt->board) at_stdin = n_fds, fds[n_fds++] = (struct pollfd){0, POLLIN, 0};
        /* short ticks while a swap is to be reported: its time is measured */
        int ready = poll(fds, (nfds_t)n_fds, s->report_ticket ? 2 : 20);
        if (ready > 0 && at_inotify >= 0 && (fds[at_inotify].revents & POLLIN)) {
            double t0 = now_ms();
            if (read_changes(s)) reload(s, t0);
        }
        if (ready > 0 && at_socket >= 0 && (fds[at_socket].revents & POLLIN))
            st_control_serve(s->listen_fd, answer, s);
        if (ready > 0 && at_stdin >= 0 && (fds[at_stdin].revents & (POLLIN | POLLHUP))) {
            if (opt->board)
                board_keys(s, &board);
            else
                rl_callback_read_char();
        }
        st_live_status st;
        st_live_poll(s->live, &st);
        report(s, &st);
        if (!reported_start && st.started) {
            fprintf(stderr, "strata: started at JACK frame %llu\n",
                    (unsigned long long)st.first_frame);
            reported_start = 1;
        }
        if (st.xruns != reported_xruns)
            fprintf(stderr, "strata: xruns: %d\n", reported_xruns = st.xruns);
        if (st.oversized != reported_oversized && reported_start)
            fprintf(stderr, "strata: %d periods longer than the program's block were silenced\n",
                    reported_oversized = st.oversized);
        if (show_position && now_ms() - last_shown > 200) {
            last_shown = now_ms();
            int bpb = st.beats_per_bar > 0 ? st.beats_per_bar : 4;
            fprintf(stderr, "\rstrata: %.1f s, bar %ld beat %d, %.0f bpm\033[K", st.frames / rate,
                    (long)floor(st.beat / bpb) + 1, (int)fmod(floor(st.beat), bpb) + 1, st.bpm);
        }
        if (opt->board && saved_stderr >= 0 && now_ms() - last_shown > 50) {
            last_shown = now_ms();
            board_draw(s, &board, &st, rate);
        }
        if (s->end_frames && st.frames >= s->end_frames) {
            fprintf(stderr, "%sstrata: the end of the input (%.1f s); stopping\n",
                    show_position ? "\n" : "", s->end_frames / rate);
            break;
        }
    }
    if (opt->repl && !repl_done) rl_callback_handler_remove();
    if (opt->repl && history[0]) write_history(history);
    if (saved_stderr >= 0) {
        st_board_close();
        dup2(saved_stderr, 2);
        close(saved_stderr);
    }
    int server_gone = st_live_server_gone(s->live, &reason);
    int closed = st_live_close(s->live);
    if (closed) status = closed;
    if (recorder && (closed == 0 || server_gone)) { /* the callback is done with it */
        long dropped = st_recorder_dropped(recorder);
        if (st_recorder_close(recorder, error, sizeof error)) {
            fprintf(stderr, "strata: %s\n", error);
            if (!status) status = 1;
        } else {
            fprintf(stderr, "strata: recorded to %s%s\n", opt->record,
                    dropped ? " (the writer fell behind: some frames were lost)" : "");
        }
    }
    close_session(s);
    return status;
}
