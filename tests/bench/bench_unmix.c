/* Benchmark of the whole `strata unmix` (issue 12): a 180 s generated loop
 * song (90 bars at 120 BPM, testsong's "loops" arrangement), 4 loops,
 * everything written (stems, loops, layout, pictures), twice: with its
 * downbeats given (--downbeats), and as a user runs it, with strata's own
 * beat tracker and bar_grid finding them. The target is under 10 s and under
 * 1 GB. Each run is a fresh process with an empty cache (the NTD included),
 * timed from outside; peak memory is the child's maximum resident set, CPU
 * time its user + system time (the figure to compare on a busy machine).
 * Needs ./strata (or $STRATA). */
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
 * wall time, the CPU time and the peak resident set in MB. */
static int run(char *const *argv, const char *cache, double *seconds, double *cpu_s,
               double *peak_mb)
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
    *cpu_s = (double)usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 +
             (double)usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
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
    char *given[] = {strata,        "--quiet", "unmix",   song, "-o", out,
                     "--downbeats", beats,     "--loops", "4",  NULL};
    char *tracked[] = {strata, "--quiet", "unmix", song, "-o", out, "--loops", "4", NULL};
    char *cycle[] = {strata,    "--quiet", "unmix",   song,    "-o", out,
                     "--loops", "4",       "--model", "cycle", NULL};
    char *tucker[] = {strata,    "--quiet", "unmix",   song,     "-o", out,
                      "--loops", "4",       "--model", "tucker", NULL};
    struct {
        const char *name, *key;
        char *const *argv;
        double seconds, cpu_s, peak_mb;
    } cases[] = {
        /* the keys name the model: the default became parts in session 7 (before it: tucker) */
        {"strata unmix (parts), 180 s loop song, 4 loops, --downbeats given", "unmix_parts_180s",
         given, 1e9, 0, 0},
        {"strata unmix (parts), 180 s, its own tracker + bar_grid", "unmix_parts_180s_tracked",
         tracked, 1e9, 0, 0},
        {"the same with --model tucker (the earlier default)", "unmix_tucker_180s_tracked", tucker,
         1e9, 0, 0},
        {"the same with --model cycle (ntd's cycle model)", "unmix_cycle_180s_tracked", cycle, 1e9,
         0, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (int r = 0; r < 3; r++) {
            snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", cache, out);
            if (system(cmd) != 0) return 1;
            double seconds, cpu, peak;
            int status = run(cases[c].argv, cache, &seconds, &cpu, &peak);
            if (status != 0) {
                fprintf(stderr, "bench_unmix: strata unmix exited with %d\n", status);
                return 1;
            }
            if (seconds < cases[c].seconds)
                cases[c].seconds = seconds, cases[c].cpu_s = cpu, cases[c].peak_mb = peak;
        }
    printf("%-66s %8s %8s %12s %10s\n", "benchmark (best of 3, fresh process, empty cache)",
           "seconds", "CPU s", "peak memory", "target");
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        printf("%-66s %8.2f %8.2f %9.0f MB %10s\n", cases[c].name, cases[c].seconds, cases[c].cpu_s,
               cases[c].peak_mb, "< 10 s");
    char path[4200];
    snprintf(path, sizeof path, "%s/bench_unmix.json", out_dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "bench_unmix: cannot write %s: %s\n", path, strerror(errno));
        return 1;
    }
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        fprintf(f, "%s\"%s_seconds\": %.3f, \"%s_cpu_seconds\": %.3f, \"%s_peak_mb\": %.0f%s",
                c ? ", " : "{", cases[c].key, cases[c].seconds, cases[c].key, cases[c].cpu_s,
                cases[c].key, cases[c].peak_mb,
                c + 1 == sizeof cases / sizeof cases[0] ? "}\n" : "");
    fclose(f);
    return 0;
}
