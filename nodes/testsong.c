/* testsong: a deterministic loop-based song with its stems, beats and plan,
 * for tests and benchmarks that need a mixture whose parts are known. */
#include "../vm/node.h"
#include "dsp/rng.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

static const st_param params[] = {
    {"tempo", ST_P_NUMBER, .def = 120, .min = 30, .max = 300, .doc = "beats per minute"},
    {"beats_per_bar", ST_P_INT, .def = 4, .min = 2, .max = 12,
     .doc = "beats in a bar (the drum loop follows it)"},
    {"bars", ST_P_INT, .def = 8, .min = 1, .max = 2000, .doc = "length in bars"},
    {"seed", ST_P_INT, .def = 1, .min = 0, .max = 2147483647,
     .doc = "picks the key, the progression, the lead melody and the random arrangement"},
    {"rate", ST_P_NUMBER, .def = 44100, .min = 8000, .max = 192000, .doc = "sample rate in Hz"},
    {"arrangement", ST_P_STRING, .def_str = "full", .choices = "full|build|random|loops",
     .doc = "full: every stem in every bar; build: drums, then bass, chords and lead enter a bar "
            "apart; random: seeded on/off per stem and bar; loops: a loop song whose parts enter "
            "and leave by bar (over 16 bars, repeated: drums 1111111100001111, bass "
            "0000111111111111, chords 0011111111110011, lead 0000001111111100) and whose lead "
            "is a two-bar riff"},
    {NULL}};

enum { DRUMS, BASS, CHORDS, LEAD, N_STEMS };
extern const st_node_type st_node_testsong;

/* xorshift64*: the same numbers everywhere */

static double midi_hz(double note) { return 440.0 * pow(2.0, (note - 69.0) / 12.0); }

/* Adds a decaying tone of a few harmonics at [start, start + length). */
static void tone(float *y, int64_t n, double rate, double start_s, double length_s, double hz,
                 double amp, int harmonics, double decay_per_s)
{
    int64_t t0 = (int64_t)(start_s * rate), t1 = (int64_t)((start_s + length_s) * rate);
    if (t1 > n) t1 = n;
    int64_t attack = (int64_t)(0.005 * rate), release = (int64_t)(0.02 * rate);
    for (int64_t t = t0; t < t1; t++) {
        double u = (double)(t - t0) / rate, v = 0;
        for (int h = 1; h <= harmonics; h++)
            v += sin(2 * M_PI * hz * h * u) / h;
        double env = exp(-decay_per_s * u);
        if (t - t0 < attack) env *= (double)(t - t0) / attack;
        if (t1 - t < release) env *= (double)(t1 - t) / release;
        y[t] += (float)(amp * env * v);
    }
}

static void kick(float *y, int64_t n, double rate, double start_s)
{
    int64_t t0 = (int64_t)(start_s * rate), t1 = t0 + (int64_t)(0.3 * rate);
    double phase = 0;
    for (int64_t t = t0; t < t1 && t < n; t++) {
        double u = (double)(t - t0) / rate;
        phase += 2 * M_PI * (50 + 100 * exp(-u * 30)) / rate;
        y[t] += (float)(0.8 * exp(-u * 12) * sin(phase));
    }
}

/* A burst of noise: snare (with a 190 Hz body) or hi-hat (differenced, brighter). */
static void noise_hit(float *y, int64_t n, double rate, double start_s, uint64_t *s, int hat)
{
    int64_t t0 = (int64_t)(start_s * rate), t1 = t0 + (int64_t)((hat ? 0.05 : 0.2) * rate);
    double previous = 0;
    for (int64_t t = t0; t < t1 && t < n; t++) {
        double u = (double)(t - t0) / rate, w = 2 * st_rng_uniform(s) - 1, v;
        if (hat) {
            v = 0.15 * (w - previous) * exp(-u * 60);
            previous = w;
        } else {
            v = 0.35 * w * exp(-u * 18) + 0.3 * sin(2 * M_PI * 190 * u) * exp(-u * 25);
        }
        y[t] += (float)v;
    }
}

static int testsong_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p,
                        st_value **out)
{
    (void)in, (void)n_in;
    const double rate = st_num(p, "rate"), beat_s = 60.0 / st_num(p, "tempo");
    const int bpb = st_int(p, "beats_per_bar"), bars = st_int(p, "bars"),
              mode = st_choice(p, "arrangement");
    const double bar_s = beat_s * bpb;
    const int64_t n = (int64_t)ceil(bars * bar_s * rate);
    uint64_t seed = st_rng_seed((uint64_t)st_int(p, "seed"), 0) | 1;
    st_value *stem[N_STEMS] = {0}, *mixture = NULL, *beats = NULL, *plan = NULL, *record = NULL;
    for (int k = 0; k < N_STEMS; k++)
        stem[k] = st_audio_new(1, n, rate);
    mixture = st_audio_new(1, n, rate);
    beats = st_events_new((int64_t)bars * bpb);
    int64_t plan_shape[2] = {bars, N_STEMS};
    static const char *const plan_axes[] = {"bar", "stem"};
    plan = st_array_new(2, plan_shape, plan_axes);
    int status = ST_OK;
    for (int k = 0; k < N_STEMS; k++)
        if (!stem[k]) status = ST_ERR;
    if (status || !mixture || !beats || !plan) {
        status = st_fail(ctx, "out of memory for %d bars", bars);
        goto done;
    }
    /* the key, a four-chord progression (scale degrees of a major key), the plan */
    static const int major[7] = {0, 2, 4, 5, 7, 9, 11};
    static const int progressions[4][4] = {{0, 5, 3, 4}, {0, 3, 4, 3}, {5, 3, 0, 4}, {0, 4, 5, 3}};
    const int key = 40 + (int)(st_rng_next(&seed) % 12); /* E2 .. D#3 */
    const int *progression = progressions[st_rng_next(&seed) % 4];
    static const char *const loop_plan[N_STEMS] = {"1111111100001111", "0000111111111111",
                                                   "0011111111110011", "0000001111111100"};
    float *plan_on = plan->u.array.data;
    for (int b = 0; b < bars; b++)
        for (int k = 0; k < N_STEMS; k++) {
            int on = 1;
            if (mode == 1) on = b >= k;
            if (mode == 2)
                on = k == DRUMS ? st_rng_uniform(&seed) < 0.85 : st_rng_uniform(&seed) < 0.6;
            if (mode == 3) on = loop_plan[k][b % 16] == '1';
            plan_on[b * N_STEMS + k] = (float)on;
        }
    float *drums = stem[DRUMS]->u.audio.channel[0], *bass = stem[BASS]->u.audio.channel[0];
    float *chords = stem[CHORDS]->u.audio.channel[0], *lead = stem[LEAD]->u.audio.channel[0];
    uint64_t drum_noise = seed ^ 0xD1B54A32D192ED03ULL;
    for (int b = 0; b < bars; b++) {
        double t_bar = b * bar_s;
        int degree = progression[b % 4];
        int root = key + major[degree];
        for (int beat = 0; beat < bpb; beat++) {
            double t = t_bar + beat * beat_s;
            beats->u.events.time_s[b * bpb + beat] = t;
            beats->u.events.label[b * bpb + beat] = beat + 1;
            if (plan_on[b * N_STEMS + DRUMS]) {
                /* the one-bar loop: kick on 1 and the middle, snare elsewhere, eighth hats */
                uint64_t loop_noise = drum_noise + (uint64_t)beat; /* the same hits every bar */
                if (beat == 0 || beat == bpb / 2)
                    kick(drums, n, rate, t);
                else
                    noise_hit(drums, n, rate, t, &loop_noise, 0);
                noise_hit(drums, n, rate, t, &loop_noise, 1);
                noise_hit(drums, n, rate, t + beat_s / 2, &loop_noise, 1);
            }
            if (plan_on[b * N_STEMS + BASS])
                tone(bass, n, rate, t, beat_s * 0.9, midi_hz(root + (beat % 2 ? 12 : 0)), 0.35, 6,
                     3);
        }
        if (plan_on[b * N_STEMS + CHORDS])
            for (int v = 0; v < 3; v++) { /* the triad on this degree, an octave and a half up */
                int note =
                    key + 24 + major[(degree + 2 * v) % 7] + ((degree + 2 * v) >= 7 ? 12 : 0);
                tone(chords, n, rate, t_bar, bar_s, midi_hz(note), 0.12, 3, 0.4);
            }
        if (plan_on[b * N_STEMS +
                    LEAD]) { /* a melody that never repeats: random steps on the scale */
            /* loops: the riff of bar b % 2, the same every time round */
            uint64_t riff = (0x2545F4914F6CDD1DULL * (uint64_t)(b % 2 + 1) ^ seed) | 1;
            uint64_t *rng = mode == 3 ? &riff : &seed;
            int step = (int)(st_rng_next(rng) % 7);
            for (double t = t_bar; t < t_bar + bar_s - 1e-9;) {
                double length = beat_s * (st_rng_uniform(rng) < 0.5 ? 0.5 : 1.0);
                step += (int)(st_rng_next(rng) % 5) - 2;
                if (step < 0) step += 7;
                if (step > 13) step -= 7;
                int note = key + 36 + major[step % 7] + 12 * (step / 7);
                if (st_rng_uniform(rng) < 0.85)
                    tone(lead, n, rate, t, length * 0.95, midi_hz(note), 0.2, 2, 1.5);
                t += length;
            }
        }
        st_progress(ctx, (double)(b + 1) / bars);
    }
    float *mix = mixture->u.audio.channel[0];
    for (int k = 0; k < N_STEMS; k++) /* headroom: the mixture stays below full scale */
        for (int64_t t = 0; t < n; t++)
            stem[k]->u.audio.channel[0][t] *= 0.5f;
    for (int k = 0; k < N_STEMS; k++)
        for (int64_t t = 0; t < n; t++)
            mix[t] += stem[k]->u.audio.channel[0][t];
    st_value *fields[N_STEMS + 3] = {mixture, stem[0], stem[1], stem[2], stem[3], beats, plan};
    record = st_record_of_outputs(&st_node_testsong, fields);
    if (!record) status = st_fail(ctx, "out of memory");
    *out = record;
done:
    for (int k = 0; k < N_STEMS; k++)
        st_value_unref(stem[k]);
    st_value_unref(mixture);
    st_value_unref(beats);
    st_value_unref(plan);
    return status;
}

const st_node_type st_node_testsong = {
    .name = "testsong",
    .doc = "A deterministic synthetic loop-based song: a one-bar drum loop, a bass line and "
           "chords on a four-chord progression, and a lead melody that never repeats. Gives "
           "the mixture (the exact sum of the stems), every stem, the beats (label = position "
           "in the bar, 1 = downbeat) and the plan (bars x stems, 1 where a stem plays).",
    .inputs = (const st_port[]){{NULL}},
    .outputs = (const st_port[]){{"mixture", ST_AUDIO},
                                 {"drums", ST_AUDIO},
                                 {"bass", ST_AUDIO},
                                 {"chords", ST_AUDIO},
                                 {"lead", ST_AUDIO},
                                 {"beats", ST_EVENTS},
                                 {"plan", ST_ARRAY},
                                 {NULL}},
    .params = params,
    .run = testsong_run,
};
