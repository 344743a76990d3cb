/* Graph building checks and lazy, memoized evaluation. */
#include "../../vm/graph.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int n_runs;

static int make_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p, st_value **out)
{
    (void)ctx, (void)in, (void)n_in;
    n_runs++;
    *out = st_audio_new(1, st_int(p, "frames"), 100);
    return *out ? ST_OK : ST_ERR;
}

static const st_node_type make_type = {
    .name = "make",
    .doc = "test source",
    .inputs = (const st_port[]){{NULL}},
    .outputs = (const st_port[]){{"out", ST_AUDIO}, {NULL}},
    .params = (const st_param[]){{"frames", ST_P_INT, .def = 10, .min = 1, .max = 1000, .doc = ""},
                                 {"mode", ST_P_STRING, .def_str = "a", .choices = "a|b", .doc = ""},
                                 {NULL}},
    .run = make_run,
};

static int split_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p, st_value **out)
{
    (void)n_in, (void)p;
    if (in[0]->u.audio.n_frames == 13) return st_fail(ctx, "thirteen frames is unlucky");
    static const char *const names[] = {"left", "right"};
    st_value *fields[2] = {in[0], in[0]};
    *out = st_record_new(2, names, fields);
    return ST_OK;
}

static const st_node_type split_type = {
    .name = "split",
    .doc = "test record maker",
    .inputs = (const st_port[]){{"in", ST_AUDIO}, {NULL}},
    .outputs = (const st_port[]){{"left", ST_AUDIO}, {"right", ST_AUDIO}, {NULL}},
    .params = (const st_param[]){{NULL}},
    .run = split_run,
};

static const st_node_type want_spectrum_type = {
    .name = "want_spectrum",
    .doc = "test sink of spectra",
    .inputs = (const st_port[]){{"in", ST_SPECTRUM}, {NULL}},
    .outputs = (const st_port[]){{"out", ST_SPECTRUM}, {NULL}},
    .params = (const st_param[]){{NULL}},
    .run = NULL,
};

/* Asks for a parameter its descriptor lacks (a typo in C). */
static int typo_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p, st_value **out)
{
    (void)ctx, (void)in, (void)n_in;
    *out = st_audio_new(1, st_int(p, "framez") + 1, 100);
    return *out ? ST_OK : ST_ERR;
}

static int typo_check(st_ctx *ctx, const st_params *p)
{
    return st_num(p, "frames") > 500 && st_choice(p, "mood") < 0 ? st_fail(ctx, "unreachable")
                                                                 : ST_OK;
}

static const st_param frames_param[] = {
    {"frames", ST_P_INT, .def = 10, .min = 1, .max = 1000, .doc = ""}, {NULL}};

static const st_node_type typo_type = {
    .name = "typo",
    .doc = "asks for a parameter it lacks",
    .inputs = (const st_port[]){{NULL}},
    .outputs = (const st_port[]){{"out", ST_AUDIO}, {NULL}},
    .params = frames_param,
    .run = typo_run,
};

static const st_node_type typo_check_type = {
    .name = "typo_check",
    .doc = "checks a parameter it lacks",
    .inputs = (const st_port[]){{NULL}},
    .outputs = (const st_port[]){{"out", ST_AUDIO}, {NULL}},
    .params = frames_param,
    .check = typo_check,
    .run = make_run,
};

/* One slow node type in two implementation versions. */
static const st_node_type slow_v1 = {
    .name = "slow_versioned",
    .doc = "a slow node, version 1",
    .inputs = (const st_port[]){{NULL}},
    .outputs = (const st_port[]){{"out", ST_AUDIO}, {NULL}},
    .params = frames_param,
    .slow = 1,
    .version = 1,
    .run = make_run,
};
static const st_node_type slow_v2 = {
    .name = "slow_versioned",
    .doc = "a slow node, version 2",
    .inputs = (const st_port[]){{NULL}},
    .outputs = (const st_port[]){{"out", ST_AUDIO}, {NULL}},
    .params = frames_param,
    .slow = 1,
    .version = 2,
    .run = make_run,
};

/* Evaluates type in a fresh graph; returns its key and the graph's stats. */
static st_key eval_fresh(const st_node_type *type, st_graph_stats *stats)
{
    st_graph *g = st_graph_new();
    st_node *n = st_graph_add(g, type, NULL, 0, NULL, 0, "v");
    st_key key = n ? st_node_key(n) : (st_key){0, 0};
    st_value_unref(n ? st_graph_eval(g, (st_ref){n, -1}) : NULL);
    *stats = st_graph_get_stats(g);
    st_graph_free(g);
    return key;
}

static void test_versions(void)
{
    char dir[] = "/tmp/strata-version-test-XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK("version test folder", 0, "mkdtemp failed");
        return;
    }
    setenv("STRATA_CACHE_DIR", dir, 1);
    st_graph_stats s1, s1again, s2;
    st_key k1 = eval_fresh(&slow_v1, &s1);
    st_key k1again = eval_fresh(&slow_v1, &s1again);
    st_key k2 = eval_fresh(&slow_v2, &s2);
    CHECK("one version, one key: the second run is a disk hit",
          k1.hi == k1again.hi && k1.lo == k1again.lo && s1.disk_writes == 1 &&
              s1again.disk_hits == 1 && s1again.runs == 0,
          "writes %d, then hits %d runs %d", s1.disk_writes, s1again.disk_hits, s1again.runs);
    CHECK("a version bump changes the key and misses the cache",
          (k1.hi != k2.hi || k1.lo != k2.lo) && s2.disk_hits == 0 && s2.disk_misses == 1 &&
              s2.runs == 1,
          "hits %d misses %d runs %d", s2.disk_hits, s2.disk_misses, s2.runs);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) printf("# could not remove %s\n", dir);
    unsetenv("STRATA_CACHE_DIR");
}

/* A node reading a file no parameter names (a shipped model): its identity
 * is in the key, so a retrained model is never answered from the cache. */
static char implicit_path[64];
static int implicit_file(const st_params *p, char *path, size_t size)
{
    (void)p;
    snprintf(path, size, "%s", implicit_path);
    return 0;
}
static const st_node_type implicit_v1 = {
    .name = "implicit",
    .doc = "a node reading a file no parameter names",
    .inputs = (const st_port[]){{NULL}},
    .outputs = (const st_port[]){{"out", ST_AUDIO}, {NULL}},
    .params = frames_param,
    .version = 1,
    .implicit_file = implicit_file,
    .run = make_run,
};

static st_key key_of(const st_node_type *type)
{
    st_graph *g = st_graph_new();
    st_node *n = st_graph_add(g, type, NULL, 0, NULL, 0, "v");
    st_key key = n ? st_node_key(n) : (st_key){0, 0};
    st_graph_free(g);
    return key;
}

static void test_implicit_file(void)
{
    snprintf(implicit_path, sizeof implicit_path, "/tmp/strata-model-test-XXXXXX");
    int fd = mkstemp(implicit_path);
    if (fd < 0 || write(fd, "weights", 7) != 7) {
        CHECK("implicit file", 0, "cannot make %s", implicit_path);
        if (fd >= 0) close(fd);
        return;
    }
    st_key a = key_of(&implicit_v1), same = key_of(&implicit_v1);
    struct timespec later[2] = {{0, UTIME_OMIT}, {1000000000, 0}};
    futimens(fd, later); /* as a retrained file would be */
    if (write(fd, "more", 4) != 4) CHECK("implicit file grows", 0, "write failed");
    close(fd);
    st_key b = key_of(&implicit_v1);
    CHECK("a node's implicit file (a shipped model) is in its key",
          a.hi == same.hi && a.lo == same.lo && (a.hi != b.hi || a.lo != b.lo),
          "same file: %s; changed file: %s", a.hi == same.hi ? "same key" : "other key",
          a.hi != b.hi || a.lo != b.lo ? "other key" : "same key");
    unlink(implicit_path);
}

void test_graph(void)
{
    n_runs = 0;
    st_graph *g = st_graph_new();
    st_arg frames20 = {.name = "frames", .num = 20};
    st_node *a = st_graph_add(g, &make_type, NULL, 0, &frames20, 1, "t.lua:1");
    st_node *b = st_graph_add(g, &make_type, NULL, 0, &frames20, 1, "t.lua:2");
    CHECK("same key, same node", a && a == b, "two nodes for one key");
    st_arg frames21 = {.name = "frames", .num = 21};
    st_node *c = st_graph_add(g, &make_type, NULL, 0, &frames21, 1, "t.lua:3");
    CHECK("a parameter changes the key", c && c != a, "one node for two keys");

    st_ref ra = {a, -1};
    st_node *bad = st_graph_add(g, &want_spectrum_type, &ra, 1, NULL, 0, "t.lua:4");
    CHECK("type mismatch at connect",
          !bad && strstr(st_graph_error(g), "input in expects spectrum, got audio"), "error '%s'",
          st_graph_error(g));

    st_arg unknown = {.name = "framez", .num = 1};
    bad = st_graph_add(g, &make_type, NULL, 0, &unknown, 1, "t.lua:5");
    CHECK("unknown parameter",
          !bad && strstr(st_graph_error(g), "unknown parameter 'framez'") &&
              strstr(st_graph_error(g), "frames, mode"),
          "error '%s'", st_graph_error(g));

    st_arg too_big = {.name = "frames", .num = 5000};
    bad = st_graph_add(g, &make_type, NULL, 0, &too_big, 1, "t.lua:6");
    CHECK("parameter out of range",
          !bad && strstr(st_graph_error(g), "frames = 5000 is out of range [1, 1000]"),
          "error '%s'", st_graph_error(g));

    st_arg fraction = {.name = "frames", .num = 2.5};
    bad = st_graph_add(g, &make_type, NULL, 0, &fraction, 1, "t.lua:7");
    CHECK("integer parameter", !bad && strstr(st_graph_error(g), "must be an integer"),
          "error '%s'", st_graph_error(g));

    st_arg mode = {.name = "mode", .is_string = 1, .str = "c"};
    bad = st_graph_add(g, &make_type, NULL, 0, &mode, 1, "t.lua:8");
    CHECK("choice parameter", !bad && strstr(st_graph_error(g), "mode = \"c\" is not one of a|b"),
          "error '%s'", st_graph_error(g));

    st_arg wrong_kind = {.name = "frames", .is_string = 1, .str = "ten"};
    bad = st_graph_add(g, &make_type, NULL, 0, &wrong_kind, 1, "t.lua:9");
    CHECK("string for a number", !bad && strstr(st_graph_error(g), "must be a number"),
          "error '%s'", st_graph_error(g));

    CHECK("nothing runs before it is asked for", n_runs == 0 && st_graph_get_stats(g).runs == 0,
          "%d runs", n_runs);
    st_node *split = st_graph_add(g, &split_type, &ra, 1, NULL, 0, "t.lua:10");
    st_ref right = {split, 1};
    CHECK("record output type",
          split && st_ref_type(right) == ST_AUDIO && st_ref_type((st_ref){split, -1}) == ST_RECORD,
          "wrong static types");
    st_value *v1 = st_graph_eval(g, right);
    st_value *v2 = st_graph_eval(g, ra);
    CHECK("evaluation memoized",
          v1 && v2 && v1 == v2 && n_runs == 1 && st_graph_get_stats(g).runs == 2, "runs %d",
          n_runs);
    st_value_unref(v1);
    st_value_unref(v2);

    st_arg frames13 = {.name = "frames", .num = 13};
    st_node *d = st_graph_add(g, &make_type, NULL, 0, &frames13, 1, "t.lua:11");
    st_ref rd = {d, -1};
    st_node *split13 = st_graph_add(g, &split_type, &rd, 1, NULL, 0, "t.lua:12");
    st_value *none = st_graph_eval(g, (st_ref){split13, 0});
    CHECK("evaluation error names line and node",
          !none && strcmp(st_graph_error(g), "t.lua:12: split: thirteen frames is unlucky") == 0,
          "error '%s'", st_graph_error(g));

    st_node *typo = st_graph_add(g, &typo_type, NULL, 0, NULL, 0, "t.lua:13");
    st_value *typo_value = typo ? st_graph_eval(g, (st_ref){typo, -1}) : NULL;
    CHECK("a parameter name the descriptor lacks fails the node, naming it",
          typo && !typo_value &&
              strcmp(st_graph_error(g), "t.lua:13: typo: asks for parameter 'framez', which its "
                                        "descriptor lacks (a bug in the node)") == 0,
          "error '%s'", st_graph_error(g));
    st_value_unref(typo_value);
    st_arg frames600 = {.name = "frames", .num = 600};
    bad = st_graph_add(g, &typo_check_type, NULL, 0, &frames600, 1, "t.lua:14");
    CHECK("a check that asks for a parameter the descriptor lacks fails at once",
          !bad && strstr(st_graph_error(g), "typo_check: asks for parameter 'mood'"), "error '%s'",
          st_graph_error(g));
    st_graph_free(g);
    test_versions();
    test_implicit_file();
}
