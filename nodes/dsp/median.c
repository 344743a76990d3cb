#include "median.h"

#include <stdlib.h>
#include <string.h>

/* Owns its buffers. */
struct st_median {
    int k, max_len;
    float *ext;    /* the row with k - 1 reflected values around it */
    float *sorted; /* the window, kept sorted */
};

st_median *st_median_new(int max_len, int k)
{
    st_median *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->k = k;
    m->max_len = max_len;
    m->ext = malloc(((size_t)max_len + (size_t)k) * sizeof *m->ext);
    m->sorted = malloc((size_t)k * sizeof *m->sorted);
    if (!m->ext || !m->sorted) {
        st_median_free(m);
        return NULL;
    }
    return m;
}

void st_median_free(st_median *m)
{
    if (!m) return;
    free(m->ext);
    free(m->sorted);
    free(m);
}

/* scipy's reflect: the sequence mirrored about its edges, with period 2n */
static int reflect(int i, int n)
{
    int period = 2 * n;
    i %= period;
    if (i < 0) i += period;
    return i < n ? i : period - 1 - i;
}

/* First position whose value is >= v. */
static int lower_bound(const float *a, int n, float v)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (a[mid] < v) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static int compare_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* The window slides one value at a time: the leaving value is found by
 * binary search and removed, the entering one inserted, each a short
 * memmove; O(k) per output with a small constant, no sort per element. */
void st_median_row(st_median *m, const float *x, int n, float *y)
{
    const int k = m->k, before = k / 2, rank = k / 2;
    float *ext = m->ext, *w = m->sorted;
    for (int j = 0; j < n + k - 1; j++) ext[j] = x[reflect(j - before, n)];
    memcpy(w, ext, (size_t)k * sizeof *w);
    qsort(w, (size_t)k, sizeof *w, compare_float);
    y[0] = w[rank];
    for (int i = 1; i < n; i++) {
        float out = ext[i - 1], in = ext[i + k - 1];
        if (out != in) {
            int a = lower_bound(w, k, out);
            int b = lower_bound(w, k, in);
            if (b > a) { /* shift the stretch between down by one */
                memmove(w + a, w + a + 1, (size_t)(b - 1 - a) * sizeof *w);
                w[b - 1] = in;
            } else {     /* shift it up by one */
                memmove(w + b + 1, w + b, (size_t)(a - b) * sizeof *w);
                w[b] = in;
            }
        }
        y[i] = w[rank];
    }
}
