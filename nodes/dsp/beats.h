/* Beat-tracking metrics as mir_eval.beat computes them (Davies, Degara and
 * Plumbley 2009), each kept to mir_eval's arithmetic and edge cases. Times
 * are in seconds, ascending. */
#ifndef ST_BEATS_H
#define ST_BEATS_H

#include <stddef.h>

typedef struct {
    double f_measure, cemgil, cemgil_best, goto_score, p_score;
    double cmlc, cmlt, amlc, amlt, information_gain;
} st_beat_scores;

typedef struct {
    double f_measure_window;                    /* 0.07 s */
    double cemgil_sigma;                        /* 0.04 s */
    double goto_threshold, goto_mu, goto_sigma; /* 0.35, 0.2, 0.2 */
    double p_score_threshold;                   /* 0.2 */
    double continuity_phase, continuity_period; /* 0.175, 0.175 */
    int information_bins;                       /* 41 */
} st_beat_options;

extern const st_beat_options st_beat_defaults;

/* mir_eval's largest beat time (util.validate_events): a larger one is
 * taken for samples or milliseconds, not seconds. */
#define ST_BEAT_MAX_TIME_S 30000.0

/* Checks times as mir_eval.beat.validate does, and more: finite, not
 * negative, at most ST_BEAT_MAX_TIME_S, strictly increasing (a repeated beat
 * is refused: it breaks the P-score's median interval). 0, or -1 with the
 * reason (naming the index from 1) in why. */
int st_beat_times_check(const double *t, int n, char *why, size_t why_size);

/* 0, or -1 when memory is short. */
int st_beat_scores_compute(const double *ref, int n_ref, const double *est, int n_est,
                           const st_beat_options *o, st_beat_scores *out);

/* F-measure alone (for downbeats too): the largest one-to-one matching within window. */
double st_beat_f_measure(const double *ref, int n_ref, const double *est, int n_est, double window);

#endif
