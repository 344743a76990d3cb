/* The on-disk cache: hit, miss, invalidation, eviction, damaged entries,
 * bounded headers, the folder's owner and mode, a read-only folder, and two
 * processes writing one key at once. */
#include "../../vm/cache.h"
#include "check.h"

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int slow_runs;
static int no_cache; /* the configuration of every fresh graph */

static int slow_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p, st_value **out)
{
    (void)ctx, (void)in, (void)n_in;
    slow_runs++;
    int64_t n = (int64_t)st_num(p, "frames");
    *out = st_audio_new(1, n, 100);
    if (*out)
        for (int64_t i = 0; i < n; i++)
            (*out)->u.audio.channel[0][i] = (float)st_num(p, "x");
    return *out ? ST_OK : ST_ERR;
}

static const st_node_type slow_type = {
    .name = "slow_test",
    .doc = "a slow node for tests",
    .inputs = (const st_port[]){{NULL}},
    .outputs = (const st_port[]){{"out", ST_AUDIO}, {NULL}},
    .params =
        (const st_param[]){{"x", ST_P_NUMBER, .def = 1, .min = -1e9, .max = 1e9, .doc = ""},
                           {"frames", ST_P_NUMBER, .def = 1000, .min = 1, .max = 1e8, .doc = ""},
                           {NULL}},
    .slow = 1,
    .run = slow_run,
};

/* slow_test{x, frames} in a fresh graph (a new process, as far as memo goes):
 * its key, and its value's last sample (-1 when it failed). */
static float eval_fresh_n(double x, double frames, st_graph_stats *stats, st_key *key)
{
    st_graph *g = st_graph_new();
    st_graph_config(g)->no_cache = no_cache;
    st_arg args[2] = {{.name = "x", .num = x}, {.name = "frames", .num = frames}};
    st_node *n = st_graph_add(g, &slow_type, NULL, 0, args, 2, "cache");
    st_value *v = n ? st_graph_eval(g, (st_ref){n, -1}) : NULL;
    float result = v ? v->u.audio.channel[0][v->u.audio.n_frames - 1] : -1;
    if (stats) *stats = st_graph_get_stats(g);
    if (key && n) *key = st_graph_disk_key(g, n);
    st_value_unref(v);
    st_graph_free(g);
    return result;
}

static float eval_fresh(double x, st_graph_stats *stats)
{
    return eval_fresh_n(x, 1000, stats, NULL);
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

static void entry_path(const char *dir, st_key key, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%016llx%016llx.stv", dir, (unsigned long long)key.hi,
             (unsigned long long)key.lo);
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* Rewrites the bytes of path from offset with data. */
static void poke(const char *path, long offset, const void *data, size_t n)
{
    int fd = open(path, O_WRONLY);
    if (fd >= 0) {
        if (pwrite(fd, data, n, offset) != (ssize_t)n) printf("# poke failed\n");
        close(fd);
    }
}

static void use_folder(const char *dir)
{
    setenv("STRATA_CACHE_DIR", dir, 1);
    st_cache_reset();
}

/* A truncated entry, a flipped bit: each is a miss with one warning, the
 * node runs once more, the entry is written whole again and then hits. */
static void damaged_entries(const char *dir)
{
    st_graph_stats s;
    st_key key;
    char path[4608];
    eval_fresh_n(5, 1000, NULL, &key);
    entry_path(dir, key, path, sizeof path);
    long whole = file_size(path);
    if (truncate(path, whole / 2) != 0) printf("# truncate failed\n");
    int runs = slow_runs, damaged = st_cache_get_stats().damaged;
    float r = eval_fresh(5, &s);
    CHECK("a partial entry is a miss and is computed again",
          r == 5 && slow_runs == runs + 1 && s.disk_hits == 0 &&
              st_cache_get_stats().damaged == damaged + 1 && file_size(path) == whole,
          "value %g runs %d hits %d damaged %d size %ld of %ld", r, slow_runs - runs, s.disk_hits,
          st_cache_get_stats().damaged - damaged, file_size(path), whole);
    r = eval_fresh(5, &s);
    CHECK("the rewritten entry hits", r == 5 && s.disk_hits == 1, "hits %d", s.disk_hits);

    unsigned char flipped = 0x01 ^ 0; /* sample 500's lowest byte: 5.0f has 0 there */
    poke(path, whole - 4 * 500, &flipped, 1);
    runs = slow_runs;
    r = eval_fresh(5, &s);
    CHECK("a flipped sample bit is a miss, not a value",
          r == 5 && slow_runs == runs + 1 && s.disk_hits == 0, "runs %d hits %d", slow_runs - runs,
          s.disk_hits);
}

/* Entries whose fields lie: every header field is bounded by the file. */
static void lying_headers(void)
{
    st_value *a = st_audio_new(1, 4, 8000);
    FILE *f = tmpfile();
    st_value_write(f, a);
    long size = ftell(f);
    /* payload: type, n_channels, n_frames, rate, 4 samples */
    const long n_frames_at = 64 + 8, rate_at = 64 + 16;
    struct {
        const char *name;
        long at;
        int64_t value;
        double rate;
    } cases[] = {
        {"a frame count of 2^40 in a small file", n_frames_at, (int64_t)1 << 40, 0},
        {"a negative frame count", n_frames_at, -5, 0},
        {"a NaN rate", rate_at, 0, NAN},
        {"a zero rate", rate_at, 0, 0.0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        FILE *g = tmpfile();
        rewind(f);
        char buf[256];
        size_t n = fread(buf, 1, sizeof buf, f);
        if (cases[i].at == rate_at)
            memcpy(buf + rate_at, &cases[i].rate, 8);
        else
            memcpy(buf + cases[i].at, &cases[i].value, 8);
        fwrite(buf, 1, n, g);
        rewind(g);
        char why[256] = "";
        st_value *back = st_value_read_entry(g, NULL, why, sizeof why);
        CHECK(cases[i].name, back == NULL && why[0], "read a value from a lying entry");
        st_value_unref(back);
        fclose(g);
    }
    /* an array shape whose product overflows int64 */
    int64_t shape[2] = {2, 2};
    st_value *arr = st_array_new(2, shape, NULL);
    FILE *h = tmpfile();
    st_value_write(h, arr);
    int64_t huge[2] = {(int64_t)1 << 40, (int64_t)1 << 40};
    fseek(h, 64 + 8, SEEK_SET);
    fwrite(huge, sizeof huge, 1, h);
    rewind(h);
    st_value *back = st_value_read(h);
    CHECK("an array shape that overflows", back == NULL, "read a value");
    st_value_unref(back);
    fclose(h);
    int64_t overflow[2] = {INT64_MAX / 2, 4};
    back = st_array_new(2, overflow, NULL);
    CHECK("st_array_new refuses a shape whose size overflows", back == NULL, "made an array");
    st_value_unref(back);
    CHECK("an entry of the right size round-trips", size > 64, "size %ld", size);
    fclose(f);
    st_value_unref(a);
    st_value_unref(arr);
}

/* The folder: made 0700, entries 0600; another user's folder, or one others
 * may write to, is not used. */
static void folder_rules(const char *dir)
{
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/made/strata", dir);
    use_folder(sub);
    st_key key;
    eval_fresh_n(6, 1000, NULL, &key);
    struct stat st;
    char path[4608];
    entry_path(sub, key, path, sizeof path);
    int dir_mode = stat(sub, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
    int file_mode = stat(path, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
    CHECK("the cache folder is made 0700 and entries 0600", dir_mode == 0700 && file_mode == 0600,
          "folder %o entry %o", dir_mode, file_mode);

    st_graph_stats s;
    chmod(sub, 0777);
    use_folder(sub);
    int runs = slow_runs;
    eval_fresh(6, &s);
    CHECK("a folder others may write to is not used",
          st_cache_get_stats().folder_refused && s.disk_hits == 0 && slow_runs == runs + 1,
          "hits %d refused %d", s.disk_hits, st_cache_get_stats().folder_refused);
    chmod(sub, 0700);
    if (geteuid() == 0 && chown(sub, 65534, 65534) == 0) {
        use_folder(sub);
        eval_fresh(6, &s);
        CHECK("another user's folder is not used",
              st_cache_get_stats().folder_refused && s.disk_hits == 0, "hits %d", s.disk_hits);
        if (chown(sub, 0, 0) != 0) printf("# chown back failed\n");
    } else {
        printf("skip another user's folder: needs root to give a folder away\n");
    }

    /* --no-cache leaves no trace: no folder is made */
    snprintf(sub, sizeof sub, "%s/never/strata", dir);
    use_folder(sub);
    no_cache = 1;
    eval_fresh(7, &s);
    no_cache = 0;
    CHECK("--no-cache makes no cache folder", stat(sub, &st) != 0, "the folder exists");
    use_folder(dir);
}

/* A read-only folder: results are computed, a warning says they are not
 * kept, nothing fails. Root writes anywhere, so the check runs as nobody. */
static void read_only_folder(const char *dir)
{
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/ro", dir);
    mkdir(sub, 0700);
    eval_fresh(8, NULL); /* an entry to hit: a read-only cache still answers */
    int is_root = geteuid() == 0;
    if (is_root && chown(sub, 65534, 65534) != 0) printf("# chown failed\n");
    chmod(sub, 0500);
    chmod(dir, 0711); /* nobody may pass through to it */
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        if (is_root && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(3);
        use_folder(sub);
        st_graph_stats s;
        float r = eval_fresh(9, &s);
        _exit(r == 9 && st_cache_get_stats().write_failed && !st_cache_get_stats().folder_refused
                  ? 0
                  : 1);
    }
    int status = 0;
    waitpid(child, &status, 0);
    CHECK("a read-only cache folder is tolerated", WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "child status %d", status);
    chmod(sub, 0700);
    chmod(dir, 0700);
}

/* Two processes: one stores a 4 MB entry over and over, the other loads it
 * as fast as it can. Every load is whole (no damaged entry is ever seen):
 * a writer that wrote in place would be caught mid-file. */
static void two_processes(const char *dir)
{
    st_key key;
    const double frames = 1 << 20;
    use_folder(dir);
    eval_fresh_n(77, frames, NULL, &key);
    int pipe_fd[2];
    if (pipe(pipe_fd) != 0) return;
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        close(pipe_fd[0]);
        st_value *v = st_audio_new(1, (int64_t)frames, 100);
        for (int64_t i = 0; v && i < (int64_t)frames; i++)
            v->u.audio.channel[0][i] = 77;
        for (int i = 0; v && i < 40; i++)
            st_cache_store(key, v);
        st_value_unref(v);
        _exit(0);
    }
    close(pipe_fd[1]);
    int hits = 0, bad = 0, damaged = st_cache_get_stats().damaged, status = 0;
    while (waitpid(child, &status, WNOHANG) == 0) {
        st_value *v = st_cache_load(key);
        if (v) {
            hits++;
            if (v->u.audio.n_frames != (int64_t)frames || v->u.audio.channel[0][0] != 77 ||
                v->u.audio.channel[0][(int64_t)frames - 1] != 77)
                bad++;
        }
        st_value_unref(v);
    }
    close(pipe_fd[0]);
    damaged = st_cache_get_stats().damaged - damaged;
    CHECK("two processes share the cache safely",
          hits > 0 && bad == 0 && damaged == 0 && WIFEXITED(status),
          "%d hits, %d bad, %d damaged entries seen", hits, bad, damaged);
}

void test_cache(void)
{
    char dir[] = "/tmp/strata-cache-test-XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK("cache folder", 0, "mkdtemp failed");
        return;
    }
    use_folder(dir);
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

    damaged_entries(dir);
    lying_headers();
    folder_rules(dir);
    read_only_folder(dir);
    two_processes(dir);

    /* each file is about 4 kB; a cap of 0.01 MB keeps two */
    use_folder(dir);
    setenv("STRATA_CACHE_MAX_MB", "0.01", 1);
    for (int i = 10; i < 20; i++)
        eval_fresh(i, NULL);
    int kept = count_files(dir);
    CHECK("eviction keeps the folder under its cap", kept >= 1 && kept <= 3, "%d files kept", kept);
    unsetenv("STRATA_CACHE_MAX_MB");

    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) printf("# could not remove %s\n", dir);
    unsetenv("STRATA_CACHE_DIR");
    st_cache_reset();
}
