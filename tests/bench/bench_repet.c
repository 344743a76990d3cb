/* Benchmark of the REPET family (issue 13) on 180 s of 44.1 kHz mono (n_fft
 * 2048, hop 512), STFT and inverses included: repet as `strata repet` runs
 * it (repet_audio: the song to both signals; target < 0.15 s; the numpy port
 * of nussl takes 1.83 s), the road it replaced (stft, repet_mask, resynth,
 * the song minus the background), the repet node with its two spectra
 * and two ISTFTs beside it, and repet_sim (target < 4 s; librosa's nn_filter
 * approach takes 74 s); online REPET-SIM streaming at 48 kHz in 256-frame
 * blocks, mono (target < 3 % of one core). */
#include "../../vm/stream.h"
#include "bench.h"

#include <string.h>

/* Evaluates a node of the bench's graph, the value dropped. */
static void eval(st_node *n) { st_value_unref(bench_eval(n)); }

/* time_road gives the best of `runs` wall times of a whole road; *method_s
 * gets the best time of its node alone, cpu_of_best the CPU seconds (both
 * threads) of the method in that run: a figure a loaded machine inflates
 * less than wall time. The song is made once and saved (song_path); each run
 * loads it into a new graph. */
static double cpu_of_best, user_min;
/* The least CPU seconds (both threads, kernel included) of a whole run. */
static double total_cpu_min;
/* The best time of each stage over the runs: STFT, what follows the node. */
static double stft_min, istft_min;

/* User CPU seconds of the process (both threads): without the kernel's
 * zeroing of new pages, the part of the CPU time a busy machine varies most. */
static double user_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec;
}
static char song_path[4096];

static void make_song(const char *out_dir)
{
    snprintf(song_path, sizeof song_path, "%s/bench_repet_song.wav", out_dir);
    bench_graph(1);
    st_arg song_args[] = {{.name = "bars", .num = 90}, {.name = "tempo", .num = 120}};
    st_node *song = bench_add("testsong", NULL, -1, song_args, 2);
    st_arg save_args[] = {{.name = "path", .is_string = 1, .str = song_path}};
    eval(bench_add("save", bench_add("mono", song, 0, NULL, 0), -1, save_args, 1));
    bench_graph_done();
}

/* One run of a road from the loaded song to both signals. The method road
 * (command 0): STFT, the node (repet, repet_sim), an ISTFT of each of its two
 * spectra. The mask road (command 1), what `strata repet` ran until session
 * 6: STFT, repet_mask, resynth (the mask applied inside the inverse), the
 * song minus the background. The command road (command 2), what it runs now
 * (patches/repet.lua): repet_audio, the song to both signals in one node
 * (*method_s is then the whole road). All STFTs are sqrt-Hann 2048/512, as
 * strata repet's. */
static double time_road(const char *method, int command, int runs, double *method_s)
{
    double best = 1e9;
    *method_s = 1e9;
    user_min = stft_min = istft_min = total_cpu_min = 1e9;
    for (int r = 0; r < runs; r++) {
        bench_graph(1);
        st_arg load_args[] = {{.name = "path", .is_string = 1, .str = song_path}};
        st_node *mix = bench_add("load", NULL, -1, load_args, 1);
        eval(mix);
        st_arg fft[] = {{.name = "n_fft", .num = 2048},
                        {.name = "hop", .num = 512},
                        {.name = "window", .is_string = 1, .str = "sqrt_hann"}};
        double t0 = bench_now_s(), c0 = bench_cpu_s();
        if (command == 2) {
            double u0 = user_s();
            eval(bench_add("repet_audio", mix, -1, fft, 3));
            double t = bench_now_s() - t0;
            if (user_s() - u0 < user_min) user_min = user_s() - u0;
            if (bench_cpu_s() - c0 < total_cpu_min) total_cpu_min = bench_cpu_s() - c0;
            if (t < best) {
                best = *method_s = t;
                cpu_of_best = bench_cpu_s() - c0;
            }
            bench_graph_done();
            continue;
        }
        st_node *spec = bench_add("stft", mix, -1, fft, 3);
        eval(spec);
        double t1 = bench_now_s(), c1 = bench_cpu_s(), u1 = user_s();
        st_node *parts = bench_add(command ? "repet_mask" : method, spec, -1, NULL, 0);
        eval(parts);
        double t2 = bench_now_s(), c2 = bench_cpu_s(), u2 = user_s();
        if (u2 - u1 < user_min) user_min = u2 - u1;
        if (command) {
            st_ref masked[2] = {{spec, -1}, {parts, 0}};
            st_node *background = bench_add("item", bench_add_refs("resynth", masked, 2, NULL, 0),
                                            -1, (st_arg[]){{.name = "index", .num = 1}}, 1);
            /* song - background: one mix with subtract, as the patch's `-` makes */
            st_ref minus[2] = {{mix, -1}, {background, -1}};
            eval(background);
            eval(bench_add_refs("mix", minus, 2, (st_arg[]){{.name = "subtract", .num = 1}}, 1));
        } else {
            eval(bench_add("istft", parts, 0, NULL, 0));
            eval(bench_add("istft", parts, 1, NULL, 0));
        }
        double t3 = bench_now_s(), t = t3 - t0;
        if (bench_cpu_s() - c0 < total_cpu_min) total_cpu_min = bench_cpu_s() - c0;
        if (t1 - t0 < stft_min) stft_min = t1 - t0;
        if (t3 - t2 < istft_min) istft_min = t3 - t2;
        if (t < best) best = t;
        if (t2 - t1 < *method_s) {
            *method_s = t2 - t1;
            cpu_of_best = c2 - c1;
        }
        bench_graph_done();
    }
    return best;
}

/* Percent of one core that streaming online REPET-SIM takes on a song
 * (48 kHz, 256-frame blocks, mono), after its 10 s buffer has filled. */
static double online_core_percent(void)
{
    char error[1024];
    st_graph *g = bench_graph(1);
    st_arg song_args[] = {{.name = "bars", .num = 30}, {.name = "tempo", .num = 120}}; /* 60 s */
    st_node *mix = bench_add("mono", bench_add("testsong", NULL, -1, song_args, 2), 0, NULL, 0);
    st_node *played = bench_add("play", mix, -1, NULL, 0);
    st_node *parts = bench_add("repet_online", played, -1, NULL, 0);
    bench_add("jack_out", parts, 0, NULL, 0);
    bench_add("jack_out", parts, 1, NULL, 0);
    st_program *p = st_program_compile(g, 256, 48000, error, sizeof error);
    if (!p) {
        fprintf(stderr, "bench: %s\n", error);
        exit(1);
    }
    float out_buffers[2][256];
    float *out[2] = {out_buffers[0], out_buffers[1]};
    const float *in[1] = {NULL};
    const long warm = 10 * 48000 / 256, n_blocks = 40 * 48000 / 256;
    for (long b = 0; b < warm; b++)
        st_program_process(p, in, out, 256);
    double t0 = bench_thread_cpu_s();
    for (long b = 0; b < n_blocks; b++)
        st_program_process(p, in, out, 256);
    double t = bench_thread_cpu_s() - t0;
    st_program_free(p);
    bench_graph_done();
    return t / 40.0 * 100;
}

int main(int argc, char **argv)
{
    const char *out_dir = argc > 1 ? argv[1] : ".";
    /* a second argument runs one part alone (for profiling): repet, sim or online;
     * command: strata repet's graph alone, 10 runs; compare: it and the old road, alternated */
    const char *only = argc > 2 ? argv[2] : "";
    make_song(out_dir);
    double repet_only = 0, repet = 0, repet_cpu = 0, sim_only = 0, sim = 0, sim_cpu = 0, online = 0;
    double repet_user = 0, sim_user = 0, repet_stft = 0, repet_istft = 0;
    double node = 0, node_only = 0, node_istft = 0, repet_total_cpu = 0, node_total_cpu = 0;
    double command = 0, command_cpu = 0, command_user = 0, command_total_cpu = 0, unused;
    if (!strcmp(only, "compare")) { /* the two roads alternated, one run each, 10 times */
        double wall[2] = {1e9, 1e9}, cpu[2] = {1e9, 1e9};
        for (int r = 0; r < 10; r++)
            for (int road = 0; road < 2; road++) {
                double w = time_road("repet", road ? 1 : 2, 1, &unused);
                wall[road] = w < wall[road] ? w : wall[road];
                cpu[road] = total_cpu_min < cpu[road] ? total_cpu_min : cpu[road];
            }
        printf("repet_audio: least %.3f s wall, %.3f CPU s; the old road: %.3f s, %.3f CPU s; "
               "ratios %.2f, %.2f\n",
               wall[0], cpu[0], wall[1], cpu[1], wall[0] / wall[1], cpu[0] / cpu[1]);
        return 0;
    }
    if (!strcmp(only, "command")) {
        double best = time_road("repet", 2, 10, &unused);
        printf("repet_audio road: best %.3f s wall, least %.3f CPU s (user %.3f)\n", best,
               total_cpu_min, user_min);
        return 0;
    }
    if (!*only || !strcmp(only, "repet")) {
        command = time_road("repet", 2, *only ? 5 : 3, &unused);
        command_cpu = cpu_of_best;
        command_user = user_min;
        command_total_cpu = total_cpu_min;
        repet = time_road("repet", 1, *only ? 5 : 3, &repet_only);
        repet_cpu = cpu_of_best;
        repet_user = user_min;
        repet_stft = stft_min;
        repet_istft = istft_min;
        repet_total_cpu = total_cpu_min;
        node = time_road("repet", 0, *only ? 5 : 3, &node_only);
        node_istft = istft_min;
        node_total_cpu = total_cpu_min;
    }
    if (!*only || !strcmp(only, "sim")) {
        sim = time_road("repet_sim", 0, *only ? 2 : 1, &sim_only);
        sim_cpu = cpu_of_best;
        sim_user = user_min;
    }
    if (!*only || !strcmp(only, "online")) online = online_core_percent();
    printf("%-52s %9s %10s %10s %9s\n", "REPET family, 180 s 44.1 kHz mono (best of the runs)",
           "wall s", "target", "python", "ratio");
    printf("%-52s %9.3f %10s %10s %8.0fx\n", "repet: strata repet's graph (repet_audio)", command,
           "< 0.15 s", "1.83 s", 1.83 / command);
    printf("%-52s %9.3f   (%.3f CPU s; least %.3f, least user CPU %.3f s)\n",
           "  the same, CPU s of the best run", command_cpu, command_cpu, command_total_cpu,
           command_user);
    printf("%-52s %9.3f   (%.3f CPU s of a run, least)\n",
           "the road it replaced: STFT, repet_mask, resynth, -", repet, repet_total_cpu);
    printf("%-52s %9.3f   (%.3f CPU s; least user CPU %.3f s)\n",
           "  of which repet_mask (beat spectrum, medians, mask)", repet_only, repet_cpu,
           repet_user);
    printf("%-52s %9.3f / %.3f (best of the runs each)\n",
           "  of which the STFT / resynth + song - background", repet_stft, repet_istft);
    printf("%-52s %9.3f   (node %.3f s, two ISTFTs %.3f s)\n",
           "repet node (both spectra) + 2 ISTFTs, same STFT", node, node_only, node_istft);
    printf("%-52s %9.3f / %.3f (least of the runs each)\n",
           "  CPU s of a whole run: strata repet's / the node's", repet_total_cpu, node_total_cpu);
    printf("%-52s %9.3f %10s %10s %8.0fx\n", "repet_sim: STFT + repet_sim + 2 ISTFTs", sim, "< 4 s",
           "74 s", 74 / sim);
    printf("%-52s %9.3f   (%.3f CPU s; least user CPU %.3f s)\n",
           "  of which repet_sim (similarities, medians, masks)", sim_only, sim_cpu, sim_user);
    printf("%-52s %8.2f %% %10s\n", "repet_online streaming, 48 kHz, 256 blocks: one core", online,
           "< 3 %");
    printf("peak memory %.0f MB (whole process)\n", bench_peak_mb());
    char path[4096];
    snprintf(path, sizeof path, "%s/bench_repet.json", out_dir);
    FILE *f = fopen(path, "w");
    if (f) {
        fprintf(f,
                "{\"repet_180s_mono_s\": %.4f, \"repet_mask_road_s\": %.4f, "
                "\"repet_mask_only_s\": %.4f, \"stft_s\": %.4f, "
                "\"resynth_and_subtract_s\": %.4f, \"repet_node_two_istft_s\": %.4f, "
                "\"repet_sim_180s_mono_s\": %.4f, \"repet_sim_only_s\": %.4f, "
                "\"online_core_percent_48k_256\": %.3f, \"peak_mb\": %.0f}\n",
                command, repet, repet_only, repet_stft, repet_istft, node, sim, sim_only, online,
                bench_peak_mb());
        fclose(f);
    }
    return 0;
}
