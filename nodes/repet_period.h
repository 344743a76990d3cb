/* The repeating period that the REPET nodes share (repet, repet_mask,
 * repet_pitch): their parameters period, min_period and max_period in
 * seconds, made frames as nussl does (ceil(s / (hop / rate))), the search
 * capped at a third of the song. */
#ifndef ST_REPET_PERIOD_H
#define ST_REPET_PERIOD_H

#include "../vm/node.h"

/* The parameters repet, repet_mask and repet_audio share (one source for
 * their ranges and docs): the period and its search, the high-pass, the
 * mask and the model's quantile. */
/* (clang-format would scatter the initialiser list) */
// clang-format off
#define ST_REPET_PARAMS                                                                            \
    {"period", ST_P_NUMBER, .def = 0, .min = 0, .max = 3600,                                       \
     .doc = "the repeating period in seconds; 0 finds it in the beat spectrum"},                  \
    {"min_period", ST_P_NUMBER, .def = 0.8, .min = 0, .max = 3600,                                 \
     .doc = "shortest period searched, in seconds"},                                               \
    {"max_period", ST_P_NUMBER, .def = 8, .min = 0, .max = 3600,                                   \
     .doc = "longest period searched, in seconds (capped at a third of the duration)"},            \
    {"high_pass_hz", ST_P_NUMBER, .def = 100, .min = 0, .max = 100000,                             \
     .doc = "bins below the one nearest this frequency go to the background"},                    \
    {"mask", ST_P_STRING, .def_str = "soft", .choices = "soft|hard",                               \
     .doc = "soft: (min(model, |X|) + eps) / (|X| + eps), eps 1e-16; hard: 1 where that is at "    \
            "least threshold"},                                                                    \
    {"threshold", ST_P_NUMBER, .def = 0.5, .min = 0, .max = 1,                                     \
     .doc = "hard masks: the soft value from which a bin is background"},                          \
    {"quantile", ST_P_NUMBER, .def = 0.5, .min = 0, .max = 1,                                      \
     .doc = "the model is this quantile of the segments (0.5: the median, nussl's)"}
// clang-format on

/* seconds to frames of s, rounded up */
int64_t st_repet_frames(const st_spectrum *s, double seconds);
/* The longest lag searched, in frames: max_period capped at a third of the
 * duration. */
int64_t st_repet_max_lag(const st_spectrum *s, const st_params *p);
/* The lags a beat spectrum needs for the search: 0 .. max_lag, at least 1,
 * at most the frames. */
int64_t st_repet_n_lags(const st_spectrum *s, const st_params *p);
/* The period in frames: the given one, or where the beat spectrum (n_lags
 * values) peaks between min_period and the longest lag searched. -1, with
 * the node failed, when no lag lies in that range. */
int64_t st_repet_period(st_ctx *ctx, const st_spectrum *s, const st_params *p, const double *beat,
                        int64_t n_lags);
/* The node check: min_period above max_period, when the period is searched. */
int st_repet_check_periods(st_ctx *ctx, const st_params *p);

#endif
