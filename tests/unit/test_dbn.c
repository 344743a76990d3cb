/* madmom's bar-pointer DBN against madmom itself (corpus conformance/
 * madmom_dbn, made with madmom master 27f032e): state counts, each meter's
 * Viterbi log-probability and path, the decoded (time, beat number) files
 * byte for byte, and the beat-only tracker. Skips when the corpus is absent. */
#include "../../nodes/dsp/bar_phase.h"
#include "../../nodes/dsp/dbn.h"
#include "check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rows of two numbers; # lines skipped. */
static double *read_act(const char *path, int64_t *n)
{
    char *s = check_read_file(NULL, path, NULL);
    if (!s) return NULL;
    double *a = malloc((strlen(s) / 4 + 2) * sizeof *a);
    *n = 0;
    for (char *line = strtok(s, "\n"); line && a; line = strtok(NULL, "\n")) {
        if (line[0] == '#') continue;
        char *end;
        a[2 * *n] = strtod(line, &end);
        a[2 * *n + 1] = strtod(end, NULL);
        (*n)++;
    }
    free(s);
    return a;
}

/* The number after "key": inside the object that follows "block": (or the whole text). */
static const char *find_key(const char *json, const char *block, const char *key)
{
    char pattern[128];
    const char *from = json;
    if (block) {
        snprintf(pattern, sizeof pattern, "\"%s\": {", block);
        if (!(from = strstr(json, pattern))) return NULL;
    }
    snprintf(pattern, sizeof pattern, "\"%s\": ", key);
    const char *at = strstr(from, pattern);
    return at ? at + strlen(pattern) : NULL;
}

/* The integer list after "key": [ (first occurrence after block). */
static uint32_t *read_list(const char *json, const char *block, const char *key, int64_t *n)
{
    const char *at = find_key(json, block, key);
    if (!at || *at != '[') return NULL;
    const char *end = strchr(at, ']');
    uint32_t *v = malloc(((size_t)(end - at) / 2 + 1) * sizeof *v);
    *n = 0;
    for (const char *c = at + 1; v && c < end;) {
        char *next;
        long x = strtol(c, &next, 10);
        if (next == c) break;
        v[(*n)++] = (uint32_t)x;
        c = next + strspn(next, ", \n");
    }
    return v;
}

static int same_path(const uint32_t *a, const uint32_t *b, int64_t n, int64_t *where)
{
    for (int64_t t = 0; t < n; t++)
        if (a[t] != b[t]) {
            *where = t;
            return 0;
        }
    return 1;
}

static void check_case(const char *dir, const char *name, st_dbn *const *bars, int beats_only)
{
    char path[1400], label[256];
    int64_t n_frames;
    if (strcmp(name, "sample") == 0)
        snprintf(path, sizeof path,
                 "%s/../downbeat_decoder_madmom/sample.downbeats_activations.txt", dir);
    else
        snprintf(path, sizeof path, "%s/%s.activations.txt", dir, name);
    double *act = read_act(path, &n_frames);
    snprintf(path, sizeof path, "%s/%s.json", dir, name);
    char *json = check_read_file(NULL, path, NULL);
    snprintf(label, sizeof label, "dbn %s: fixture read", name);
    CHECK(label, act && json, "cannot read %s", path);
    if (!act || !json) return;

    int64_t first = strtol(find_key(json, NULL, "first_frame_after_threshold"), NULL, 10);
    for (int k = 0; k < 2; k++) {
        const char *meter = k == 0 ? "3" : "4";
        int64_t n_want;
        uint32_t *want = read_list(json, "viterbi_paths", meter, &n_want);
        double want_logp = strtod(find_key(json, "viterbi_log_probability", meter), NULL);
        uint32_t *got = malloc((size_t)n_want * sizeof *got);
        int64_t n_got = 0, where = -1;
        double logp = 0;
        int status =
            want && got ? st_dbn_viterbi(bars[k], act + 2 * first, n_want, got, &n_got, &logp) : -1;
        snprintf(label, sizeof label, "dbn %s: %s beats log-probability", name, meter);
        CHECK(label, status == 0 && fabs(logp - want_logp) <= 1e-3, "%.9f, expected %.9f", logp,
              want_logp);
        snprintf(label, sizeof label, "dbn %s: %s beats Viterbi path", name, meter);
        CHECK(label, status == 0 && n_got == n_want && same_path(got, want, n_want, &where),
              "differs at frame %lld (length %lld of %lld)", (long long)where, (long long)n_got,
              (long long)n_want);
        free(want);
        free(got);
    }

    /* the processor: threshold, both meters, correction; madmom's write_beats text */
    st_dbn_result r;
    int status = st_dbn_decode(bars, 2, act, n_frames, 0.05, 1, 2, &r);
    snprintf(path, sizeof path, "%s/%s.dbn_downbeats.txt", dir, name);
    char *want_text = check_read_file(NULL, path, NULL);
    size_t size = (size_t)(status == 0 ? r.n_beats : 0) * 32 + 1;
    char *text = calloc(size, 1);
    for (int64_t b = 0; status == 0 && text && b < r.n_beats; b++)
        snprintf(text + strlen(text), size - strlen(text), "%.3f\t%d\n", r.frame[b] / 100.0,
                 r.beat_number[b]);
    snprintf(label, sizeof label, "dbn %s: downbeats as madmom writes them", name);
    CHECK(label, want_text && text && strcmp(text, want_text) == 0, "got\n%.200s\nexpected\n%.200s",
          text ? text : "", want_text ? want_text : "");
    int want_winner = (int)strtol(find_key(json, NULL, "winner_beats_per_bar"), NULL, 10);
    snprintf(label, sizeof label, "dbn %s: meter", name);
    CHECK(label,
          status == 0 && r.winner >= 0 && st_dbn_beats_per_bar(bars[r.winner]) == want_winner,
          "winner %d, expected %d beats per bar", r.winner, want_winner);
    /* turning the bar is another path of the same model: its log-probability differs by the
     * new downbeats' evidence minus the old ones', so the decoded bar has the most (the bar
     * phase stage's premise: weight 0 keeps the decoder's bar) */
    if (status == 0 && r.n_beats > 0) {
        int n_bar = st_dbn_beats_per_bar(bars[r.winner]), most = 1;
        double sum[16] = {0};
        for (int64_t b = 0; b < r.n_beats; b++)
            sum[(n_bar - (r.beat_number[b] - 1)) % n_bar] += r.downbeat_evidence[b];
        for (int k = 1; k < n_bar; k++)
            if (sum[k] > sum[0] + 1e-9) most = 0;
        double *zero = calloc((size_t)r.n_beats, sizeof *zero);
        snprintf(label, sizeof label, "dbn %s: the decoded bar has the most downbeat evidence",
                 name);
        CHECK(label,
              most && zero &&
                  st_bar_phase_rotation(r.beat_number, r.downbeat_evidence, zero, r.n_beats, n_bar,
                                        0.0) == 0,
              "evidence of the turns %.3f %.3f %.3f", sum[0], sum[1], sum[2]);
        free(zero);
    }
    if (status == 0) st_dbn_result_free(&r);
    free(text);
    free(want_text);

    if (beats_only) { /* DBNBeatTrackingProcessor on act[:, 0] + act[:, 1], threshold 0 */
        st_dbn_config c = st_dbn_defaults;
        c.beats_per_bar = 1;
        c.n_tempi = 0;
        st_dbn *m = st_dbn_create(&c);
        double *sum = calloc((size_t)n_frames * 2, sizeof *sum);
        for (int64_t t = 0; sum && t < n_frames; t++)
            sum[2 * t + 1] = act[2 * t] + act[2 * t + 1];
        int64_t n_want, n_got = 0, where = -1;
        uint32_t *want = read_list(json, "beats_only", "viterbi_path", &n_want);
        uint32_t *got = malloc((size_t)n_frames * sizeof *got);
        double logp = 0,
               want_logp = strtod(find_key(json, "beats_only", "viterbi_log_probability"), NULL);
        int num_states = (int)strtol(find_key(json, "beats_only", "num_states"), NULL, 10);
        status =
            m && sum && got && want ? st_dbn_viterbi(m, sum, n_frames, got, &n_got, &logp) : -1;
        snprintf(label, sizeof label, "dbn %s: beats only, states", name);
        CHECK(label, m && st_dbn_n_states(m) == num_states, "%d, expected %d",
              m ? st_dbn_n_states(m) : 0, num_states);
        snprintf(label, sizeof label, "dbn %s: beats only, log-probability and path", name);
        CHECK(label,
              status == 0 && fabs(logp - want_logp) <= 1e-3 && n_got == n_want &&
                  same_path(got, want, n_want, &where),
              "%.9f (expected %.9f), path differs at %lld", logp, want_logp, (long long)where);
        status = status == 0 ? st_dbn_decode(&m, 1, sum, n_frames, 0.0, 1, 1, &r) : -1;
        snprintf(path, sizeof path, "%s/%s.dbn_beats.txt", dir, name);
        want_text = check_read_file(NULL, path, NULL);
        size = (size_t)(status == 0 ? r.n_beats : 0) * 32 + 1;
        text = calloc(size, 1);
        for (int64_t b = 0; status == 0 && text && b < r.n_beats; b++)
            snprintf(text + strlen(text), size - strlen(text), "%.3f\n", r.frame[b] / 100.0);
        snprintf(label, sizeof label, "dbn %s: beats only, beats as madmom writes them", name);
        CHECK(label, want_text && text && strcmp(text, want_text) == 0, "got\n%.200s",
              text ? text : "");
        if (status == 0) st_dbn_result_free(&r);
        free(text), free(want_text), free(want), free(got), free(sum);
        st_dbn_destroy(m);
    }

    if (strcmp(name, "sample") == 0) { /* madmom's unit test: the 3-beat HMM on all 281 frames */
        uint32_t *got = malloc((size_t)n_frames * sizeof *got);
        int64_t n_got;
        double logp = 0;
        status = got ? st_dbn_viterbi(bars[0], act, n_frames, got, &n_got, &logp) : -1;
        double want = strtod(find_key(json, "viterbi_log_probability_unthresholded", "3"), NULL);
        /* madmom's own test asserts -764.586595603 with np.allclose (relative 1e-5) */
        CHECK("dbn sample: unthresholded 3-beat log-probability (madmom's unit test)",
              status == 0 && fabs(logp - want) <= 1e-6 &&
                  fabs(logp - -764.586595603) <= 1e-5 * 764.6,
              "%.9f, expected %.9f", logp, want);
        free(got);
    }
    free(act);
    free(json);
}

/* The AVX-512 loops against the plain ones, bit for bit: paths and
 * log-probabilities of the 3- and 4-beat models and the beat-only tracker,
 * on a noisy pulse with a tempo change, on constant activations (every
 * frame alike: ties between sources) and on all-zero activations (no finite
 * way in, where the first source must be kept). Skips without AVX-512. */
static void vector_paths_agree(void)
{
    enum { N = 3000 };
    double *act = malloc(2 * N * sizeof *act);
    uint32_t *plain = malloc(N * sizeof *plain), *vector = malloc(N * sizeof *vector);
    st_dbn *m[3];
    st_dbn_config c = st_dbn_defaults;
    for (int k = 0; k < 3; k++) {
        c.beats_per_bar = k < 2 ? 3 + k : 1;
        c.n_tempi = k < 2 ? 60 : 0;
        m[k] = st_dbn_create(&c);
    }
    if (!act || !plain || !vector || !m[0] || !m[1] || !m[2]) {
        CHECK("dbn vector loops: setup", 0, "out of memory");
        return;
    }
    if (!st_dbn_use_vector(m[0], 1)) {
        printf("skip dbn vector loops: AVX-512 not allowed here (the CPU or STRATA_SIMD)\n");
    } else {
        int differ = 0;
        unsigned seed = 7;
        for (int kind = 0; kind < 3; kind++) {
            for (int t = 0; t < N; t++) {
                seed = seed * 1664525u + 1013904223u;
                double noise = 0.05 * (seed >> 8) / 16777216.0;
                int period = t < N / 2 ? 50 : 43, beat = t % period < 2, bar = t % (4 * period) < 2;
                act[2 * t] = kind == 0 ? (beat && !bar ? 0.6 : 0.0) + noise : kind == 1 ? 0.3 : 0;
                act[2 * t + 1] = kind == 0 ? (bar ? 0.7 : 0.0) + noise : kind == 1 ? 0.2 : 0;
            }
            for (int k = 0; k < 3; k++) {
                int64_t n_plain = -1, n_vector = -1;
                double lp_plain = 0, lp_vector = 1;
                st_dbn_use_vector(m[k], 0);
                int s1 = st_dbn_viterbi(m[k], act, N, plain, &n_plain, &lp_plain);
                st_dbn_use_vector(m[k], 1);
                int s2 = st_dbn_viterbi(m[k], act, N, vector, &n_vector, &lp_vector);
                int64_t where = -1;
                if (s1 || s2 || n_plain != n_vector ||
                    memcmp(&lp_plain, &lp_vector, sizeof lp_plain) != 0 ||
                    !same_path(plain, vector, n_plain, &where)) {
                    printf("  activations %d, model %d: log-probability %.17g against %.17g, "
                           "path differs at %lld\n",
                           kind, k, lp_plain, lp_vector, (long long)where);
                    differ++;
                }
            }
        }
        CHECK("dbn vector loops give the plain loops' paths and log-probabilities, bit for bit",
              differ == 0, "%d of 9 decodings differ", differ);
    }
    for (int k = 0; k < 3; k++)
        st_dbn_destroy(m[k]);
    free(act), free(plain), free(vector);
}

/* The ways into the first states, plain and vector, for the 3-beat model
 * and the beat-only one: the previous beat's last states made so that many
 * sources tie exactly for one destination (last[j] = K - log p(j -> i)), with
 * -inf and NaN among them, or all -inf (no way in: the first source kept). */
static void vector_entries_agree(void)
{
    st_dbn_config c = st_dbn_defaults;
    st_dbn *m[2];
    c.beats_per_bar = 3;
    m[0] = st_dbn_create(&c);
    c.beats_per_bar = 1, c.n_tempi = 0;
    m[1] = st_dbn_create(&c);
    int differ = 0, ties = 0, vector = 1, runs = 0;
    unsigned seed = 11;
    for (int k = 0; k < 2 && m[0] && m[1]; k++) {
        int n = st_dbn_n_intervals(m[k]);
        double *last = malloc((size_t)n * sizeof *last),
               *best = malloc(2 * (size_t)n * sizeof *best);
        int64_t *arg = malloc(2 * (size_t)n * sizeof *arg);
        for (int trial = 0; last && best && arg && trial < 400; trial++, runs++) {
            int target = trial % n;
            for (int j = 0; j < n; j++) {
                seed = seed * 1664525u + 1013904223u;
                double lp = st_dbn_log_transition(m[k], j, target);
                last[j] = (seed >> 8) % 11 == 0   ? -INFINITY
                          : (seed >> 8) % 23 == 1 ? NAN
                          : lp > -INFINITY        ? -40.0 - lp
                                                  : -41.0 - (seed >> 16) % 5;
                if (trial % 50 == 49) last[j] = -INFINITY;
            }
            if (st_dbn_entry_paths(m[k], last, -0.25, best, arg) != 1) vector = 0;
            int count = 0;
            for (int j = 0; j < n; j++)
                count += last[j] + st_dbn_log_transition(m[k], j, target) - 0.25 == best[target];
            ties += count > 1;
            for (int i = 0; i < n; i++)
                if (arg[i] != arg[n + i] || memcmp(&best[i], &best[n + i], sizeof *best) != 0) {
                    if (differ < 3)
                        printf("  model %d, destination %d: plain %.17g from %lld, vector %.17g "
                               "from %lld\n",
                               k, i, best[i], (long long)arg[i], best[n + i],
                               (long long)arg[n + i]);
                    differ++;
                }
        }
        free(last), free(best), free(arg);
    }
    if (!vector)
        printf("skip dbn vector entries: AVX-512 not allowed here (the CPU or STRATA_SIMD)\n");
    CHECK("dbn first states: the vector loops keep the plain loops' best source, bit for bit",
          m[0] && m[1] && differ == 0 && (!vector || ties > runs / 2),
          "%d destinations differ (%d of %d runs with ties)", differ, ties, runs);
    st_dbn_destroy(m[0]);
    st_dbn_destroy(m[1]);
}

void test_dbn(void)
{
    vector_entries_agree();
    vector_paths_agree();
    const char *root = getenv("STRATA_CORPUS");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/conformance/madmom_dbn", root ? root : "../shared/corpus");
    char probe[1100];
    snprintf(probe, sizeof probe, "%s/params.json", dir);
    FILE *f = fopen(probe, "r");
    if (!f) {
        printf("skip dbn conformance: %s is absent\n", dir);
        return;
    }
    fclose(f);
    st_dbn_config c = st_dbn_defaults;
    st_dbn *bars[2];
    c.beats_per_bar = 3;
    bars[0] = st_dbn_create(&c);
    c.beats_per_bar = 4;
    bars[1] = st_dbn_create(&c);
    CHECK("dbn state spaces (60 tempi 28..109 frames; 11157 and 14876 states)",
          bars[0] && bars[1] && st_dbn_n_states(bars[0]) == 11157 &&
              st_dbn_n_states(bars[1]) == 14876 && st_dbn_n_intervals(bars[1]) == 60 &&
              st_dbn_interval(bars[1], 0) == 28 && st_dbn_interval(bars[1], 59) == 109,
          "wrong state space");
    if (!bars[0] || !bars[1]) return;
    static const char *const cases[] = {"sample",
                                        "waltz_150bpm",
                                        "four4_120bpm",
                                        "four4_ramp_100_116bpm",
                                        "four4_88_jump_70bpm",
                                        "twelve8_like_80bpm",
                                        "four4_noisy_110bpm"};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++)
        check_case(dir, cases[k], bars, strstr(cases[k], "ramp") || strstr(cases[k], "noisy"));
    st_dbn_destroy(bars[0]);
    st_dbn_destroy(bars[1]);
}
