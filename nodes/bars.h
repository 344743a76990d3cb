/* The bar grid of a song: bar boundaries from downbeats, extended before the
 * first and after the last downbeat by the median bar, for the cube node. It
 * reads events and fails through the node context, so it lives beside the
 * nodes, not in nodes/dsp/ (numerics only). */
#ifndef ST_BARS_H
#define ST_BARS_H

#include "../vm/node.h"

/* Bar b covers [start_s[b], end_s[b]) of the audio; virtual_start_s[b] and
 * virtual_end_s[b] are where it would start and end if the song did not cut
 * it (they differ from start/end only for the partial first and last bars).
 * Owned by the caller: st_bars_free. */
typedef struct {
    int n_bars;
    double *start_s, *end_s;
    double *virtual_start_s, *virtual_end_s;
    double median_bar_s;
} st_bars;

/* Bars from the downbeats (label 1; every event when no label is 1 and all
 * are 0) of a song duration_s long; with period > 1, units of that many bars
 * (every period-th downbeat from the first). Fails with a message on unsorted
 * or missing downbeats, downbeats beyond the end or fewer than two bars. */
int st_bars_from_events(st_ctx *ctx, const st_events *events, double duration_s, int period,
                        st_bars *bars);
void st_bars_free(st_bars *bars);

#endif
