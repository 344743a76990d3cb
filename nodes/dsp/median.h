/* Running medians with scipy.ndimage.median_filter's conventions: a window
 * of k values centred on the output (k / 2 before it), the value of rank
 * k / 2 in ascending order, and the `reflect` boundary (d c b a | a b c d). */
#ifndef ST_MEDIAN_H
#define ST_MEDIAN_H

/* Scratch for one row: create once per thread (may fail), reuse, destroy. */
typedef struct st_median st_median;

st_median *st_median_new(int max_len, int k);
void st_median_free(st_median *m);

/* y[i] = median of x around i, for i < n (n <= max_len). x and y may not overlap. */
void st_median_row(st_median *m, const float *x, int n, float *y);

#endif
