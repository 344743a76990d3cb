/* strata: the command line.
 *
 *   strata run PATCH.lua [ARGS...]   run a patch; ARGS reach its `arg`
 *   strata NAME [ARGS...]            run patches/NAME.lua
 *   strata nodes [NAME] [--markdown] the node reference
 *
 * Global options (--no-cache, --quiet, --threads N) may stand anywhere;
 * everything else reaches the patch in order, and `--` passes the rest
 * untouched. */
#include "../lua/binding.h"
#include "graph.h"
#include "live.h"
#include "render.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef STRATA_DATADIR
#define STRATA_DATADIR "/usr/local/share/strata"
#endif

static const char usage[] =
    "usage: strata [--no-cache] [--quiet] [--threads N] COMMAND [ARGS...]\n"
    "\n"
    "commands:\n"
    "  run PATCH.lua [ARGS...]   run a patch file; ARGS reach the patch as `arg`\n"
    "  render PATCH.lua [ARGS...] -o OUT.wav --seconds S [--block N] [--rate R]\n"
    "                            run the patch's stream program offline into a file\n"
    "  live PATCH.lua [ARGS...] [--name N] [--server S] [--no-connect] [--start-server]\n"
    "                            run the patch's stream program as a JACK client\n"
    "  NAME [ARGS...]            run the ready patch NAME (strata NAME --help tells more)\n"
    "  nodes [NAME]              list the nodes, or describe one (--markdown: doc/nodes.md)\n"
    "  patches                   list the ready patches\n"
    "\n"
    "global options (anywhere on the line; -- passes the rest to the patch untouched):\n"
    "  --no-cache     neither read nor write the on-disk result cache\n"
    "  --quiet        no progress bar, no info lines\n"
    "  --threads N    threads a node may use (default 2)\n"
    "  --version      print the version\n"
    "  --help         print this help\n"
    "\n"
    "ready patches are looked up in $STRATA_PATCHES, the patches/ folder beside the binary,\n"
    "../share/strata/patches from the binary and " STRATA_DATADIR "/patches.\n";

static void emit_stdout(void *data, const char *text)
{
    (void)data;
    fputs(text, stdout);
}

static int list_nodes(const char *name, int markdown)
{
    const st_node_type *const *all = st_registry();
    if (name) {
        const st_node_type *t = st_registry_find(name);
        if (!t) {
            fprintf(stderr, "strata: no node called '%s' (strata nodes lists them)\n", name);
            return 1;
        }
        st_node_help(t, markdown, emit_stdout, NULL);
        return 0;
    }
    if (markdown) {
        printf("# Node reference\n\nGenerated from the node descriptors by `make docs` "
               "(`strata nodes --markdown`); do not edit.\n\n");
        for (int i = 0; all[i]; i++)
            st_node_help(all[i], 1, emit_stdout, NULL);
        return 0;
    }
    for (int i = 0; all[i]; i++) {
        const char *doc = all[i]->doc, *stop = strstr(doc, ". ");
        int n = stop ? (int)(stop - doc) + 1 : (int)strlen(doc);
        printf("  %-12s %.*s\n", all[i]->name, n, doc);
    }
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
        snprintf(path, size, "%s/%s.lua", dirs[i], name);
        if (access(path, R_OK) == 0) return 1;
    }
    return 0;
}

static int list_patches(void)
{
    char dirs[4][4096], cmd[8300];
    int n = patch_dirs(dirs, 4);
    for (int i = 0; i < n; i++)
        if (access(dirs[i], R_OK) == 0) {
            printf("ready patches in %s:\n", dirs[i]);
            fflush(stdout);
            snprintf(cmd, sizeof cmd,
                     "cd '%s' && ls *.lua 2>/dev/null | sed 's/\\.lua$//; s/^/  /'", dirs[i]);
            if (system(cmd) != 0) return 1;
            return 0;
        }
    fprintf(stderr, "strata: no patches folder found\n");
    return 1;
}

/* Runs a patch in a new Lua state. Returns the state, still open (its graph
 * may be streamed next), or NULL after printing the one-line error. */
/* What --threads, --quiet and --no-cache set, for the graph of every patch. */
static st_config config = {.n_threads = 2};

static lua_State *start_patch(const char *path, int argc, char **argv)
{
    lua_State *L = luaL_newstate();
    if (!L) {
        fprintf(stderr, "strata: out of memory\n");
        return NULL;
    }
    luaL_openlibs(L);
    luaL_requiref(L, "strata", luaopen_strata, 1); /* also the global `strata` */
    lua_pop(L, 1);
    *st_graph_config(st_lua_graph(L)) = config;
    lua_createtable(L, argc, 1);
    lua_pushstring(L, path);
    lua_rawseti(L, -2, 0);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setglobal(L, "arg");
    int status = luaL_loadfile(L, path);
    if (status == LUA_OK) {
        for (int i = 0; i < argc; i++)
            lua_pushstring(L, argv[i]);
        status = lua_pcall(L, argc, 0, 0);
    }
    fflush(stdout);
    if (status != LUA_OK) {
        const char *message = lua_tostring(L, -1);
        if (!message) message = "the patch raised an error that is not a string";
        /* a patch's own usage errors already start with its command name */
        fprintf(stderr, "%s%s\n", strncmp(message, "strata ", 7) == 0 ? "" : "strata: ", message);
        lua_close(L);
        return NULL;
    }
    return L;
}

static int run_patch(const char *path, int argc, char **argv)
{
    lua_State *L = start_patch(path, argc, argv);
    if (!L) return 1;
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

static int render_command(int argc, char **argv)
{
    int bad = 0;
    const char *out = take_value(&argc, argv, "--output", "-o", &bad);
    const char *seconds = take_value(&argc, argv, "--seconds", NULL, &bad);
    const char *block = take_value(&argc, argv, "--block", NULL, &bad);
    const char *rate = take_value(&argc, argv, "--rate", NULL, &bad);
    st_render_options opt = {.out_path = out, .block_frames = 256};
    double x;
    if (bad) return 2;
    if (argc < 1 || !out || !seconds) {
        fprintf(stderr, "strata: render needs a patch, -o OUT.wav and --seconds S "
                        "(strata render PATCH.lua [ARGS...] -o OUT.wav --seconds S)\n");
        return 2;
    }
    if (number_option(seconds, "--seconds", 1e-3, 86400, &opt.seconds)) return 2;
    if (block && number_option(block, "--block", 1, 65536, &x)) return 2;
    if (block) opt.block_frames = (int)x;
    if (rate && number_option(rate, "--rate", 1000, 768000, &opt.rate_hz)) return 2;
    lua_State *L = start_patch(argv[0], argc - 1, argv + 1);
    if (!L) return 1;
    char error[1200];
    int status = st_render(st_lua_graph(L), &opt, error, sizeof error);
    if (status) fprintf(stderr, "strata: %s\n", error);
    lua_close(L);
    return status ? 1 : 0;
}

static int live_command(int argc, char **argv)
{
    int bad = 0;
    st_live_options opt = {0};
    opt.client_name = take_value(&argc, argv, "--name", NULL, &bad);
    opt.server_name = take_value(&argc, argv, "--server", NULL, &bad);
    opt.no_connect = take_flag(&argc, argv, "--no-connect");
    opt.start_server = take_flag(&argc, argv, "--start-server");
    if (bad) return 2;
    if (argc < 1) {
        fprintf(stderr, "strata: live needs a patch (strata live PATCH.lua [ARGS...])\n");
        return 2;
    }
    lua_State *L = start_patch(argv[0], argc - 1, argv + 1);
    if (!L) return 1;
    int status = st_live(st_lua_graph(L), &opt);
    lua_close(L);
    return status;
}

int main(int argc, char **argv)
{
    /* pull global options out wherever they stand, up to `--` */
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    int n_rest = 0, passthrough = 0;
    if (!rest) return 1;
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
        } else if (strcmp(a, "--threads") == 0 || strncmp(a, "--threads=", 10) == 0) {
            const char *value = a[9] == '=' ? a + 10 : (i + 1 < argc ? argv[++i] : NULL);
            char *end;
            long n = value ? strtol(value, &end, 10) : 0;
            if (!value || *end || n < 1 || n > 64) {
                fprintf(stderr, "strata: --threads wants a number from 1 to 64, not '%s'\n",
                        value ? value : "");
                free(rest);
                return 2;
            }
            config.n_threads = (int)n;
        } else if (n_rest == 0 && strcmp(a, "--version") == 0) {
            printf("strata %s\n", STRATA_VERSION);
            free(rest);
            return 0;
        } else if (n_rest == 0 && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
            fputs(usage, stdout);
            free(rest);
            return 0;
        } else {
            rest[n_rest++] = argv[i];
        }
    }
    int status;
    if (n_rest == 0) {
        fputs(usage, stderr);
        status = 2;
    } else if (strcmp(rest[0], "run") == 0) {
        if (n_rest < 2) {
            fprintf(stderr, "strata: run needs a patch file (strata run PATCH.lua [ARGS...])\n");
            status = 2;
        } else if (access(rest[1], R_OK) != 0) {
            fprintf(stderr, "strata: cannot read the patch '%s'\n", rest[1]);
            status = 1;
        } else {
            status = run_patch(rest[1], n_rest - 2, rest + 2);
        }
    } else if (strcmp(rest[0], "render") == 0 || strcmp(rest[0], "live") == 0) {
        int is_render = rest[0][0] == 'r';
        if (n_rest >= 2 && access(rest[1], R_OK) != 0 && rest[1][0] != '-') {
            fprintf(stderr, "strata: cannot read the patch '%s'\n", rest[1]);
            status = 1;
        } else {
            status = is_render ? render_command(n_rest - 1, rest + 1)
                               : live_command(n_rest - 1, rest + 1);
        }
    } else if (strcmp(rest[0], "nodes") == 0) {
        int markdown = 0;
        const char *name = NULL;
        for (int i = 1; i < n_rest; i++) {
            if (strcmp(rest[i], "--markdown") == 0)
                markdown = 1;
            else
                name = rest[i];
        }
        status = list_nodes(name, markdown);
    } else if (strcmp(rest[0], "patches") == 0) {
        status = list_patches();
    } else {
        char path[4200];
        if (rest[0][0] == '-') {
            fprintf(stderr, "strata: unknown option '%s' (strata --help lists them)\n", rest[0]);
            status = 2;
        } else if (!find_patch(rest[0], path, sizeof path)) {
            fprintf(stderr,
                    "strata: no command or ready patch called '%s' (strata patches lists them)\n",
                    rest[0]);
            status = 2;
        } else {
            status = run_patch(path, n_rest - 1, rest + 1);
        }
    }
    free(rest);
    return status;
}
