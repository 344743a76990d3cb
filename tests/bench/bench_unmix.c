/* Benchmark of the whole `strata unmix` (issue 12): a 180 s generated loop
 * song (90 bars at 120 BPM, testsong's "loops" arrangement), its downbeats
 * given, 4 loops, everything written (stems, loops, layout, pictures). The
 * target is under 10 s and under 1 GB. Each run is a fresh process with an
 * empty cache (the NTD included), timed from outside; peak memory is the
 * child's maximum resident set. Needs ./strata (or $STRATA). */
#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Runs argv with STRATA_CACHE_DIR=cache; returns its exit status, fills the
 * wall time and the peak resident set in MB. */
static int run(char *const *argv, const char *cache, double *seconds, double *peak_mb)
{
    double t0 = bench_now_s();
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        setenv("STRATA_CACHE_DIR", cache, 1);
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    struct rusage usage;
    if (wait4(pid, &status, 0, &usage) < 0) return -1;
    *seconds = bench_now_s() - t0;
    *peak_mb = (double)usage.ru_maxrss / 1024.0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int main(int argc, char **argv)
{
    const char *out_dir = argc > 1 ? argv[1] : ".";
    char *strata = getenv("STRATA") ? getenv("STRATA") : "./strata";
    char dir[4096], song[4200], beats[4200], out[4200], cache[4200], cmd[9000];
    snprintf(dir, sizeof dir, "%s/unmix-bench", out_dir);
    snprintf(song, sizeof song, "%s/song.wav", dir);
    snprintf(beats, sizeof beats, "%s/beats.txt", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(cache, sizeof cache, "%s/cache", dir);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && %s --quiet run tests/bench/unmix_song.lua '%s' 90",
             dir, strata, dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "bench_unmix: cannot make the song (%s)\n", cmd);
        return 1;
    }
    char *args[] = {strata,        "--quiet", "unmix",   song, "-o", out,
                    "--downbeats", beats,     "--loops", "4",  NULL};
    double best = 1e9, best_peak = 0;
    for (int r = 0; r < 3; r++) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", cache, out);
        if (system(cmd) != 0) return 1;
        double seconds, peak;
        int status = run(args, cache, &seconds, &peak);
        if (status != 0) {
            fprintf(stderr, "bench_unmix: strata unmix exited with %d\n", status);
            return 1;
        }
        if (seconds < best) best = seconds, best_peak = peak;
    }
    printf("%-58s %10s %12s %10s\n", "benchmark (best of 3, fresh process, empty cache)", "seconds",
           "peak memory", "target");
    printf("%-58s %10.2f %9.0f MB %10s\n", "strata unmix, 180 s loop song, 4 loops, files written",
           best, best_peak, "< 10 s");
    char path[4200];
    snprintf(path, sizeof path, "%s/bench_unmix.json", out_dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "bench_unmix: cannot write %s: %s\n", path, strerror(errno));
        return 1;
    }
    fprintf(f, "{\"unmix_180s_seconds\": %.3f, \"unmix_180s_peak_mb\": %.0f}\n", best, best_peak);
    fclose(f);
    return 0;
}
