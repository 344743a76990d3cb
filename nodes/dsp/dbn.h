/* madmom's bar-pointer dynamic Bayesian network (Böck, Krebs and Widmer
 * 2016; madmom.features.downbeats.DBNDownBeatTrackingProcessor), decoded
 * exactly as madmom decodes it.
 *
 * A model is one bar length: beats_per_bar copies of a beat space, each made
 * of n_tempi beat intervals (in frames) with one state per frame of the
 * interval. The pointer advances one state per frame; the tempo may change
 * only where one beat ends and the next begins. Each frame's activations
 * (beat that is not a downbeat, downbeat) score the states: the first
 * 1/observation_lambda of the bar's first beat is the downbeat region, the
 * first 1/observation_lambda of every other beat the beat region.
 *
 * beats_per_bar = 1 with n_tempi = 0 is madmom's beat-only tracker
 * (DBNBeatTrackingProcessor: every integer interval, one activation column).
 *
 * Memory: the Viterbi keeps a back-pointer only for the first state of each
 * beat and tempo (the only states with more than one predecessor), one byte
 * or two per frame and first state, so 10 minutes of a 4-beat model at
 * 100 frames/s take 60000 x 240 x 2 bytes. */
#ifndef ST_DBN_H
#define ST_DBN_H

#include <stdint.h>

typedef struct {
    int beats_per_bar;         /* 1: beats only */
    double min_bpm, max_bpm;   /* 55, 215 */
    int n_tempi;               /* 60; 0: every integer interval in the range */
    double transition_lambda;  /* 100 */
    double observation_lambda; /* 16 */
    double fps;                /* 100 */
} st_dbn_config;

extern const st_dbn_config st_dbn_defaults;

typedef struct st_dbn st_dbn;

/* NULL when memory is short or the configuration makes no states (check it
 * first with st_dbn_config_error). */
st_dbn *st_dbn_create(const st_dbn_config *c);
void st_dbn_destroy(st_dbn *m);
/* NULL, or why c is unusable (static text). */
const char *st_dbn_config_error(const st_dbn_config *c);

int st_dbn_n_states(const st_dbn *m);
int st_dbn_n_intervals(const st_dbn *m);
int st_dbn_interval(const st_dbn *m, int i); /* frames, ascending in i */
int st_dbn_beats_per_bar(const st_dbn *m);
/* The Viterbi's AVX-512 loops (on by default where the CPU has them; the
 * same paths and log-probabilities, bit for bit, as the plain ones): off
 * with on = 0, for tests. Whether they are used now. */
int st_dbn_use_vector(st_dbn *m, int on);
/* log p(from -> to) between tempi at a beat boundary (-inf when none). */
double st_dbn_log_transition(const st_dbn *m, int from, int to);
/* For tests: the best way into the first state of every tempo i from the
 * previous beat's last states (last[j] + log p(j -> i) + d, the first
 * source j of the largest), by the plain loops into best[i], arg[i] and the
 * vector ones into best[n + i], arg[n + i] (n tempi). 1 when the vector loops
 * ran; 0 without AVX-512 (copies of the plain results); -1 out of memory. */
int st_dbn_entry_paths(st_dbn *m, const double *last, double d, double *best, int64_t *arg);

/* The Viterbi path through n_frames rows of activations act[2 t] (beat,
 * not downbeat) and act[2 t + 1] (downbeat); with one beat per bar only the
 * second column is read. path gets n_frames states (madmom's numbering:
 * beat b, interval i, phase k is b * S + sum of the intervals before i + k);
 * *log_prob the path's log-probability. When no path has a finite
 * probability the path is left empty (*n_path = 0), as madmom returns.
 * 0, or -1 when memory is short. */
int st_dbn_viterbi(const st_dbn *m, const double *act, int64_t n_frames, uint32_t *path,
                   int64_t *n_path, double *log_prob);

/* 0 outside the beat regions, 1 in a beat region, 2 in the downbeat region. */
int st_dbn_region(const st_dbn *m, uint32_t state);
/* 1-based beat number in the bar of a state. */
int st_dbn_beat_number(const st_dbn *m, uint32_t state);
/* Beat interval (frames) of a state. */
int st_dbn_state_interval(const st_dbn *m, uint32_t state);

/* What the processor decodes: beats with their number in the bar. */
typedef struct {
    int64_t n_beats;
    int64_t *frame;   /* frame index in the whole activation sequence */
    int *beat_number; /* 1 = downbeat */
    /* per beat: the sum over its beat-region frames of log(downbeat) -
     * log(beat) (activations floored at 1e-30), which is how much the path's
     * log-probability changes when that beat is made a downbeat or stops being
     * one: turning the bar (every beat's number moved by the same amount mod
     * beats_per_bar) changes the log-probability by the sum of the new
     * downbeats' evidence minus the old ones' (dsp/bar_phase.h) */
    double *downbeat_evidence;
    int winner;          /* index of the model that won, -1 when no beats */
    double *log_prob;    /* one per model (-inf for a model not run) */
    int64_t first_frame; /* first frame kept by the threshold */
} st_dbn_result;

/* DBNDownBeatTrackingProcessor.process: frames outside the first and last
 * rows with an activation >= threshold are cut (threshold 0: none), every
 * model decodes the rest (in parallel on up to n_threads threads), the one
 * with the highest log-probability wins, and with correct each run of
 * beat-region frames on its path gives one beat at the frame of the largest
 * activation. out is filled (free it with st_dbn_result_free). 0, or -1 when
 * memory is short. */
int st_dbn_decode(st_dbn *const *models, int n_models, const double *act, int64_t n_frames,
                  double threshold, int correct, int n_threads, st_dbn_result *out);
void st_dbn_result_free(st_dbn_result *r);

#endif
