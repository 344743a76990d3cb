/* Splitting each part of a loop model in two by what differs between the
 * slices it plays in. */
#ifndef ST_PART_SPLIT_H
#define ST_PART_SPLIT_H

#include <stdint.h>

/* x: the cube, n_cells x n_bars (cell c, slice b at c * n_bars + b); lt:
 * n_cells x n parts' templates; d: n_bars x n activations. Part j's share of
 * the cube, V = x * lt_j d_j^T / (L D^T) (its Wiener share), is started as
 * two components by NNDSVD (Boutsidis & Gallopoulos; without the fill): its
 * leading singular pair made non-negative, and the dominant sign of the
 * second pair, the direction in which its slices differ most. Writes lt2
 * (n_cells x 2n: part j's components at 2j and 2j + 1) and d2 (n_bars x 2n).
 * Returns 0, or -1 when out of memory or when LAPACK fails. */
int st_split_parts(const float *x, const float *lt, const float *d, int64_t n_cells, int64_t n_bars,
                   int n, const int *split, int n_out, float *lt2, float *d2, int *twin);

#endif
