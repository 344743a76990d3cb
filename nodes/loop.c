/* loop and sequence: audio loops played in time with the stream's bar clock
 * (strata.transport; strata live's transport).
 *
 * A loop's place in its cycle comes from the clock at every sample, not from
 * a counter of its own: it stays locked to the bar through tempo changes and
 * program swaps (a reloaded patch's loop goes on at the same phase). A
 * sequence is the same player over several loops, choosing one per cycle
 * from a pattern. Loops are converted (resampled to the tempo, or to the
 * engine's rate) when the program is compiled; process only copies. */
#include "../vm/node.h"
#include "dsp/resample.h"

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LOOPS   64
#define MAX_PATTERN 256
#define MUTE_MS     5

static const st_param loop_params[] = {
    {"bars", ST_P_INT, .def = 0, .min = 0, .max = 64,
     .doc = "the loop's length in bars (0: from its duration at `bpm`, rounded, at least 1)"},
    {"bpm", ST_P_NUMBER, .def = 0, .min = 0, .max = 999,
     .doc = "the loop's own tempo, to count its bars (0: the transport's)"},
    {"mode", ST_P_STRING, .def_str = "resample", .choices = "resample|retrigger",
     .doc = "resample: stretched to the transport's tempo (libsamplerate; pitch follows); "
            "retrigger: kept as it is and started again at every cycle"},
    {"playing", ST_P_BOOL, .def = 1,
     .doc = "sounding; a change (loop:start(), loop:stop()) takes effect at the next bar"},
    {"muted", ST_P_BOOL, .def = 0, .doc = "silenced at once (a 5 ms ramp), its phase running on"},
    {"db", ST_P_NUMBER, .def = 0, .min = -120, .max = 48, .doc = "gain in decibels"},
    {NULL}};

static const st_param sequence_params[] = {
    {"pattern", ST_P_STRING, .def_str = "",
     .doc = "one entry per cycle of `bars` bars: the input's number (1, 2, ...) or - for "
            "silence, separated by spaces; repeats (empty: every input in turn)"},
    {"bars", ST_P_INT, .def = 1, .min = 1, .max = 64,
     .doc = "bars per cycle (every input's length)"},
    {"mode", ST_P_STRING, .def_str = "resample", .choices = "resample|retrigger",
     .doc = "as for loop"},
    {"playing", ST_P_BOOL, .def = 1, .doc = "as for loop: changes at the next bar"},
    {"muted", ST_P_BOOL, .def = 0, .doc = "as for loop: at once"},
    {"db", ST_P_NUMBER, .def = 0, .min = -120, .max = 48, .doc = "gain in decibels"},
    {NULL}};

/* Owned by the program: the converted loops (references), the pattern, and
 * what a setter changes (atomics; the processing thread only reads them). */
typedef struct {
    int n_loops, n_channels;
    st_value *audio[MAX_LOOPS];
    int pattern[MAX_PATTERN]; /* loop index per cycle, -1 silent */
    int n_pattern;
    double cycle_beats;     /* bars x beats per bar */
    double frames_per_beat; /* of the converted audio: its own speed */
    int resampled;          /* 0: at the engine's rate, the clock's tempo unknown to it */
    const st_clock *clock;
    atomic_int want_playing, want_muted;
    _Atomic float want_scale;
    /* the processing thread's */
    int playing;
    int64_t bar;        /* the bar of the last sample, to see a new one begin */
    _Atomic float peak; /* of the last block, for a meter (get "level") */
    float level, level_step, scale;
} player;

static void player_close(void *state)
{
    player *p = state;
    if (!p) return;
    for (int i = 0; i < p->n_loops; i++)
        st_value_unref(p->audio[i]);
    free(p);
}

/* "1 2 - 1": loop numbers from 1 and - for silence. ST_ERR naming the entry. */
static int parse_pattern(st_ctx *ctx, const char *text, int n_loops, player *p)
{
    p->n_pattern = 0;
    for (const char *at = text; *at;) {
        at += strspn(at, " \t,");
        if (!*at) break;
        size_t len = strcspn(at, " \t,");
        if (p->n_pattern == MAX_PATTERN)
            return st_fail(ctx, "pattern: more than %d entries", MAX_PATTERN);
        char *end;
        long k = strtol(at, &end, 10);
        if (len == 1 && (*at == '-' || *at == '.'))
            p->pattern[p->n_pattern++] = -1;
        else if ((size_t)(end - at) == len && k >= 1 && k <= n_loops)
            p->pattern[p->n_pattern++] = (int)k - 1;
        else
            return st_fail(ctx, "pattern = \"%s\": '%.*s' is not an input's number (1 to %d) or -",
                           text, (int)len, at, n_loops);
        at += len;
    }
    if (p->n_pattern == 0) /* every input in turn */
        for (p->n_pattern = 0; p->n_pattern < n_loops; p->n_pattern++)
            p->pattern[p->n_pattern] = p->n_pattern;
    return ST_OK;
}

/* Converts loop i: stretched so that `bars` bars of it last as many at the
 * clock's tempo, or only brought to the engine's rate. */
static int convert(st_ctx *ctx, player *p, int i, const st_audio *a, int bars, double own_bpm,
                   int resample)
{
    const st_clock *clock = ctx->clock;
    char reason[256];
    double seconds = (double)a->n_frames / a->rate_hz;
    if (bars == 0) {
        double beats =
            seconds * (own_bpm > 0 ? own_bpm : 60.0 * ctx->rate_hz / clock->frames_per_beat) / 60.0;
        bars = (int)lround(beats / clock->beats_per_bar);
        if (bars < 1) bars = 1;
    }
    p->cycle_beats = (double)bars * clock->beats_per_bar;
    double rate = ctx->rate_hz;
    if (resample) /* the rate at which n_frames last the cycle, played at the engine's rate */
        rate = a->rate_hz * (p->cycle_beats * clock->frames_per_beat) / (double)a->n_frames;
    if (rate == a->rate_hz) {
        p->audio[i] = st_audio_new(a->n_channels, a->n_frames, ctx->rate_hz);
        if (!p->audio[i]) return st_fail(ctx, "out of memory");
        for (int c = 0; c < a->n_channels; c++)
            memcpy(p->audio[i]->u.audio.channel[c], a->channel[c],
                   (size_t)a->n_frames * sizeof(float));
    } else if (!(p->audio[i] = st_resample(a, rate, 1, ctx->n_threads, reason, sizeof reason))) {
        return st_fail(ctx, "input %d: %s", i + 1, reason);
    }
    p->frames_per_beat = clock->frames_per_beat;
    p->resampled = resample;
    return ST_OK;
}

static int open_players(st_ctx *ctx, st_open *o, void **state, int is_sequence)
{
    if (!ctx->clock) return st_fail(ctx, "plays only in a stream");
    if (o->n_in > MAX_LOOPS) return st_fail(ctx, "more than %d loops", MAX_LOOPS);
    player *p = calloc(1, sizeof *p);
    if (!p) return st_fail(ctx, "out of memory");
    const st_params *params = o->params;
    int resample = st_choice(params, "mode") == 0;
    for (int i = 0; i < o->n_in; i++) {
        const st_value *v = o->constant[i];
        if (!v) {
            player_close(p);
            return st_fail(ctx, "input %d: plays an offline audio value, not a stream", i + 1);
        }
        if (v->u.audio.n_frames == 0) {
            player_close(p);
            return st_fail(ctx, "input %d is empty", i + 1);
        }
        if (i > 0 && v->u.audio.n_channels != p->n_channels) {
            int first = p->n_channels;
            player_close(p);
            return st_fail(ctx, "input %d has %d channels, input 1 has %d", i + 1,
                           v->u.audio.n_channels, first);
        }
        p->n_channels = v->u.audio.n_channels;
        int bars = st_int(params, "bars");
        double own_bpm = is_sequence ? 0 : st_num(params, "bpm");
        if (convert(ctx, p, i, &v->u.audio, bars, own_bpm, resample)) {
            player_close(p);
            return ST_ERR;
        }
        p->n_loops++;
    }
    if (is_sequence) {
        if (parse_pattern(ctx, st_str(params, "pattern"), p->n_loops, p)) {
            player_close(p);
            return ST_ERR;
        }
    } else {
        p->n_pattern = 1;
    }
    p->clock = ctx->clock;
    p->playing = st_int(params, "playing");
    atomic_init(&p->want_playing, p->playing);
    atomic_init(&p->want_muted, st_int(params, "muted"));
    p->scale = (float)pow(10.0, st_num(params, "db") / 20.0);
    atomic_init(&p->want_scale, p->scale);
    p->level = st_int(params, "muted") ? 0.0f : 1.0f;
    p->level_step = 1.0f / (float)(MUTE_MS * 1e-3 * ctx->rate_hz + 1);
    p->bar = INT64_MIN;
    o->out[0] = (st_stream_format){.type = ST_AUDIO,
                                   .n_channels = p->n_channels,
                                   .max_frames = o->max_block,
                                   .rate_hz = ctx->rate_hz};
    *state = p;
    return ST_OK;
}

static int loop_open(st_ctx *ctx, st_open *o, void **state)
{
    return open_players(ctx, o, state, 0);
}

static int sequence_open(st_ctx *ctx, st_open *o, void **state)
{
    return open_players(ctx, o, state, 1);
}

/* Real-time safe: arithmetic and copies from memory converted at open. */
static void player_process(void *state, const st_block *const *in, st_block *out, int n)
{
    (void)in;
    player *p = state;
    const st_clock *clock = p->clock;
    int want_playing = atomic_load_explicit(&p->want_playing, memory_order_relaxed);
    float target = atomic_load_explicit(&p->want_muted, memory_order_relaxed) ? 0.0f : 1.0f;
    p->scale = atomic_load_explicit(&p->want_scale, memory_order_relaxed);
    /* the loop's own frames per beat of the clock: the resampled audio
     * lasts the cycle at the tempo it was made for; at another tempo (JACK
     * transport's, a later change) it is read faster or slower */
    double speed = p->resampled ? p->frames_per_beat : clock->frames_per_beat;
    float peak = 0;
    for (int i = 0; i < n; i++) {
        double beat = clock->beat + i / clock->frames_per_beat;
        int64_t bar = (int64_t)floor(beat / clock->beats_per_bar + 1e-9);
        if (bar != p->bar) { /* a new bar: starts and stops take effect */
            p->bar = bar;
            p->playing = want_playing;
        }
        if (p->level < target) p->level = fminf(target, p->level + p->level_step);
        if (p->level > target) p->level = fmaxf(target, p->level - p->level_step);
        double cycles = floor(beat / p->cycle_beats + 1e-9);
        double in_cycle = beat - cycles * p->cycle_beats;
        int64_t step = (int64_t)cycles % p->n_pattern; /* the clock may stand before beat 0 */
        int which = p->pattern[step < 0 ? step + p->n_pattern : step];
        const st_audio *a = which >= 0 ? &p->audio[which]->u.audio : NULL;
        int64_t at = (int64_t)(in_cycle * speed + 1e-6); /* whole frames stay whole */
        int sounding = p->playing && a && at >= 0 && at < a->n_frames;
        float gain = p->scale * p->level;
        for (int c = 0; c < p->n_channels; c++) {
            float y = sounding ? a->channel[c][at] * gain : 0.0f;
            out->channel[c][i] = y;
            peak = fmaxf(peak, fabsf(y));
        }
    }
    atomic_store_explicit(&p->peak, peak, memory_order_relaxed);
    out->n_frames = n;
}

static int player_set(void *state, const char *name, double value)
{
    player *p = state;
    if (strcmp(name, "playing") == 0)
        atomic_store_explicit(&p->want_playing, value != 0, memory_order_relaxed);
    else if (strcmp(name, "muted") == 0)
        atomic_store_explicit(&p->want_muted, value != 0, memory_order_relaxed);
    else if (strcmp(name, "db") == 0)
        atomic_store_explicit(&p->want_scale, (float)pow(10.0, value / 20.0), memory_order_relaxed);
    else
        return ST_ERR;
    return ST_OK;
}

/* The meter's reading and whether it sounds, for strata board. */
static int player_get(void *state, const char *name, double *value)
{
    player *p = state;
    if (strcmp(name, "level") == 0)
        *value = atomic_load_explicit(&p->peak, memory_order_relaxed);
    else if (strcmp(name, "playing") == 0)
        *value = atomic_load_explicit(&p->want_playing, memory_order_relaxed);
    else
        return ST_ERR;
    return ST_OK;
}

/* A reload's player takes over whether it sounds: a loop stopped from a
 * snippet stays stopped when the patch is saved. */
static void player_carry(void *state, const void *from)
{
    player *p = state;
    const player *old = from;
    p->playing = old->playing;
    atomic_store_explicit(&p->want_playing,
                          atomic_load_explicit(&old->want_playing, memory_order_relaxed),
                          memory_order_relaxed);
    atomic_store_explicit(&p->want_muted,
                          atomic_load_explicit(&old->want_muted, memory_order_relaxed),
                          memory_order_relaxed);
    p->level = old->level;
}

const st_node_type st_node_loop = {
    .name = "loop",
    .doc = "Play an audio loop locked to the bar clock (strata.transport): its cycle of `bars` "
           "bars starts on bar lines, resampled to the tempo or retriggered each cycle. "
           "loop:start() and loop:stop() take effect at the next bar, loop:mute() at once "
           "(strata live snippets). Works only in a stream.",
    .inputs = (const st_port[]){{"in", ST_AUDIO}, {NULL}},
    .outputs = (const st_port[]){{"out", ST_AUDIO}, {NULL}},
    .params = loop_params,
    .open = loop_open,
    .process = player_process,
    .close = player_close,
    .set = player_set,
    .get = player_get,
    .carry = player_carry,
    .stream_source = 1,
    .stream_latency = "0",
    .stream_notes = "converted when the program is made; its phase comes from the bar clock, so "
                    "a reload goes on in time",
};

const st_node_type st_node_sequence = {
    .name = "sequence",
    .doc = "Play several loops in turn, one per cycle of `bars` bars, as `pattern` says "
           "(\"1 1 2 -\"), locked to the bar clock like loop. Works only in a stream.",
    .inputs = (const st_port[]){{"loops", ST_AUDIO}, {NULL}},
    .outputs = (const st_port[]){{"out", ST_AUDIO}, {NULL}},
    .params = sequence_params,
    .variadic = 1,
    .open = sequence_open,
    .process = player_process,
    .close = player_close,
    .set = player_set,
    .get = player_get,
    .carry = player_carry,
    .stream_source = 1,
    .stream_latency = "0",
    .stream_notes = "as loop",
};
