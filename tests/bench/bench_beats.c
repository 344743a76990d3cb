/* Benchmark of the beat tracker (issue 11): beats and downbeats of 180 s of
 * 44.1 kHz audio (a generated song), features + network + decoding of the
 * default meters (3 and 4), target < 0.3 s (aubio's beat tracker alone:
 * 0.29 s, librosa's 0.54 s); and the decoder alone on 10 minutes of
 * activations (meters 3 and 4), target < 1 s and < 200 MB. */
#include "../../nodes/dsp/dbn.h"
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    const char *out_dir = argc > 1 ? argv[1] : ".";
    setenv("STRATA_MODELS", "models", 0); /* make bench runs in the source tree */

    /* the decoder alone: 10 minutes of activations with a 4/4 pulse at 120 BPM and noise */
    int64_t n = 60000;
    double *act = malloc((size_t)n * 2 * sizeof *act);
    unsigned seed = 1;
    for (int64_t t = 0; t < n; t++) {
        seed = seed * 1664525u + 1013904223u;
        double noise = 0.02 * ((seed >> 8) & 0xFFFF) / 65536.0;
        int beat = t % 50 < 2, bar = t % 200 < 2;
        act[2 * t] = (beat && !bar ? 0.7 : 0.0) + noise;
        act[2 * t + 1] = (bar ? 0.8 : 0.0) + noise;
    }
    double before_mb = bench_peak_mb();
    double best_dbn = 1e9, cpu_dbn = 1e9;
    st_dbn *models[2];
    for (int k = 0; k < 2; k++) {
        st_dbn_config c = st_dbn_defaults;
        c.beats_per_bar = 3 + k;
        models[k] = st_dbn_create(&c);
    }
    for (int r = 0; r < 3; r++) {
        st_dbn_result res;
        double t0 = bench_now_s(), c0 = bench_cpu_s();
        if (st_dbn_decode(models, 2, act, n, 0.05, 1, 2, &res)) return 1;
        double t = bench_now_s() - t0, c = bench_cpu_s() - c0;
        if (t < best_dbn) best_dbn = t;
        if (c < cpu_dbn) cpu_dbn = c;
        st_dbn_result_free(&res);
    }
    double dbn_mb = bench_peak_mb() - before_mb;
    for (int k = 0; k < 2; k++)
        st_dbn_destroy(models[k]);
    free(act);

    /* the whole tracker on 180 s */
    double best = 1e9, best_act = 1e9, cpu = 1e9;
    int64_t n_beats = 0;
    for (int r = 0; r < 3; r++) {
        st_graph_config(bench_graph(1))->no_cache = 1;
        st_arg song_args[] = {{.name = "bars", .num = 90}, {.name = "tempo", .num = 120}};
        st_node *song = bench_add("testsong", NULL, -1, song_args, 2);
        st_value_unref(bench_eval(
            bench_add("mono", song, 0, NULL, 0))); /* the song is made outside the timing */
        double t0 = bench_now_s();
        st_value *a = bench_eval(bench_add("activations", song, 0, NULL, 0));
        double t1 = bench_now_s();
        st_value_unref(a);
        double c1 = bench_cpu_s();
        st_value *beats = bench_eval(bench_add("beats", song, 0, NULL, 0));
        double t = bench_now_s() - t1;
        if (bench_cpu_s() - c1 < cpu) cpu = bench_cpu_s() - c1;
        n_beats = beats->u.events.n_events;
        st_value_unref(beats);
        if (t1 - t0 < best_act) best_act = t1 - t0;
        if (t < best) best = t;
        bench_graph_done();
    }
    printf("%-58s %9s %9s %10s\n", "beat tracker (best of 3, 2 threads)", "wall s", "CPU s",
           "target");
    printf("%-58s %9.3f %9.3f %10s\n", "180 s 44.1 kHz: features + TCN + DBN (meters 3,4)", best,
           cpu, "< 0.3 s");
    printf("%-58s %9.3f\n", "  of which features + TCN", best_act);
    printf("%-58s %9.3f %9.3f %10s\n", "DBN alone, 10 min of activations (meters 3,4)", best_dbn,
           cpu_dbn, "< 1 s");
    printf("%-58s %9.0f %10s\n", "  its memory, MB (peak growth)", dbn_mb, "< 200 MB");
    printf("beats found in the 180 s song: %lld; peak memory %.0f MB (whole process)\n",
           (long long)n_beats, bench_peak_mb());
    char path[4096];
    snprintf(path, sizeof path, "%s/bench_beats.json", out_dir);
    FILE *f = fopen(path, "w");
    if (f) {
        fprintf(f,
                "{\"tracker_180s_s\": %.4f, \"tracker_180s_cpu_s\": %.4f, \"features_tcn_180s_s\": "
                "%.4f, "
                "\"dbn_10min_s\": %.4f, \"dbn_10min_cpu_s\": %.4f, \"dbn_10min_mb\": %.0f}\n",
                best, cpu, best_act, best_dbn, cpu_dbn, dbn_mb);
        fclose(f);
    }
    return 0;
}
