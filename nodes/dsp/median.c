#include "median.h"

#include "../../vm/simd.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LANES 8
typedef float v8f __attribute__((vector_size(32)));
typedef int v8i __attribute__((vector_size(32)));
/* a where the mask is set, else b */
#define SELECT(mask, a, b) ((v8f)(((v8i)(a) & (mask)) | ((v8i)(b) & ~(mask))))

/* Owns its buffers. */
struct st_median {
    int k, max_len;
    v8f *ext;     /* the sequences, interleaved, with k - 1 reflected values around them */
    v8f *out;     /* the medians, interleaved */
    v8f *window;  /* a ring of k */
    float *first; /* k values: the first window of one lane, for its first median */
};

st_median *st_median_new(int max_len, int k)
{
    st_median *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->k = k;
    m->max_len = max_len;
    m->ext = aligned_alloc(32, ((size_t)max_len + (size_t)k) * sizeof *m->ext);
    m->out = aligned_alloc(32, ((size_t)max_len + 1) * sizeof *m->out);
    m->window = aligned_alloc(32, ((size_t)k + 1) * sizeof *m->window);
    m->first = malloc((size_t)k * sizeof *m->first);
    if (!m->ext || !m->out || !m->window || !m->first) {
        st_median_free(m);
        return NULL;
    }
    return m;
}

void st_median_free(st_median *m)
{
    if (!m) return;
    free(m->ext);
    free(m->out);
    free(m->window);
    free(m->first);
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

float st_select_kth(float *a, int n, int k)
{
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        float x = a[lo], y = a[(lo + hi) / 2], z = a[hi]; /* median of three as pivot */
        float pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
        int i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i <= j) {
                float t = a[i];
                a[i++] = a[j];
                a[j--] = t;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            break;
    }
    return a[k];
}

/* The window slides one value at a time, unsorted in a ring; each lane
 * tracks its median m with lt = #(window < m) and le = #(window <= m): m is
 * right while lt <= rank < le. One value out and one in move the rank by at
 * most one place, so the new median is m, the largest value below it or the
 * smallest above it; all three are found for every lane at once with
 * branch-free vector operations. No sort per element. */
ST_CLONES_AVX2 static void slide(const v8f *ext, int n, int k, v8f *y, v8f *w, const v8f *first)
{
    const int rank = k / 2;
    const v8i vrank = {rank, rank, rank, rank, rank, rank, rank, rank};
    const v8f inf = {INFINITY, INFINITY, INFINITY, INFINITY,
                     INFINITY, INFINITY, INFINITY, INFINITY};
    v8f med = *first;
    v8i lt = {0}, le = {0};
    for (int j = 0; j < k; j++) {
        w[j] = ext[j];
        lt -= w[j] < med; /* a true comparison is -1 */
        le -= w[j] <= med;
    }
    y[0] = med;
    for (int i = 1, slot = 0; i < n; i++, slot = slot + 1 == k ? 0 : slot + 1) {
        v8f out = ext[i - 1], in = ext[i + k - 1];
        w[slot] = in; /* ext[i - 1] sat in slot (i - 1) mod k */
        lt += (out < med) - (in < med);
        le += (out <= med) - (in <= med);
        v8i down = lt > vrank, up = le <= vrank;
        v8f below = -inf, above = inf;
        for (int j = 0; j < k; j++) {
            v8f v = w[j];
            below = SELECT((v < med) & (v > below), v, below);
            above = SELECT((v > med) & (v < above), v, above);
        }
        med = SELECT(down, below, SELECT(up, above, med));
        lt = le = (v8i){0};
        for (int j = 0; j < k; j++) {
            lt -= w[j] < med;
            le -= w[j] <= med;
        }
        y[i] = med;
    }
}

void st_median_lanes(st_median *m, const float *x, ptrdiff_t step, ptrdiff_t lane_step, int n,
                     int n_lanes, float *y)
{
    const int k = m->k, before = k / 2;
    v8f first;
    for (int l = 0; l < LANES; l++) {
        const float *seq = x + (l < n_lanes ? l : n_lanes - 1) * lane_step; /* spare lanes repeat */
        for (int j = 0; j < n + k - 1; j++) {
            int t = j - before;
            m->ext[j][l] = seq[(t >= 0 && t < n ? t : reflect(t, n)) * step];
        }
        for (int j = 0; j < k; j++)
            m->first[j] = m->ext[j][l];
        first[l] = st_select_kth(m->first, k, k / 2);
    }
    slide(m->ext, n, k, m->out, m->window, &first);
    for (int l = 0; l < n_lanes; l++)
        for (int t = 0; t < n; t++)
            y[t * step + l * lane_step] = m->out[t][l];
}
