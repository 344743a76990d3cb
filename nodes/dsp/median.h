/* Running medians with scipy.ndimage.median_filter's conventions: a window
 * of k values centred on the output (k / 2 before it), the value of rank
 * k / 2 in ascending order, and the `reflect` boundary (d c b a | a b c d). */
#ifndef ST_MEDIAN_H
#define ST_MEDIAN_H

#include <stddef.h>

/* The k-th smallest (0-based) of a[0..n-1], found in place by quickselect:
 * a is reordered so that it stands at a[k], no larger value before it and
 * no smaller after. No allocation: fit for real-time paths. */
float st_select_kth(float *a, int n, int k);

/* Scratch for one thread: create once (may fail), reuse, destroy. Filtering
 * allocates nothing (the streaming HPSS runs it in the audio callback). */
typedef struct st_median st_median;

st_median *st_median_new(int max_len, int k);
void st_median_free(st_median *m);

/* Filters up to 8 sequences at once (one per SIMD lane). Element t of
 * sequence l is x[t * step + l * lane_step]; the medians are written to y in
 * the same layout; n <= max_len. */
void st_median_lanes(st_median *m, const float *x, ptrdiff_t step, ptrdiff_t lane_step, int n,
                     int n_lanes, float *y);

#endif
