/* The REPET nodes' period (repet_period.h). */
#include "repet_period.h"

#include "dsp/repet.h"

#include <math.h>

int64_t st_repet_frames(const st_spectrum *s, double seconds)
{
    return (int64_t)ceil(seconds / ((double)s->hop_samples / s->rate_hz));
}

int64_t st_repet_max_lag(const st_spectrum *s, const st_params *p)
{
    const double duration = (double)s->length_samples / s->rate_hz;
    return st_repet_frames(s, fmin(st_num(p, "max_period"), duration / 3));
}

int64_t st_repet_n_lags(const st_spectrum *s, const st_params *p)
{
    const int64_t max_lag = st_repet_max_lag(s, p);
    return max_lag + 1 > s->n_frames ? s->n_frames : max_lag < 1 ? 1 : max_lag + 1;
}

int64_t st_repet_period(st_ctx *ctx, const st_spectrum *s, const st_params *p, const double *beat,
                        int64_t n_lags)
{
    if (st_num(p, "period") > 0) return st_repet_frames(s, st_num(p, "period"));
    const int64_t lo = st_repet_frames(s, st_num(p, "min_period"));
    const int64_t period = st_repeating_period(beat, n_lags, lo, st_repet_max_lag(s, p));
    if (period < 0)
        st_fail(ctx,
                "no period to search between min_period = %g s and max_period = %g s (a third "
                "of the %.2f s duration caps it) in %lld frames",
                st_num(p, "min_period"), st_num(p, "max_period"),
                (double)s->length_samples / s->rate_hz, (long long)s->n_frames);
    return period;
}

int st_repet_check_periods(st_ctx *ctx, const st_params *p)
{
    if (st_num(p, "period") == 0 && st_num(p, "min_period") > st_num(p, "max_period"))
        return st_fail(ctx, "parameter min_period = %g s is above max_period = %g s",
                       st_num(p, "min_period"), st_num(p, "max_period"));
    return ST_OK;
}
