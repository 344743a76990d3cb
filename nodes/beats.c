/* beats: beats and downbeats decoded from beat/downbeat activations with
 * madmom's bar-pointer DBN (dsp/dbn.c), one model per candidate meter. */
#include "../vm/node.h"
#include "activations_file.h"
#include "beat_activations.h"
#include "dsp/bar_phase.h"
#include "dsp/dbn.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_METERS 8
/* chosen on held-out generated songs (doc/beats.md, "Sixth session") */
#define HARMONY_DEFAULT 6

static const st_param params[] = {
    {"activations", ST_P_STRING, .def_str = "tcn", .flags = ST_FILE_IN,
     .doc = "tcn: strata's network on the input audio; otherwise a text file of activations to "
            "decode: madmom's format, one row per frame, two columns (beat that is not a downbeat, "
            "downbeat), # comments"},
    {"model", ST_P_STRING, .def_str = "", .flags = ST_FILE_IN,
     .doc = "the network's weights (safetensors); empty: the installed beats_tcn.safetensors"},
    {"meters", ST_P_STRING, .def_str = "3,4",
     .doc = "beats per bar to try, comma separated; the most probable wins (3,4: madmom's "
            "DBNDownBeatTracker; a 2/4 song comes out as 4/4)"},
    {"min_bpm", ST_P_NUMBER, .def = 55, .min = 1, .max = 1000, .doc = "slowest tempo"},
    {"max_bpm", ST_P_NUMBER, .def = 215, .min = 1, .max = 1000, .doc = "fastest tempo"},
    {"n_tempi", ST_P_INT, .def = 60, .min = 0, .max = 1000,
     .doc = "log-spaced beat intervals between the two (0: every whole frame count)"},
    {"transition_lambda", ST_P_NUMBER, .def = 100, .min = 1e-3, .max = 1e6,
     .doc = "tempo change penalty: p ~ exp(-lambda |ratio - 1|) at beat boundaries"},
    {"observation_lambda", ST_P_NUMBER, .def = 16, .min = 1.5, .max = 1e4,
     .doc = "the first 1/lambda of each beat is where a beat is expected"},
    {"threshold", ST_P_NUMBER, .def = 0.05, .min = 0, .max = 1,
     .doc = "frames before the first and after the last activation at or above this are cut"},
    {"correct", ST_P_BOOL, .def = 1,
     .doc = "place each beat on the activation peak of its beat region"},
    {"fps", ST_P_NUMBER, .def = 100, .min = 1, .max = 10000,
     .doc = "frames per second of the activations (the network's are 100)"},
    {"min_strength", ST_P_NUMBER, .def = 0.1, .min = 0, .max = 1,
     .doc = "no steady beat: when the mean activation (beat + downbeat) at the decoded beats, "
            "their strongest tenth left out, is below this, no beats are given (with correct = "
            "false, the peak within 70 ms of each beat: uncorrected beats sit off the peak)"},
    {"min_contrast", ST_P_NUMBER, .def = 6, .min = 0, .max = 1e6,
     .doc = "a weaker pulse still counts when it stands out: the activation at the beats (as for "
            "min_strength) is at least this many times the mean activation over all frames"},
    {"harmony", ST_P_NUMBER, .def = HARMONY_DEFAULT, .min = 0, .max = 1000,
     .doc = "how much the bar's phase trusts harmonic change (chords change at bar lines): "
            "after decoding, the downbeat is put on the beat of the bar whose beats score "
            "highest by the decoder's downbeat evidence plus this weight times the chord "
            "change into them (log-probability per bar and per standard deviation of the "
            "change; doc/beats.md); 0: the decoder's bar. Needs the audio: not used with "
            "activations from a file or an array"},
    {NULL}};

/* The meters in "2,3,4"; their number, or -1 after st_fail. */
static int parse_meters(st_ctx *ctx, const char *s, int *meters)
{
    int n = 0;
    const char *c = s;
    while (*c) {
        char *end;
        errno = 0;
        long v = strtol(c, &end, 10);
        if (end == c || errno || v < 1 || v > 16 || n == MAX_METERS) {
            st_fail(ctx,
                    "parameter meters = \"%s\": expected up to %d numbers of beats per bar "
                    "from 1 to 16, comma separated",
                    s, MAX_METERS);
            return -1;
        }
        meters[n++] = (int)v;
        c = end + strspn(end, " ");
        if (*c == ',') c++;
        c += strspn(c, " ");
    }
    if (n == 0) st_fail(ctx, "parameter meters is empty");
    return n ? n : -1;
}

static st_dbn_config config_of(const st_params *p, int beats_per_bar)
{
    st_dbn_config c = st_dbn_defaults;
    c.beats_per_bar = beats_per_bar;
    c.min_bpm = st_num(p, "min_bpm");
    c.max_bpm = st_num(p, "max_bpm");
    c.n_tempi = st_int(p, "n_tempi");
    c.transition_lambda = st_num(p, "transition_lambda");
    c.observation_lambda = st_num(p, "observation_lambda");
    c.fps = st_num(p, "fps");
    return c;
}

static int beats_check(st_ctx *ctx, const st_params *p)
{
    int meters[MAX_METERS];
    if (parse_meters(ctx, st_str(p, "meters"), meters) < 0) return ST_ERR;
    if (st_num(p, "min_bpm") >= st_num(p, "max_bpm"))
        return st_fail(ctx, "parameter min_bpm = %g is not below max_bpm = %g",
                       st_num(p, "min_bpm"), st_num(p, "max_bpm"));
    st_dbn_config c = config_of(p, meters[0]);
    const char *why = st_dbn_config_error(&c);
    if (why)
        return st_fail(ctx, "%s (min_bpm = %g, max_bpm = %g, fps = %g)", why, c.min_bpm, c.max_bpm,
                       c.fps);
    return ST_OK;
}

/* An activations array (time x 2) as doubles. */
static int array_activations(st_ctx *ctx, const st_array *arr, double **act, int64_t *n_frames)
{
    if (arr->n_axes != 2 || arr->shape[1] != 2)
        return st_fail(ctx, "input: expected activations of shape (time, 2), got %d axes",
                       arr->n_axes);
    double *a = malloc((size_t)(arr->n_elems > 0 ? arr->n_elems : 1) * sizeof *a);
    if (!a) return st_fail(ctx, "out of memory");
    for (int64_t k = 0; k < arr->n_elems; k++) {
        a[k] = arr->data[k];
        if (!(a[k] >= 0 && a[k] <= 1)) {
            free(a);
            return st_fail(ctx, "input: activation %g at frame %lld is outside [0, 1]",
                           arr->data[k], (long long)(k / 2));
        }
    }
    *act = a;
    *n_frames = arr->shape[0];
    return ST_OK;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The pulse under the decoded beats: the mean activation (beat + downbeat) at
 * the beats, the strongest tenth (at least one) left out, so that one
 * transient (a sound's abrupt end) does not make a steady beat of a signal
 * that has none. A corrected beat sits on its region's activation peak; an
 * uncorrected one (correct = false) sits where the decoder's beat starts,
 * which may be a few frames off the peak, so there the peak within
 * reach_frames either side is taken. -1 when memory is short. */
static double pulse_strength(const double *act, int64_t n_frames, const st_dbn_result *r,
                             int64_t reach_frames)
{
    double *v = malloc((size_t)r->n_beats * sizeof *v);
    if (!v) return -1.0;
    for (int64_t k = 0; k < r->n_beats; k++) {
        int64_t from = r->frame[k] - reach_frames, to = r->frame[k] + reach_frames;
        if (from < 0) from = 0;
        if (to > n_frames - 1) to = n_frames - 1;
        v[k] = 0.0;
        for (int64_t t = from; t <= to; t++)
            v[k] = fmax(v[k], act[2 * t] + act[2 * t + 1]);
    }
    qsort(v, (size_t)r->n_beats, sizeof *v, compare_double);
    int64_t keep = r->n_beats - (r->n_beats + 9) / 10;
    if (keep < 1) keep = 1;
    double sum = 0.0;
    for (int64_t k = 0; k < keep; k++)
        sum += v[k];
    free(v);
    return sum / (double)keep;
}

/* The bar's phase chosen again with harmonic change (dsp/bar_phase.h): every
 * beat's number turned by the rotation that scores best. 0, or -1 when
 * memory is short. */
static int turn_bar(st_dbn_result *r, int beats_per_bar, const float *chroma, int64_t n_frames,
                    double weight)
{
    double *z = malloc((size_t)r->n_beats * sizeof *z);
    if (!z || st_bar_phase_harmonic_change(chroma, n_frames, r->frame, r->n_beats, z)) {
        free(z);
        return -1;
    }
    int turn = st_bar_phase_rotation(r->beat_number, r->downbeat_evidence, z, r->n_beats,
                                     beats_per_bar, weight);
    free(z);
    if (turn < 0) return -1;
    for (int64_t k = 0; k < r->n_beats; k++)
        r->beat_number[k] = (r->beat_number[k] - 1 + turn) % beats_per_bar + 1;
    return 0;
}

static int beats_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p, st_value **out)
{
    (void)n_in;
    const char *file = st_str(p, "activations");
    double *act = NULL;
    float *chroma = NULL; /* when the network runs here and harmony is asked for */
    int64_t n_frames = 0;
    int status;
    if (strcmp(file, "tcn") != 0) {
        status = st_activations_read(ctx, "activations", file, &act, &n_frames);
    } else if (in[0]->type == ST_ARRAY) {
        status = array_activations(ctx, &in[0]->u.array, &act, &n_frames);
    } else if (in[0]->type == ST_AUDIO) {
        float *a;
        status = st_beat_activations(ctx, "model", &in[0]->u.audio, st_str(p, "model"), &a,
                                     &n_frames, st_num(p, "harmony") > 0 ? &chroma : NULL);
        if (status == ST_OK) {
            if ((act = malloc((size_t)(2 * n_frames + 1) * sizeof *act)))
                for (int64_t k = 0; k < 2 * n_frames; k++)
                    act[k] = a[k];
            else
                status = st_fail(ctx, "out of memory");
            free(a);
        }
    } else {
        return st_fail(ctx,
                       "input: expected audio or an activations array (time x 2), or give "
                       "activations = FILE; got %s",
                       st_type_name(in[0]->type));
    }
    if (status != ST_OK) return status;

    int meters[MAX_METERS];
    int n_meters = parse_meters(ctx, st_str(p, "meters"), meters);
    if (n_meters < 0) {
        free(act);
        free(chroma);
        return ST_ERR;
    }
    st_dbn *models[MAX_METERS] = {0};
    for (int k = 0; k < n_meters && status == ST_OK; k++) {
        st_dbn_config c = config_of(p, meters[k]);
        if (!(models[k] = st_dbn_create(&c))) status = st_fail(ctx, "out of memory");
    }
    st_dbn_result r;
    if (status == ST_OK && st_dbn_decode(models, n_meters, act, n_frames, st_num(p, "threshold"),
                                         st_int(p, "correct"), ctx->n_threads, &r))
        status = st_fail(ctx, "out of memory (decoding %lld frames)", (long long)n_frames);
    if (status == ST_OK && r.n_beats == 1) r.n_beats = 0; /* one beat is no steady beat */
    if (status == ST_OK && r.n_beats && chroma &&
        turn_bar(&r, st_dbn_beats_per_bar(models[r.winner]), chroma, n_frames,
                 st_num(p, "harmony"))) {
        st_dbn_result_free(&r);
        status = st_fail(ctx, "out of memory");
    }
    if (status == ST_OK && r.n_beats) { /* too weak a pulse under the beats: no steady beat */
        /* uncorrected beats: the peak within mir_eval's 70 ms of the beat */
        int64_t reach = st_int(p, "correct") ? 0 : (int64_t)(0.07 * st_num(p, "fps"));
        double strength = pulse_strength(act, n_frames, &r, reach);
        if (strength < 0) {
            st_dbn_result_free(&r);
            status = st_fail(ctx, "out of memory");
        } else {
            double all = 0.0;
            for (int64_t t = 0; t < n_frames; t++)
                all += act[2 * t] + act[2 * t + 1];
            double contrast = all > 0 ? strength / (all / (double)n_frames) : 0.0;
            if (strength < st_num(p, "min_strength") && contrast < st_num(p, "min_contrast"))
                r.n_beats = 0;
        }
    }
    if (status == ST_OK) {
        st_value *v = st_events_new(r.n_beats);
        if (v) {
            double fps = st_num(p, "fps");
            for (int64_t k = 0; k < r.n_beats; k++) {
                v->u.events.time_s[k] = (double)r.frame[k] / fps;
                v->u.events.label[k] = r.beat_number[k];
            }
            *out = v;
        } else {
            status = st_fail(ctx, "out of memory");
        }
        st_dbn_result_free(&r);
    }
    for (int k = 0; k < n_meters; k++)
        st_dbn_destroy(models[k]);
    free(act);
    free(chroma);
    return status;
}

const st_node_type st_node_beats = {
    .name = "beats",
    .doc = "Beats and downbeats: madmom's bar-pointer DBN (DBNDownBeatTrackingProcessor, "
           "decoded exactly) on beat and downbeat activations at `fps` frames per second, one "
           "model per meter in `meters`, the most probable kept. The activations come from "
           "strata's network on the input audio (`activations = \"tcn\"`), from an input "
           "activations array (time x 2), or from a file (`activations = FILE`). When the "
           "network runs on the input audio, the bar's phase (which decoded beat is the "
           "downbeat) is then chosen again by the decoder's downbeat evidence plus `harmony` "
           "times the chord change into each beat (chords change at bar lines); the beats and "
           "the meter stay the decoder's. Gives events "
           "labelled with the position in the bar (1 = downbeat); none when nothing crosses the "
           "threshold, when a single beat is decoded, or when the pulse under the beats is both "
           "weaker than `min_strength` and stands "
           "out less than `min_contrast` (no steady beat).",
    .inputs = (const st_port[]){{"in", ST_ANY}, {NULL}},
    .outputs = (const st_port[]){{"out", ST_EVENTS}, {NULL}},
    .params = params,
    .slow = 1,
    .version = 6,                           /* 6: uncorrected beats measured at their peak */
    .implicit_file = st_beat_shipped_model, /* a retrained default model changes the key */
    .check = beats_check,
    .run = beats_run,
};
