/* The repeating period that the REPET nodes share (repet, repet_mask,
 * repet_pitch): their parameters period, min_period and max_period in
 * seconds, made frames as nussl does (ceil(s / (hop / rate))), the search
 * capped at a third of the song. */
#ifndef ST_REPET_PERIOD_H
#define ST_REPET_PERIOD_H

#include "../vm/node.h"

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
