/* Re-factorising a Tucker model's loop mode into parts. */
#ifndef ST_LOOP_PARTS_H
#define ST_LOOP_PARTS_H

#include <stdint.h>

/* The slices' content in the core's space, Y = D C^T (n_bars x n_cols, C's
 * loop mode last: core[c * rank + k], layout[b * rank + k]), as n_parts parts:
 * Y ~ A R with A in [0, 1] and an L1 weight sparsity x mean(Y) x n_bars on R,
 * multiplicative updates from `starts` seeded random starts of `iterations`
 * each, the lowest objective kept. Writes parts_core (n_cols x n_parts, the
 * same layout as core) and parts_layout (n_bars x n_parts). Returns 0, or -1
 * when out of memory. */
int st_loop_parts(const float *core, const float *layout, int n_cols, int64_t n_bars, int rank,
                  int n_parts, double sparsity, int starts, int iterations, float *parts_core,
                  float *parts_layout);

#endif
