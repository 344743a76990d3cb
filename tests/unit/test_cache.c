/* The on-disk cache: hit, miss, invalidation, eviction, and two processes
 * writing one key at once. */
#include "../../vm/cache.h"
#include "check.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int slow_runs;
static int no_cache; /* the configuration of every fresh graph */

static int slow_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p, st_value **out)
{
    (void)ctx, (void)in, (void)n_in;
    slow_runs++;
    *out = st_audio_new(1, 1000, 100);
    if (*out) (*out)->u.audio.channel[0][999] = (float)st_num(p, "x");
    return *out ? ST_OK : ST_ERR;
}

static const st_node_type slow_type = {
    .name = "slow_test",
    .doc = "a slow node for tests",
    .inputs = (const st_port[]){{NULL}},
    .outputs = (const st_port[]){{"out", ST_AUDIO}, {NULL}},
    .params = (const st_param[]){{"x", ST_P_NUMBER, .def = 1, .min = -1e9, .max = 1e9, .doc = ""},
                                 {NULL}},
    .slow = 1,
    .run = slow_run,
};

/* Evaluates slow_test{x} in a fresh graph (a new process, as far as memo goes). */
static float eval_fresh(double x, st_graph_stats *stats)
{
    st_graph *g = st_graph_new();
    st_graph_config(g)->no_cache = no_cache;
    st_arg arg = {.name = "x", .num = x};
    st_node *n = st_graph_add(g, &slow_type, NULL, 0, &arg, 1, "cache");
    st_value *v = n ? st_graph_eval(g, (st_ref){n, -1}) : NULL;
    float result = v ? v->u.audio.channel[0][999] : -1;
    if (stats) *stats = st_graph_get_stats(g);
    st_value_unref(v);
    st_graph_free(g);
    return result;
}

static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, ".stv")) n++;
    if (d) closedir(d);
    return n;
}

void test_cache(void)
{
    char dir[] = "/tmp/strata-cache-test-XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK("cache folder", 0, "mkdtemp failed");
        return;
    }
    setenv("STRATA_CACHE_DIR", dir, 1);
    no_cache = 0;
    st_graph_stats s;
    slow_runs = 0;
    float first = eval_fresh(3, &s);
    CHECK("cache miss runs the node",
          first == 3 && slow_runs == 1 && s.disk_misses == 1 && s.disk_writes == 1,
          "runs %d misses %d writes %d", slow_runs, s.disk_misses, s.disk_writes);
    float again = eval_fresh(3, &s);
    CHECK("cache hit does not run the node", again == 3 && slow_runs == 1 && s.disk_hits == 1,
          "runs %d hits %d", slow_runs, s.disk_hits);
    float changed = eval_fresh(4, &s);
    CHECK("a changed parameter misses", changed == 4 && slow_runs == 2 && s.disk_misses == 1,
          "runs %d", slow_runs);
    no_cache = 1;
    eval_fresh(3, &s);
    CHECK("--no-cache neither reads nor writes",
          slow_runs == 3 && s.disk_hits == 0 && s.disk_writes == 0, "runs %d", slow_runs);
    no_cache = 0;

    /* each file is about 4 kB; a cap of 0.01 MB keeps two */
    setenv("STRATA_CACHE_MAX_MB", "0.01", 1);
    for (int i = 10; i < 20; i++)
        eval_fresh(i, NULL);
    int kept = count_files(dir);
    CHECK("eviction keeps the folder under its cap", kept >= 1 && kept <= 3, "%d files kept", kept);
    unsetenv("STRATA_CACHE_MAX_MB");

    /* two processes storing and loading one key: every load is whole or a miss */
    int bad = 0;
    pid_t child = fork();
    if (child == 0) {
        for (int i = 0; i < 200; i++)
            eval_fresh(77, NULL);
        _exit(0);
    }
    for (int i = 0; i < 200; i++) {
        float r = eval_fresh(77, NULL);
        if (r != 77) bad++;
    }
    int status = 0;
    waitpid(child, &status, 0);
    CHECK("two processes share the cache safely", bad == 0 && WIFEXITED(status), "%d bad loads",
          bad);

    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) printf("# could not remove %s\n", dir);
    unsetenv("STRATA_CACHE_DIR");
}
