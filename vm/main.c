/* strata: the command line.
 *
 *   strata run PATCH.lua [ARGS...]   run a patch; ARGS reach its `arg`
 *   strata NAME [ARGS...]            run patches/NAME.lua
 *   strata nodes [NAME]... [--markdown] the node reference
 *   strata help [COMMAND]            what a command does
 *
 * Global options (--no-cache, --quiet, --threads N) may stand anywhere;
 * everything else reaches the patch in order, and `--` passes the rest
 * untouched. Exit status: 0 done, 1 the work failed, 2 a bad command line,
 * 3 the JACK server went away. */
#include "blas_kernels.h"
#include "../lua/binding.h"
#include "graph.h"
#include "outputs.h"
#include "board.h"
#include "control.h"
#include "session.h"
#include "render.h"
#include "stream.h"

#include <dirent.h>
#include <math.h>
#include <lauxlib.h>
#include <lualib.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef STRATA_DATADIR
#define STRATA_DATADIR "/usr/local/share/strata"
#endif

enum { EXIT_WORK = 1, EXIT_USAGE = 2 };

/* A built-in command. Everything else on the line names a ready patch. Each
 * answers --help with its usage and doc; `strata help NAME` says the same. */
typedef struct {
    const char *name;
    const char *usage;                 /* what follows "strata NAME" */
    const char *doc;                   /* its first line is the summary in `strata --help` */
    int (*run)(int argc, char **argv); /* argv: the words after NAME */
} command;

static const command *find_command(const char *name);
static void print_usage(FILE *to);
static void print_command_help(const command *c, FILE *to);

static const char global_options[] =
    "global options (anywhere on the line; -- passes the rest to the patch untouched):\n"
    "  --no-cache     neither read nor write the on-disk result cache\n"
    "  --quiet        only errors and the results a command exists to print\n"
    "                 (no progress bar, no info or \"wrote\" lines)\n"
    "  --threads N    threads a node may use (default 2)\n"
    "  --force        replace read-only output files\n"
    "  --version      print the version\n"
    "  --help         print this help\n";

/* True when argv[0] asks for help (--help or -h as the first word). */
static int wants_help(int argc, char **argv)
{
    return argc > 0 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0);
}

static void emit_stdout(void *data, const char *text)
{
    (void)data;
    fputs(text, stdout);
}

/* `strata nodes [NAME...] [--markdown | --streaming-table]`. */
static int list_nodes(char **names, int n_names, int markdown, int streaming_table)
{
    const st_node_type *const *all = st_registry();
    for (int i = 0; i < n_names; i++)
        if (!st_registry_find(names[i])) {
            fprintf(stderr, "strata: no node called '%s' (strata nodes lists them)\n", names[i]);
            return 1;
        }
    if (streaming_table) {
        st_stream_table(emit_stdout, NULL);
        return 0;
    }
    for (int i = 0; i < n_names; i++) {
        if (i > 0) printf("\n");
        st_node_help(st_registry_find(names[i]), markdown, emit_stdout, NULL);
    }
    if (n_names) return 0;
    if (markdown) {
        printf("# Node reference\n\nGenerated from the node descriptors by `make docs` "
               "(`strata nodes --markdown`); do not edit.\n\n");
        for (int i = 0; all[i]; i++)
            st_node_help(all[i], 1, emit_stdout, NULL);
        return 0;
    }
    st_node_summary(emit_stdout, NULL);
    return 0;
}

/* The folders holding ready patches, in search order. */
static int patch_dirs(char dirs[][4096], int max)
{
    int n = 0;
    const char *env = getenv("STRATA_PATCHES");
    if (env && *env) snprintf(dirs[n++], 4096, "%s", env);
    char exe[4000];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0 && n < max) {
        exe[len] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;
        snprintf(dirs[n++], 4096, "%s/patches", exe);
        if (n < max) snprintf(dirs[n++], 4096, "%s/../share/strata/patches", exe); /* relocated */
    }
    if (n < max) snprintf(dirs[n++], 4096, "%s/patches", STRATA_DATADIR);
    return n;
}

static int find_patch(const char *name, char *path, size_t size)
{
    char dirs[4][4096];
    int n = patch_dirs(dirs, 4);
    for (int i = 0; i < n; i++) {
        int n_chars = snprintf(path, size, "%s/%s.lua", dirs[i], name);
        if (n_chars > 0 && (size_t)n_chars < size && access(path, R_OK) == 0) return 1;
    }
    return 0;
}

/* A ready patch's one-line doc: its first line, "-- strata NAME: DOC", or
 * else the first comment line. Empty when there is none. */
static void patch_summary(const char *path, char *doc, size_t size)
{
    char line[512];
    doc[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "--", 2) != 0) break;
        char *text = line + 2, *colon;
        text += strspn(text, " -");
        text[strcspn(text, "\r\n")] = 0;
        if (!*text) continue;
        if (strncmp(text, "strata ", 7) == 0 && (colon = strstr(text, ": ")) != NULL)
            text = colon + 2; /* "strata NAME: DOC" */
        snprintf(doc, size, "%s", text);
        break;
    }
    fclose(f);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The ready patches of every folder in search order, each with its one-line
 * doc; a name already listed from an earlier folder is the one that runs. */
static int list_patches(int argc, char **argv)
{
    (void)argv;
    if (argc > 0) {
        fprintf(stderr, "strata patches: takes no arguments (strata help patches)\n");
        return EXIT_USAGE;
    }
    char dirs[4][4096];
    int n_dirs = patch_dirs(dirs, 4), n_listed = 0, cap = 0;
    char **listed = NULL;
    for (int d = 0; d < n_dirs; d++) {
        DIR *dir = opendir(dirs[d]);
        if (!dir) continue;
        char **names = NULL;
        int n = 0, n_cap = 0;
        struct dirent *e;
        while ((e = readdir(dir)) != NULL) {
            size_t len = strlen(e->d_name);
            if (len < 5 || e->d_name[0] == '.' || strcmp(e->d_name + len - 4, ".lua") != 0)
                continue;
            if (n == n_cap) {
                n_cap = n_cap ? 2 * n_cap : 16;
                char **grown = realloc(names, (size_t)n_cap * sizeof *names);
                if (!grown) break;
                names = grown;
            }
            if ((names[n] = strndup(e->d_name, len - 4)) != NULL) n++;
        }
        closedir(dir);
        qsort(names, (size_t)n, sizeof *names, compare_names);
        int header = 0;
        for (int i = 0; i < n; i++) {
            int seen = 0;
            for (int k = 0; k < n_listed && !seen; k++)
                seen = strcmp(listed[k], names[i]) == 0;
            if (seen) {
                free(names[i]);
                continue;
            }
            if (!header++) printf("%sready patches in %s:\n", n_listed ? "\n" : "", dirs[d]);
            char path[4400], doc[512] = "";
            int n_chars = snprintf(path, sizeof path, "%s/%s.lua", dirs[d], names[i]);
            if (n_chars > 0 && (size_t)n_chars < sizeof path) patch_summary(path, doc, sizeof doc);
            printf("  %-16s %s\n", names[i], doc);
            if (n_listed == cap) {
                cap = cap ? 2 * cap : 32;
                char **grown = realloc(listed, (size_t)cap * sizeof *listed);
                if (!grown) {
                    free(names[i]);
                    continue;
                }
                listed = grown;
            }
            listed[n_listed++] = names[i];
        }
        free(names);
    }
    for (int k = 0; k < n_listed; k++)
        free(listed[k]);
    free(listed);
    if (n_listed == 0) {
        fprintf(stderr,
                "strata: no ready patches found (looked in $STRATA_PATCHES, the patches/ "
                "folder beside the binary and %s/patches)\n",
                STRATA_DATADIR);
        return EXIT_WORK;
    }
    printf("\nstrata NAME --help tells more about one.\n");
    return 0;
}

/* True when the file starts like audio, not like Lua text. */
static int looks_like_audio(const char *path)
{
    unsigned char head[12] = {0};
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    if (n < 4) return 0;
    return memcmp(head, "RIFF", 4) == 0 || memcmp(head, "fLaC", 4) == 0 ||
           memcmp(head, "OggS", 4) == 0 || memcmp(head, "FORM", 4) == 0 ||
           memcmp(head, "ID3", 3) == 0 || (head[0] == 0xff && (head[1] & 0xe0) == 0xe0) ||
           memchr(head, 0, n) != NULL;
}

/* In a ready command's error, "NODE: " adds nothing for the user when the
 * node's job is one file (load, save, load_beats, picture: a "path"
 * parameter that names a file) or the node is the command itself (hpss in
 * `strata hpss`): the file or the option says it. Any other node's name
 * stays: it tells which stage of the command refused (`strata unmix: ntd:
 * ...`). Returns the message without that name. */
static const char *without_file_node(const char *message, const char *command)
{
    size_t len = strcspn(message, ": '");
    char name[64];
    if (len == 0 || len >= sizeof name || strncmp(message + len, ": ", 2) != 0) return message;
    memcpy(name, message, len);
    name[len] = 0;
    const st_node_type *type = st_registry_find(name);
    if (!type) return message;
    const st_param *path = st_param_find(type, "path", NULL);
    int is_command = strncmp(command, "strata ", 7) == 0 && strcmp(command + 7, name) == 0;
    if (is_command || (path && (path->flags & (ST_FILE_IN | ST_FILE_OUT))))
        return message + len + 2;
    return message;
}

/* "FILE.lua:LINE: " at the start of a ready command's message: a place in
 * strata's own Lua (patches/methods/, lua/strata.lua), which the user did
 * not write and cannot act on. */
static const char *without_lua_place(const char *message)
{
    size_t file = strcspn(message, " :");
    if (file < 4 || strncmp(message + file - 4, ".lua", 4) != 0 || message[file] != ':')
        return message;
    const char *rest = message + file + 1;
    size_t digits = strspn(rest, "0123456789");
    if (digits == 0 || rest[digits] != ':') return message;
    rest += digits + 1;
    return rest + strspn(rest, " ");
}

/* The message of a failed patch, for the user. In a ready patch (command set)
 * the place in the patch file means nothing to them: "PATH:LINE: " is
 * replaced by the command's name, and a place in the Lua the patch calls
 * is dropped. A user's own patch keeps file:line. */
static void print_patch_error(const char *message, const char *path, const char *command)
{
    if (command) {
        size_t len = strlen(path);
        if (strncmp(message, path, len) == 0 && message[len] == ':') {
            const char *rest = message + len + 1;
            rest += strspn(rest, "0123456789");
            if (*rest == ':') rest++;
            message = rest + strspn(rest, " ");
        }
        message = without_lua_place(message);
        message = without_file_node(message, command);
        if (strncmp(message, command, strlen(command)) == 0 && message[strlen(command)] == ':') {
            fprintf(stderr, "%s\n", message); /* it names the command already */
        } else {
            fprintf(stderr, "%s: %s\n", command, message);
        }
        return;
    }
    /* a patch's own usage errors already start with its command name */
    fprintf(stderr, "%s%s\n", strncmp(message, "strata ", 7) == 0 ? "" : "strata: ", message);
}

/* What --threads, --quiet and --no-cache set, for the graph of every patch. */
static st_config config = {.n_threads = 2};

/* os.exit in a patch: a successful exit first moves the command's finished
 * outputs into place (a failed one leaves them out, like any failure). */
static int patch_exit(lua_State *L)
{
    int status =
        lua_isboolean(L, 1) ? (lua_toboolean(L, 1) ? 0 : 1) : (int)luaL_optinteger(L, 1, 0);
    char error[4400];
    if (status == 0 && st_outputs_commit(error, sizeof error)) {
        fprintf(stderr, "strata: %s\n", error);
        status = 1;
    }
    fflush(stdout);
    exit(status);
}

/* Runs the ready patch or render command in run as one output set: its
 * files appear together when it succeeds, or not at all. */
static int in_one_set(int status)
{
    char error[4400];
    if (status == 0 && st_outputs_commit(error, sizeof error)) {
        fprintf(stderr, "strata: %s\n", error);
        status = EXIT_WORK;
    }
    st_outputs_abort();
    return status;
}

/* A patch file of the user's (`strata run`, `render`, `live`) writes its
 * files as one output set too, but it may hand a file it wrote to another
 * program or read it back with Lua's own io (tests do, scripts do). So the
 * functions through which it can see the file system outside strata commit
 * the files written so far first, and a new set begins: a failure removes
 * only what was written since the last hand-on. Upvalue 1: the original. */
static int handing_on(lua_State *L)
{
    char error[4400];
    if (st_outputs_commit(error, sizeof error)) return luaL_error(L, "%s", error);
    st_outputs_begin();
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

static void hand_on_before(lua_State *L, const char *table, const char *const *names)
{
    lua_getglobal(L, table);
    for (; *names; names++) {
        lua_getfield(L, -1, *names);
        lua_pushcclosure(L, handing_on, 1);
        lua_setfield(L, -2, *names);
    }
    lua_pop(L, 1);
}

static void commit_on_hand_on(lua_State *L)
{
    static const char *const io_names[] = {"open", "lines", "popen", "input", "output", NULL};
    static const char *const os_names[] = {"execute", "rename", "remove", NULL};
    static const char *const strata_names[] = {"files", NULL};
    hand_on_before(L, "io", io_names);
    hand_on_before(L, "os", os_names);
    hand_on_before(L, "strata", strata_names);
}

/* Runs a patch in a new Lua state. Returns the state, still open (its graph
 * may be streamed next), or NULL after printing the one-line error, with the
 * exit status in *status: EXIT_USAGE when the patch's command line was wrong
 * (strata.args raises {status = 2, message = ...}), else EXIT_WORK. command:
 * "strata NAME" for a ready patch, NULL for a user's patch file. */
static lua_State *start_patch(const char *path, const char *command, int argc, char **argv,
                              int *status)
{
    *status = EXIT_WORK;
    lua_State *L = st_lua_patch_state(patch_exit, &config, path, argc, argv);
    if (!L) {
        fprintf(stderr, "strata: out of memory\n");
        return NULL;
    }
    if (!command) commit_on_hand_on(L);
    int lua_status = luaL_loadfile(L, path);
    if (lua_status == LUA_ERRSYNTAX && looks_like_audio(path)) {
        fprintf(stderr,
                "strata: '%s' is not a patch (it looks like an audio file; a patch is Lua text: "
                "strata run PATCH.lua %s)\n",
                path, path);
        lua_close(L);
        return NULL;
    }
    /* the arguments go on the stack as the chunk's `...`: Lua promises only
     * LUA_MINSTACK free slots, so make room (a batch of 40 songs overflowed) */
    if (lua_status == LUA_OK && !lua_checkstack(L, argc + 2)) {
        fprintf(stderr, "strata: too many arguments (%d)\n", argc);
        lua_close(L);
        return NULL;
    }
    if (lua_status == LUA_OK) {
        lua_pushcfunction(L, st_lua_error_handler);
        lua_insert(L, -2);
        for (int i = 0; i < argc; i++)
            lua_pushstring(L, argv[i]);
        lua_status = lua_pcall(L, argc, 0, -argc - 2);
    }
    fflush(stdout);
    if (lua_status != LUA_OK) {
        if (lua_istable(L, -1)) { /* {status = N, message = "..."} */
            lua_getfield(L, -1, "status");
            if (lua_isinteger(L, -1)) *status = (int)lua_tointeger(L, -1);
            lua_pop(L, 1);
            lua_getfield(L, -1, "message");
        }
        const char *message = lua_tostring(L, -1);
        if (!message) message = "the patch raised an error that is not a string";
        print_patch_error(message, path, command);
        lua_close(L);
        return NULL;
    }
    return L;
}

static int run_patch(const char *path, const char *command, int argc, char **argv)
{
    int status;
    lua_State *L = start_patch(path, command, argc, argv, &status);
    if (!L) return status;
    lua_close(L);
    return 0;
}

/* Takes OPTION VALUE (or OPTION=VALUE) out of args; returns the value or NULL. */
static const char *take_value(int *argc, char **argv, const char *name, const char *alias, int *bad)
{
    const char *value = NULL;
    size_t len = strlen(name);
    for (int i = 0; i < *argc; i++) {
        int n_taken = 0;
        if (strcmp(argv[i], "--") == 0) break;
        if (strcmp(argv[i], name) == 0 || (alias && strcmp(argv[i], alias) == 0)) {
            if (i + 1 >= *argc) {
                fprintf(stderr, "strata: %s needs a value\n", name);
                *bad = 1;
                return NULL;
            }
            value = argv[i + 1];
            n_taken = 2;
        } else if (strncmp(argv[i], name, len) == 0 && argv[i][len] == '=') {
            value = argv[i] + len + 1;
            n_taken = 1;
        }
        if (n_taken) {
            memmove(argv + i, argv + i + n_taken, (size_t)(*argc - i - n_taken) * sizeof *argv);
            *argc -= n_taken;
            i--;
        }
    }
    return value;
}

static int take_flag(int *argc, char **argv, const char *name)
{
    int found = 0;
    for (int i = 0; i < *argc; i++) {
        if (strcmp(argv[i], "--") == 0) break;
        if (strcmp(argv[i], name) == 0) {
            memmove(argv + i, argv + i + 1, (size_t)(*argc - i - 1) * sizeof *argv);
            (*argc)--;
            i--;
            found = 1;
        }
    }
    return found;
}

static int number_option(const char *value, const char *name, double min, double max, double *out)
{
    char *end;
    double x = value ? strtod(value, &end) : 0;
    if (!value || *end || !(x >= min && x <= max)) {
        fprintf(stderr, "strata: %s wants a number from %g to %g, not '%s'\n", name, min, max,
                value ? value : "");
        return -1;
    }
    *out = x;
    return 0;
}

/* The patch file a command runs: readable, or one line and EXIT_WORK. */
static int check_patch_file(const char *name, const char *path)
{
    if (access(path, R_OK) == 0) return 0;
    fprintf(stderr, "strata %s: cannot read the patch '%s'\n", name, path);
    return EXIT_WORK;
}

static int run_command(int argc, char **argv)
{
    if (argc < 1) {
        fprintf(stderr, "strata run: needs a patch file (strata run PATCH.lua [ARGS...])\n");
        return EXIT_USAGE;
    }
    if (check_patch_file("run", argv[0])) return EXIT_WORK;
    return run_patch(argv[0], NULL, argc - 1, argv + 1);
}

static int render_command(int argc, char **argv)
{
    int bad = 0;
    const char *out = take_value(&argc, argv, "--output", "-o", &bad);
    const char *seconds = take_value(&argc, argv, "--seconds", NULL, &bad);
    const char *block = take_value(&argc, argv, "--block", NULL, &bad);
    const char *rate = take_value(&argc, argv, "--rate", NULL, &bad);
    const char *format = take_value(&argc, argv, "--format", NULL, &bad);
    const char *subtype = take_value(&argc, argv, "--subtype", NULL, &bad);
    st_render_options opt = {.out_path = out, .block_frames = 256, .subtype = subtype};
    double x;
    if (bad) return EXIT_USAGE;
    if (argc < 1 || !out) {
        fprintf(stderr, "strata render: needs a patch and -o OUT.wav "
                        "(strata render PATCH.lua [ARGS...] -o OUT.wav [--seconds S])\n");
        return EXIT_USAGE;
    }
    if (seconds && number_option(seconds, "--seconds", 1e-3, 86400, &opt.seconds))
        return EXIT_USAGE;
    if (block && number_option(block, "--block", 1, 65536, &x)) return EXIT_USAGE;
    if (block) opt.block_frames = (int)x;
    if (rate && number_option(rate, "--rate", ST_MIN_RATE_HZ, ST_MAX_RATE_HZ, &opt.rate_hz))
        return EXIT_USAGE;
    /* -o DIR (an existing folder, or a name ending in /): one file per output */
    struct stat st;
    size_t len = strlen(out);
    opt.out_dir = (len > 0 && out[len - 1] == '/') || (stat(out, &st) == 0 && S_ISDIR(st.st_mode));
    opt.format = format ? format : "wav";
    if (format && !opt.out_dir) {
        fprintf(stderr, "strata render: --format goes with -o DIR (with -o FILE its extension "
                        "picks the format)\n");
        return EXIT_USAGE;
    }
    if (strcmp(opt.format, "wav") && strcmp(opt.format, "flac") && strcmp(opt.format, "ogg")) {
        fprintf(stderr, "strata render: --format wants wav, flac or ogg, not '%s'\n", opt.format);
        return EXIT_USAGE;
    }
    if (subtype && strcmp(subtype, "PCM_16") && strcmp(subtype, "PCM_24") &&
        strcmp(subtype, "FLOAT")) {
        fprintf(stderr, "strata render: --subtype wants PCM_16, PCM_24 or FLOAT, not '%s'\n",
                subtype);
        return EXIT_USAGE;
    }
    if (subtype && opt.out_dir &&
        (strcmp(opt.format, "ogg") == 0 ||
         (strcmp(opt.format, "flac") == 0 && !strcmp(subtype, "FLOAT")))) {
        fprintf(stderr, "strata render: --subtype %s does not go with --format %s\n", subtype,
                opt.format);
        return EXIT_USAGE;
    }
    if (check_patch_file("render", argv[0])) return EXIT_WORK;
    int status;
    lua_State *L = start_patch(argv[0], NULL, argc - 1, argv + 1, &status);
    if (!L) return status;
    if (!seconds) { /* the whole input, and the latency's worth after it */
        opt.seconds = st_program_natural_seconds(st_lua_graph(L));
        opt.with_latency = 1;
        if (opt.seconds <= 0) {
            fprintf(stderr, "strata render: %s: give --seconds S\n",
                    opt.seconds < 0 ? "the patch plays without end (a loop or a live input)"
                                    : "the patch plays nothing");
            lua_close(L);
            return EXIT_USAGE;
        }
    }
    char error[1200];
    status = st_render(st_lua_graph(L), &opt, error, sizeof error);
    if (status) fprintf(stderr, "strata render: %s\n", error);
    lua_close(L);
    return status ? EXIT_WORK : 0;
}

/* The options strata live and strata board share: the JACK client and server. */
static void take_jack_options(int *argc, char **argv, st_session_options *opt, int *bad)
{
    opt->live.client_name = take_value(argc, argv, "--name", NULL, bad);
    opt->live.server_name = take_value(argc, argv, "--server", NULL, bad);
    opt->live.no_connect = take_flag(argc, argv, "--no-connect");
    opt->live.start_server = take_flag(argc, argv, "--start-server");
}

static int live_command(int argc, char **argv)
{
    int bad = 0;
    st_session_options opt = {0};
    take_jack_options(&argc, argv, &opt, &bad);
    opt.repl = take_flag(&argc, argv, "--repl");
    opt.record = take_value(&argc, argv, "--record", NULL, &bad);
    if (bad) return EXIT_USAGE;
    if (argc < 1) {
        fprintf(stderr, "strata live: needs a patch (strata live PATCH.lua [ARGS...])\n");
        return EXIT_USAGE;
    }
    if (check_patch_file("live", argv[0])) return EXIT_WORK;
    opt.patch = argv[0];
    opt.argc = argc - 1;
    opt.argv = argv + 1;
    opt.config = config;
    return st_session_run(&opt);
}

static int board_command(int argc, char **argv)
{
    int bad = 0;
    st_session_options opt = {0};
    take_jack_options(&argc, argv, &opt, &bad);
    opt.record = take_value(&argc, argv, "--record", NULL, &bad);
    const char *bpm = take_value(&argc, argv, "--bpm", NULL, &bad);
    double x;
    if (bad || (bpm && number_option(bpm, "--bpm", 1, 999, &x))) return EXIT_USAGE;
    if (argc != 1) {
        fprintf(stderr, "strata board: needs one folder (strata board DIR [--bpm N] [--record "
                        "OUT.wav])\n");
        return EXIT_USAGE;
    }
    if (!isatty(0) || !isatty(1)) {
        fprintf(stderr, "strata board: needs a terminal (it draws the board and reads keys)\n");
        return EXIT_USAGE;
    }
    char *args[2] = {argv[0], (char *)bpm};
    opt.patch = "board";
    opt.patch_text = st_board_patch;
    opt.argc = bpm ? 2 : 1;
    opt.argv = args;
    opt.config = config;
    opt.no_watch = 1;
    opt.board = 1;
    return st_session_run(&opt);
}

/* `strata send` and `strata set`: one request to a live session. */
static int control_request(const char *command, const char *name, const char *request, size_t n)
{
    char path[512], reply[65536];
    if (st_control_path(name, path, sizeof path, reply, sizeof reply) ||
        st_control_request(path, request, n, reply, sizeof reply)) {
        fprintf(stderr, "strata %s: %s\n", command, reply);
        return EXIT_WORK;
    }
    if (strncmp(reply, "ok\n", 3) == 0) {
        fputs(reply + 3, stdout);
        return 0;
    }
    fprintf(stderr, "strata %s: %s%s", command, strncmp(reply, "error: ", 7) ? reply : reply + 7,
            reply[strlen(reply) - 1] == '\n' ? "" : "\n");
    return EXIT_WORK;
}

static int send_command(int argc, char **argv)
{
    int bad = 0;
    const char *name = take_value(&argc, argv, "--name", NULL, &bad);
    if (bad) return EXIT_USAGE;
    if (argc != 1) {
        fprintf(stderr,
                "strata send: needs one snippet or file (strata send 'LUA' | FILE.lua | -)\n");
        return EXIT_USAGE;
    }
    /* a .lua file (or - for standard input) sends its text; anything else
     * is code, even when a file of that name happens to be here */
    FILE *f = strcmp(argv[0], "-") == 0 ? stdin : NULL;
    size_t arg_len = strlen(argv[0]);
    if (!f && arg_len > 4 && strcmp(argv[0] + arg_len - 4, ".lua") == 0 && !strchr(argv[0], '\n') &&
        !(f = fopen(argv[0], "r"))) {
        fprintf(stderr, "strata send: cannot read '%s': %s\n", argv[0], strerror(errno));
        return EXIT_WORK;
    }
    size_t n = 4, cap = 1 << 16;
    char *request = malloc(cap);
    if (!request) return EXIT_WORK;
    memcpy(request, "lua\n", 4);
    if (f) {
        size_t got;
        while ((got = fread(request + n, 1, cap - n, f)) > 0) {
            n += got;
            if (n == cap) {
                char *grown = cap < ((size_t)1 << 21) ? realloc(request, cap *= 2) : NULL;
                if (!grown) {
                    fprintf(stderr, "strata send: '%s' is too long for a snippet\n", argv[0]);
                    free(request);
                    if (f != stdin) fclose(f);
                    return EXIT_WORK;
                }
                request = grown;
            }
        }
        if (f != stdin) fclose(f);
    } else {
        size_t len = strlen(argv[0]);
        if (len + 4 > cap) {
            fprintf(stderr, "strata send: the snippet is too long\n");
            free(request);
            return EXIT_USAGE;
        }
        memcpy(request + 4, argv[0], len);
        n += len;
    }
    int status = control_request("send", name, request, n);
    free(request);
    return status;
}

static int set_command(int argc, char **argv)
{
    int bad = 0;
    const char *name = take_value(&argc, argv, "--name", NULL, &bad);
    if (bad) return EXIT_USAGE;
    double value;
    char *end;
    if (argc != 2 || !strchr(argv[0], '.')) {
        fprintf(stderr, "strata set: needs NODE.PARAM VALUE (strata set mix.db -6)\n");
        return EXIT_USAGE;
    }
    value = strtod(argv[1], &end);
    if (*end || end == argv[1] || !isfinite(value)) {
        fprintf(stderr, "strata set: VALUE must be a number, not '%s'\n", argv[1]);
        return EXIT_USAGE;
    }
    char request[ST_CONTROL_TARGET_MAX + 64];
    int n = snprintf(request, sizeof request, "set\n%s %.17g", argv[0], value);
    if (strlen(argv[0]) > ST_CONTROL_TARGET_MAX || n < 0 || (size_t)n >= sizeof request) {
        fprintf(stderr, "strata set: the name '%.40s...' is too long\n", argv[0]);
        return EXIT_USAGE;
    }
    return control_request("set", name, request, (size_t)n);
}

static int nodes_command(int argc, char **argv)
{
    int markdown = 0, streaming_table = 0, n_names = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--markdown") == 0) {
            markdown = 1;
        } else if (strcmp(argv[i], "--streaming-table") == 0) {
            streaming_table = 1;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "strata nodes: unexpected '%s' (strata nodes [NAME]... [--markdown])\n",
                    argv[i]);
            return EXIT_USAGE;
        } else {
            argv[n_names++] = argv[i];
        }
    }
    return list_nodes(argv, n_names, markdown, streaming_table);
}

static int help_command(int argc, char **argv)
{
    if (argc == 0) {
        print_usage(stdout);
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "strata help: one command at a time (strata help [COMMAND])\n");
        return EXIT_USAGE;
    }
    const command *c = find_command(argv[0]);
    if (c) {
        print_command_help(c, stdout);
        return 0;
    }
    char path[4200], *help[] = {"--help"};
    if (find_patch(argv[0], path, sizeof path)) {
        char name[300];
        snprintf(name, sizeof name, "strata %s", argv[0]);
        return run_patch(path, name, 1, help);
    }
    fprintf(stderr,
            "strata help: no command or ready patch called '%s' (strata patches lists them)\n",
            argv[0]);
    return EXIT_USAGE;
}

static const command commands[] = {
    {"run", "PATCH.lua [ARGS...]",
     "run a patch file\n"
     "ARGS reach the patch as `arg` (arg[0] is the patch file). Errors in the patch name\n"
     "its file and line.",
     run_command},
    {"render",
     "PATCH.lua [ARGS...] -o OUT.wav|DIR/ [--seconds S] [--block N] [--rate R] [--format F] "
     "[--subtype S]",
     "render the patch's stream program into a file, or one file per output\n"
     "The program runs offline, block by block as under JACK, as fast as it goes.\n"
     "  -o, --output F  the file to write (its extension picks the format); every output\n"
     "                  (jack_out) of the patch goes into it, channels in the patch's order\n"
     "  -o DIR/         a folder (an existing one, or a name ending in /; made if missing):\n"
     "                  one file per output, DIR/NAME.wav, NAME the jack_out's name\n"
     "  --format F      with -o DIR: wav (default), flac or ogg\n"
     "  --subtype S     PCM_16, PCM_24 or FLOAT (default: FLOAT for wav, PCM_24 for flac)\n"
     "  --seconds S     how much to render (default: all that the patch plays, and its\n"
     "                  latency's worth after it; a loop or a live input needs --seconds)\n"
     "  --block N       frames per block (default 256)\n"
     "  --rate R        sample rate in Hz (default: the rate of the first played file, else 48000)",
     render_command},
    {"live",
     "PATCH.lua [ARGS...] [--name N] [--server S] [--no-connect] [--start-server] [--repl] "
     "[--record OUT.wav]",
     "play the patch's stream program as a JACK client, reloading it on save\n"
     "Every save of the patch (or of a file it require's or dofile's) runs it again in a\n"
     "fresh Lua state, reusing the results of unchanged nodes, and swaps the new program\n"
     "in at the next bar (strata.transport sets tempo, meter, quantize and fade_ms) with\n"
     "an equal-power crossfade; a patch that fails prints file:line: message and the old\n"
     "program keeps playing. One line per reload: reloaded PATCH in N ms, swap at bar B.\n"
     "It runs until interrupted (Ctrl-C or SIGTERM), or until what it plays has ended (a\n"
     "play node without loop = true) and the latency's worth after it. On a terminal it\n"
     "shows the position. strata send and strata set reach it through its control socket\n"
     "($XDG_RUNTIME_DIR/strata-NAME.sock). doc/live.md is the tutorial.\n"
     "  --name N        the JACK client name and socket name (default strata)\n"
     "  --server S      the JACK server to join (default: the default server)\n"
     "  --no-connect    do not connect to the system's playback and capture ports\n"
     "  --start-server  start a JACK server when none runs\n"
     "  --repl          read Lua snippets from the terminal (line editing; history kept in\n"
     "                  $XDG_STATE_HOME/strata/history)\n"
     "  --record F      record the output into the .wav file F\n"
     "Exit status 3 when the JACK server shuts down.",
     live_command},
    {"board", "DIR [--bpm N] [--record OUT.wav] [--name N] [--server S] [--no-connect]",
     "a terminal sound board of the loops in DIR (from strata unmix, or any folder)\n"
     "Every .wav, .flac and .ogg file of DIR/loops (or DIR) becomes a loop, stopped; keys 1-9\n"
     "and a-z start and stop them at the next bar, space stops all, q quits. The board shows\n"
     "the bar clock, the tempo and each loop's level. The tempo comes from layout.json\n"
     "(strata unmix's) or --bpm (else 120, each loop's bars from its length). It is a live\n"
     "session like strata live: strata send and strata set reach it (its loops are in the\n"
     "global `loops`).\n"
     "  --record F      record the output into the .wav file F\n"
     "  --name, --server, --no-connect, --start-server: as for strata live",
     board_command},
    {"send", "'LUA' | FILE.lua | - [--name N]",
     "run a Lua snippet in a running strata live\n"
     "The snippet runs in the live patch's state (its globals); an expression's values are\n"
     "printed. A snippet that makes a jack_out (replacing the output of that name) or\n"
     "changes strata.transport swaps in the new program at the next bar. A file ending in\n"
     ".lua, or - for standard input, sends its text.\n"
     "  --name N        the strata live to reach (its --name; default strata)",
     send_command},
    {"set", "NODE.PARAM VALUE [--name N]",
     "change a streaming parameter of a running strata live, ramped\n"
     "NODE is a global of the live patch holding a node (g = x:gain{db = 0} makes g);\n"
     "PARAM one the node can change while playing (gain's db and factor).\n"
     "  --name N        the strata live to reach (its --name; default strata)",
     set_command},
    {"nodes", "[NAME]... [--markdown]",
     "list the nodes, or describe the named ones\n"
     "Without NAME, every node with where it runs (offline, stream or both) and the first\n"
     "sentence of its doc; with NAMEs, their inputs, outputs and every parameter with its\n"
     "default and range. --markdown prints doc/nodes.md; --streaming-table prints the table\n"
     "of doc/streaming.md.",
     nodes_command},
    {"patches", "",
     "list the ready patches\nEach ready patch NAME runs as `strata NAME`; the list gives its "
     "one-line doc.",
     list_patches},
    {"help", "[COMMAND]", "describe strata, or one command or ready patch", help_command},
    {NULL, NULL, NULL, NULL},
};

static const command *find_command(const char *name)
{
    for (const command *c = commands; c->name; c++)
        if (strcmp(c->name, name) == 0) return c;
    return NULL;
}

static void print_command_help(const command *c, FILE *to)
{
    fprintf(to, "usage: strata %s%s%s\n\n%s\n", c->name, c->usage[0] ? " " : "", c->usage, c->doc);
}

static void print_usage(FILE *to)
{
    fprintf(to, "usage: strata [--no-cache] [--quiet] [--threads N] [--force] COMMAND [ARGS...]\n\n"
                "commands:\n");
    for (const command *c = commands; c->name; c++) {
        char head[256];
        snprintf(head, sizeof head, "%s %s", c->name, c->usage);
        int summary = (int)strcspn(c->doc, "\n");
        if (strlen(head) > 26)
            fprintf(to, "  %s\n  %-26s %.*s\n", head, "", summary, c->doc);
        else
            fprintf(to, "  %-26s %.*s\n", head, summary, c->doc);
    }
    fprintf(to,
            "  %-26s %s\n\n%s\n"
            "strata help COMMAND (or strata COMMAND --help) tells more about one.\n"
            "Ready patches are looked up in $STRATA_PATCHES, the patches/ folder beside the\n"
            "binary, ../share/strata/patches from the binary and %s/patches.\n",
            "NAME [ARGS...]", "run the ready patch NAME (strata patches lists them)",
            global_options, STRATA_DATADIR);
}

int main(int argc, char **argv)
{
    st_blas_choose_kernels(argv); /* may restart strata once: vm/blas_kernels.h */
    /* pull global options out wherever they stand, up to `--` */
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    int n_rest = 0, passthrough = 0;
    if (!rest) return EXIT_WORK;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (passthrough) {
            rest[n_rest++] = argv[i];
        } else if (strcmp(a, "--") == 0) {
            passthrough = 1;
            if (n_rest > 0) rest[n_rest++] = argv[i]; /* the patch sees it too */
        } else if (strcmp(a, "--no-cache") == 0) {
            config.no_cache = 1;
        } else if (strcmp(a, "--quiet") == 0) {
            config.quiet = 1;
        } else if (strcmp(a, "--force") == 0) {
            st_outputs_set_force(1);
        } else if (strcmp(a, "--threads") == 0 || strncmp(a, "--threads=", 10) == 0) {
            const char *value = a[9] == '=' ? a + 10 : (i + 1 < argc ? argv[++i] : NULL);
            char *end;
            long n = value ? strtol(value, &end, 10) : 0;
            if (!value || *end || n < 1 || n > 64) {
                fprintf(stderr, "strata: --threads wants a number from 1 to 64, not '%s'\n",
                        value ? value : "");
                free(rest);
                return EXIT_USAGE;
            }
            config.n_threads = (int)n;
        } else if (n_rest == 0 && strcmp(a, "--version") == 0) {
            printf("strata %s\n", STRATA_VERSION);
            free(rest);
            return 0;
        } else if (n_rest == 0 && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
            print_usage(stdout);
            free(rest);
            return 0;
        } else {
            rest[n_rest++] = argv[i];
        }
    }
    int status;
    const command *c = n_rest > 0 ? find_command(rest[0]) : NULL;
    char path[4200], name[300];
    if (n_rest == 0) {
        print_usage(stderr);
        status = EXIT_USAGE;
    } else if (c && wants_help(n_rest - 1, rest + 1)) {
        print_command_help(c, stdout);
        status = 0;
    } else if (c && (strcmp(c->name, "render") == 0 || strcmp(c->name, "run") == 0)) {
        st_outputs_begin();
        status = in_one_set(c->run(n_rest - 1, rest + 1));
    } else if (c) {
        status = c->run(n_rest - 1, rest + 1);
    } else if (rest[0][0] == '-') {
        fprintf(stderr, "strata: unknown option '%s' (strata --help lists them)\n", rest[0]);
        status = EXIT_USAGE;
    } else if (!find_patch(rest[0], path, sizeof path)) {
        fprintf(stderr,
                "strata: no command or ready patch called '%s' (strata patches lists them)\n",
                rest[0]);
        status = EXIT_USAGE;
    } else {
        snprintf(name, sizeof name, "strata %s", rest[0]);
        st_outputs_begin();
        status = in_one_set(run_patch(path, name, n_rest - 1, rest + 1));
    }
    free(rest);
    return status;
}
