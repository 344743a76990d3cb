/* Joining the loop types of a Tucker model by the energy the joining costs. */
#ifndef ST_LOOP_GROUPS_H
#define ST_LOOP_GROUPS_H

#include <stdint.h>

/* Joins loop types, the pair that costs the model the least energy first,
 * until n_groups remain (or, with n_groups = 0, while a joining loses less
 * than join_below of the model's energy). Joining the types S replaces their
 * part of the model, L_S D_S^T, in the bars of each phase of the cycle (bar b
 * is in phase b mod period), by its best rank-one approximation: the loss is
 * tr(G_L G_D) - lambda_max(G_L G_D) over S. lt: n_cells x rank templates of
 * every type (row-major); d: n_bars x rank activations. Writes group[k] in
 * 0..n-1 (numbered by first member); returns n, or -1 when out of memory. */
int st_group_by_energy(const float *lt, const float *d, int64_t n_cells, int64_t n_bars, int rank,
                       int period, int n_groups, double join_below, int *group);

/* Average-linkage clustering on a likeness matrix (rank x rank, symmetric;
 * overwritten): joins the most alike pair until n_groups remain (or, with
 * n_groups = 0, while the most alike pair is above join_above). Writes
 * group[k] in 0..n-1 (numbered by first member); returns n. size: rank ints
 * of scratch. */
int st_average_linkage(double *alike, int rank, int n_groups, double join_above, int *group,
                       int *size);

/* Renumbers group[k] (each a representative type in 0..rank-1) to 0..n-1 in
 * the order of the groups' first members; returns n. scratch: rank ints. */
int st_number_groups(int *group, int rank, int *scratch);

#endif
