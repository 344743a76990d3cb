/* play: stream an offline audio value into a stream program. */
#include "../vm/graph.h"
#include "dsp/resample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const st_param params[] = {
    {"loop", ST_P_BOOL, .def = 0, .doc = "start again at the end (otherwise silence follows)"},
    {"start", ST_P_NUMBER, .def = 0, .min = 0, .max = 1e6,
     .doc = "seconds into the audio to begin"},
    {"db", ST_P_NUMBER, .def = 0, .min = -120, .max = 48, .doc = "gain in decibels"},
    {NULL}};

/* Owned by the program; holds a reference to the audio it plays. */
typedef struct {
    st_value *audio; /* at the engine's rate */
    int64_t position;
    double start_s; /* where it began: an edited start is not carried over */
    double rate_hz; /* the engine's: a carried position is scaled across a rate change */
    int loop;
    float scale;
} play_state;

static void play_close(void *state)
{
    play_state *s = state;
    if (!s) return;
    st_value_unref(s->audio);
    free(s);
}

static int play_open(st_ctx *ctx, st_open *o, void **state)
{
    const st_value *v = o->constant[0];
    if (!v) return st_fail(ctx, "plays an offline audio value, not a stream");
    play_state *s = calloc(1, sizeof *s);
    if (!s) return st_fail(ctx, "out of memory");
    char reason[256];
    if (v->u.audio.rate_hz != ctx->rate_hz) {
        /* converted once, here, so the process path only copies */
        s->audio = st_resample(&v->u.audio, ctx->rate_hz, 0, ctx->n_threads, reason, sizeof reason);
        if (!s->audio) {
            free(s);
            return st_fail(ctx, "%s", reason);
        }
    } else {
        s->audio = st_value_ref((st_value *)v);
    }
    s->start_s = st_num(o->params, "start");
    s->rate_hz = ctx->rate_hz;
    s->position = (int64_t)llround(s->start_s * ctx->rate_hz);
    if (s->position >= s->audio->u.audio.n_frames) {
        play_close(s);
        return st_fail(ctx, "start = %g s is past the end of the audio",
                       st_num(o->params, "start"));
    }
    s->loop = st_int(o->params, "loop");
    s->scale = (float)pow(10.0, st_num(o->params, "db") / 20.0);
    o->out[0] = (st_stream_format){.type = ST_AUDIO,
                                   .n_channels = s->audio->u.audio.n_channels,
                                   .max_frames = o->max_block,
                                   .rate_hz = ctx->rate_hz};
    *state = s;
    return ST_OK;
}

/* Real-time safe: copies from memory prepared at open. */
static void play_process(void *state, const st_block *const *in, st_block *out, int n)
{
    (void)in;
    play_state *s = state;
    const st_audio *a = &s->audio->u.audio;
    for (int i = 0; i < n; i++) {
        if (s->position >= a->n_frames && s->loop) s->position = 0;
        int playing = s->position < a->n_frames;
        for (int c = 0; c < a->n_channels; c++)
            out->channel[c][i] = playing ? a->channel[c][s->position] * s->scale : 0.0f;
        if (playing) s->position++;
    }
    out->n_frames = n;
}

/* A reload goes on from where the old program was, in the new audio too. */
static void play_carry(void *state, const void *from)
{
    play_state *s = state;
    const play_state *old = from;
    if (old->start_s != s->start_s) return; /* the user moved the start: begin there */
    s->position = old->rate_hz == s->rate_hz
                      ? old->position
                      : (int64_t)llround((double)old->position * s->rate_hz / old->rate_hz);
    if (s->position >= s->audio->u.audio.n_frames && s->loop)
        s->position %= s->audio->u.audio.n_frames;
}

const st_node_type st_node_play = {
    .name = "play",
    .doc = "Stream an offline audio value (a loaded file, a separated stem) into a stream "
           "program, converted to the engine's rate when they differ. Works only in a stream.",
    .inputs = (const st_port[]){{"in", ST_AUDIO}, {NULL}},
    .outputs = (const st_port[]){{"out", ST_AUDIO}, {NULL}},
    .params = params,
    .open = play_open,
    .process = play_process,
    .close = play_close,
    .carry = play_carry,
    .stream_source = 1,
    .stream_latency = "0",
    .stream_notes =
        "`loop`, `start`, `db`; converted to the engine rate once, when the program is made",
};
