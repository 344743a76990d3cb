/* The bar grid of a song, from its downbeats. */
#include "bars.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* the median spacing of n >= 2 sorted times (0 when memory is short) */
static double median_gap(const double *t, int64_t n)
{
    double *gaps = malloc((size_t)(n - 1) * sizeof *gaps), median = 0;
    if (!gaps) return 0;
    for (int64_t i = 0; i + 1 < n; i++)
        gaps[i] = t[i + 1] - t[i];
    qsort(gaps, (size_t)(n - 1), sizeof *gaps, compare_doubles);
    median = gaps[(n - 1) / 2];
    free(gaps);
    return median;
}

void st_bars_free(st_bars *bars)
{
    free(bars->start_s);
    memset(bars, 0, sizeof *bars);
}

int st_bars_from_events(st_ctx *ctx, const st_events *events, double duration_s, int period,
                        st_bars *bars)
{
    memset(bars, 0, sizeof *bars);
    int any_one = 0, all_zero = 1;
    for (int64_t i = 0; i < events->n_events; i++) {
        any_one |= events->label[i] == 1;
        all_zero &= events->label[i] == 0;
    }
    if (events->n_events == 0) return st_fail(ctx, "downbeats: none given (an empty beat list)");
    if (!any_one && !all_zero)
        return st_fail(ctx, "downbeats: none of the %lld beats is labelled 1 (a downbeat)",
                       (long long)events->n_events);
    int64_t n_down = 0;
    double *down = malloc((size_t)events->n_events * sizeof *down);
    if (!down) return st_fail(ctx, "out of memory");
    for (int64_t i = 0; i < events->n_events; i++) {
        if (!(all_zero || events->label[i] == 1)) continue;
        double t = events->time_s[i];
        if (!isfinite(t) || t < 0) {
            free(down);
            return st_fail(ctx, "downbeats: a downbeat at %g s", t);
        }
        if (n_down > 0 && t <= down[n_down - 1]) {
            double before = down[n_down - 1];
            free(down);
            return st_fail(ctx, "downbeats: %g s does not come after the downbeat before it (%g s)",
                           t, before);
        }
        if (t >= duration_s) {
            free(down);
            return st_fail(ctx,
                           "downbeats: a downbeat at %.3f s is beyond the end of the audio "
                           "(%.3f s)",
                           t, duration_s);
        }
        down[n_down++] = t;
    }
    /* units of `period` bars start at the song's first whole bar: the whole
     * bars that fit before the first downbeat (a tracker often misses the
     * first) are counted in, so that units keep the phase of the music */
    if (period > 1 && n_down >= 2) {
        double bar = median_gap(down, n_down);
        int64_t n_head = bar > 0 ? (int64_t)floor(down[0] / bar + 0.05) : 0;
        if (n_head > 0) {
            double *grown = realloc(down, (size_t)(n_down + n_head) * sizeof *down);
            if (!grown) {
                free(down);
                return st_fail(ctx, "out of memory");
            }
            down = grown;
            memmove(down + n_head, down, (size_t)n_down * sizeof *down);
            for (int64_t i = 0; i < n_head; i++)
                down[i] = fmax(0, down[n_head] - (double)(n_head - i) * bar);
            n_down += n_head;
        }
    }
    /* units of `period` bars: every period-th downbeat from the first */
    int64_t n_units = 0;
    for (int64_t i = 0; i < n_down; i += period)
        down[n_units++] = down[i];
    n_down = n_units;
    /* the median bar extends the grid past the first and last downbeats */
    double median = 0;
    if (n_down >= 2) {
        if (!((median = median_gap(down, n_down)) > 0)) {
            free(down);
            return st_fail(ctx, "out of memory");
        }
    } else {
        free(down);
        return st_fail(ctx,
                       "downbeats: one downbeat (at %g s) does not make a bar length; give "
                       "at least two",
                       events->time_s[0]);
    }
    /* bars before the first downbeat: median bars counted back from it, the
     * first cut at 0; after the last: median bars, the last cut at the end
     * (a tail under a twentieth of a bar joins the bar before it) */
    int64_t n_before = down[0] > 0 ? (int64_t)ceil(down[0] / median) : 0;
    double tail_start = down[n_down - 1];
    int64_t n_after = (int64_t)ceil((duration_s - tail_start) / median - 0.05);
    if (n_after < 1) n_after = 1; /* the last downbeat starts a bar */
    int64_t n = n_before + (n_down - 1) + n_after;
    if (n > 1000000) {
        free(down);
        return st_fail(ctx, "downbeats: %lld bars is more than a song holds", (long long)n);
    }
    double *block = malloc((size_t)n * 4 * sizeof *block);
    if (!block) {
        free(down);
        return st_fail(ctx, "out of memory");
    }
    bars->n_bars = (int)n;
    bars->start_s = block;
    bars->end_s = block + n;
    bars->virtual_start_s = block + 2 * n;
    bars->virtual_end_s = block + 3 * n;
    bars->median_bar_s = median;
    int64_t b = 0;
    for (int64_t i = n_before; i >= 1; i--, b++) {
        bars->virtual_start_s[b] = down[0] - i * median;
        bars->virtual_end_s[b] = down[0] - (i - 1) * median;
    }
    for (int64_t i = 0; i + 1 < n_down; i++, b++) {
        bars->virtual_start_s[b] = down[i];
        bars->virtual_end_s[b] = down[i + 1];
    }
    for (int64_t i = 0; i < n_after; i++, b++) {
        bars->virtual_start_s[b] = tail_start + i * median;
        bars->virtual_end_s[b] = tail_start + (i + 1) * median;
    }
    for (b = 0; b < n; b++) {
        bars->start_s[b] = bars->virtual_start_s[b] < 0 ? 0 : bars->virtual_start_s[b];
        bars->end_s[b] = bars->virtual_end_s[b];
    }
    bars->end_s[n - 1] = duration_s;
    if (bars->virtual_end_s[n - 1] < duration_s) bars->virtual_end_s[n - 1] = duration_s;
    free(down);
    int n_long = 0; /* bars of at least half the median length */
    for (b = 0; b < n; b++)
        n_long += bars->end_s[b] - bars->start_s[b] >= 0.5 * median;
    if (n_long < 2) {
        st_bars_free(bars);
        return st_fail(ctx, "the song (%.3f s) is shorter than two bars (%.3f s each)", duration_s,
                       median);
    }
    return ST_OK;
}
