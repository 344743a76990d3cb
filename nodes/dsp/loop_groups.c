/* Joining the loop types of a Tucker model by the energy the joining costs
 * the model (loops' group = "energy"). Numerics only: the loops node calls it. */
#include "loop_groups.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>

/* The largest eigenvalue of A = G_L[S] G_D[S] (both Gram matrices positive
 * semi-definite, so its eigenvalues are real and non-negative), by power
 * iteration: the energy of the best one-activation model of the group. */
static double top_eigenvalue(const double *gl, const double *gd, int rank, const int *members,
                             int n, double *v, double *w)
{
    for (int i = 0; i < n; i++)
        v[i] = 1.0;
    double lambda = 0;
    for (int it = 0; it < 500; it++) {
        double norm = 0;
        for (int i = 0; i < n; i++) { /* w = G_D v */
            w[i] = 0;
            for (int j = 0; j < n; j++)
                w[i] += gd[members[i] * rank + members[j]] * v[j];
        }
        for (int i = 0; i < n; i++) { /* v' = G_L w */
            double s = 0;
            for (int j = 0; j < n; j++)
                s += gl[members[i] * rank + members[j]] * w[j];
            norm += s * s;
            w[n + i] = s;
        }
        norm = sqrt(norm);
        double vnorm = 0;
        for (int i = 0; i < n; i++)
            vnorm += v[i] * v[i];
        double next = norm / sqrt(vnorm);
        if (norm <= 0) return 0;
        for (int i = 0; i < n; i++)
            v[i] = w[n + i] / norm;
        if (fabs(next - lambda) <= 1e-12 * next) return next;
        lambda = next;
    }
    return lambda;
}

/* What the model loses when the loop types in S must play as one loop: the
 * group's part of the model, L_S D_S^T (cells x bars), is replaced, in the
 * bars of each phase of the loop's cycle (bar b is in phase b mod period), by
 * its best rank-one approximation (one template per phase, one activation).
 * The energy there is tr(G_L G_D) over S, of which the rank-one part keeps the
 * largest eigenvalue of G_L[S] G_D[S]; gd holds one G_D per phase. */
static double group_loss(const double *gl, const double *gd, int rank, int period,
                         const int *members, int n, double *scratch)
{
    double lost = 0;
    for (int p = 0; p < period; p++) {
        const double *g = gd + (size_t)p * rank * rank;
        double total = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                total += gl[members[i] * rank + members[j]] * g[members[i] * rank + members[j]];
        lost += fmax(0, total - top_eigenvalue(gl, g, rank, members, n, scratch, scratch + n));
    }
    return lost;
}

int st_group_by_energy(const float *lt, const float *d, int64_t n_cells, int64_t n_bars, int rank,
                       int period, int n_groups, double join_below, int *group)
{
    double *gl = calloc((size_t)rank * rank, sizeof *gl);
    double *gd = calloc((size_t)period * rank * rank, sizeof *gd);
    double *loss = calloc((size_t)rank, sizeof *loss);
    int *members = malloc((size_t)rank * sizeof *members),
        *alive = malloc((size_t)rank * sizeof *alive);
    double *scratch = malloc((size_t)3 * rank * sizeof *scratch);
    float *gram = malloc((size_t)rank * rank * sizeof *gram);
    int n = -1;
    if (!gl || !gd || !loss || !members || !alive || !scratch || !gram) goto done;
    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, rank, (int)n_cells, 1, lt, rank, 0, gram,
                rank);
    for (int i = 0; i < rank; i++)
        for (int j = i; j < rank; j++)
            gl[i * rank + j] = gl[j * rank + i] = gram[i * rank + j];
    for (int i = 0; i < rank; i++)
        for (int j = 0; j < rank; j++)
            for (int64_t b = 0; b < n_bars; b++)
                gd[(b % period) * rank * rank + i * rank + j] +=
                    (double)d[b * rank + i] * d[b * rank + j];
    double energy = 0;
    for (int i = 0; i < period * rank * rank; i++)
        energy += gl[i % (rank * rank)] * gd[i];
    for (int k = 0; k < rank; k++)
        group[k] = k, alive[k] = 1, loss[k] = 0;
    n = rank;
    while (n > 1 && (n_groups == 0 || n > n_groups)) {
        int bi = -1, bj = -1;
        double best = HUGE_VAL;
        for (int i = 0; i < rank; i++)
            for (int j = i + 1; j < rank; j++) {
                if (!alive[i] || !alive[j]) continue;
                int m = 0;
                for (int k = 0; k < rank; k++)
                    if (group[k] == i || group[k] == j) members[m++] = k;
                double cost =
                    group_loss(gl, gd, rank, period, members, m, scratch) - loss[i] - loss[j];
                if (cost < best) best = cost, bi = i, bj = j;
            }
        if (n_groups == 0 && best > join_below * energy) break;
        for (int k = 0; k < rank; k++)
            if (group[k] == bj) group[k] = bi;
        alive[bj] = 0, loss[bi] += loss[bj] + best;
        n--;
    }
    n = st_number_groups(group, rank, alive);
done:
    free(gl), free(gd), free(loss), free(members), free(alive), free(scratch), free(gram);
    return n;
}

int st_average_linkage(double *alike, int rank, int n_groups, double join_above, int *group,
                       int *size)
{
    for (int k = 0; k < rank; k++)
        group[k] = k, size[k] = 1;
    /* clusters are named by a member; likeness between clusters is the mean over pairs */
    int n = rank;
    while (n > 1 && (n_groups == 0 || n > n_groups)) {
        int bi = -1, bj = -1;
        double best = -2;
        /* a NaN likeness (a model with NaN in it) counts as -1, the least a
         * likeness can be, so that a pair is always found */
        for (int i = 0; i < rank; i++)
            for (int j = i + 1; j < rank; j++) {
                const double s = isnan(alike[i * rank + j]) ? -1 : alike[i * rank + j];
                if (size[i] && size[j] && s > best) best = s, bi = i, bj = j;
            }
        if (n_groups == 0 && best <= join_above) break;
        for (int k = 0; k < rank; k++) { /* join bj into bi */
            if (k == bi || !size[k]) continue;
            double joined = (alike[bi * rank + k] * size[bi] + alike[bj * rank + k] * size[bj]) /
                            (size[bi] + size[bj]);
            alike[bi * rank + k] = alike[k * rank + bi] = joined;
        }
        for (int k = 0; k < rank; k++)
            if (group[k] == bj) group[k] = bi;
        size[bi] += size[bj], size[bj] = 0;
        n--;
    }
    return st_number_groups(group, rank, size);
}

int st_number_groups(int *group, int rank, int *scratch)
{
    int *name = scratch; /* group representative -> group number */
    for (int k = 0; k < rank; k++)
        name[k] = -1;
    int next = 0;
    for (int k = 0; k < rank; k++) {
        if (name[group[k]] < 0) name[group[k]] = next++;
        group[k] = name[group[k]];
    }
    return next;
}
