/* A Tucker model of a song's cube in which each loop type owns a whole cycle
 * of P slices: one template per phase of the cycle and one activation per
 * cycle.
 *
 *   X[:, :, b] ~ sum_l A[c(b), l] W G[:, :, q(b), l] H^T
 *
 * with slice b in cycle c(b) = b / P at phase q(b) = b mod P. It is the
 * four-way non-negative Tucker model freq x time-in-slice x phase x cycle
 * whose phase factor is the identity (each loop type keeps its own template
 * for every phase), fitted on the three-way cube as it is (a last cycle with
 * fewer than P slices simply has fewer terms). With P = 1 it is the Tucker
 * model of dsp/tucker.h, and its updates are the same.
 *
 * Staggered cycles (stagger = 1): loop type l's cycles start at the slices b
 * with (b + l) mod P = 0 instead of at b mod P = 0, so that for a loop that
 * starts or stops at any slice some types' cycles line up with it; slice b
 * is then in type l's cycle c_l(b) = (b + l mod P) / P, and still uses the
 * template of phase b mod P. With stagger = 0 every type's cycles start at
 * slice 0.
 *
 * Slice types (slice_types = n): the last n loop types own one slice
 * instead of a cycle: an activation per slice and one template for every
 * phase (the core's phases of such a type are one value, updated as one).
 * The model can then choose, loop by loop, between a loop of one slice that
 * may start anywhere and a loop of a whole cycle.
 */
#ifndef ST_CYCLE_TUCKER_H
#define ST_CYCLE_TUCKER_H

#include <stdint.h>

#include "tucker.h"

/* Owned by its maker (st_cycle_tucker_new); row-major, double. */
typedef struct {
    int64_t n_bins, n_time, n_bars; /* the cube: freq x time x slice */
    int period;                     /* P: slices in a cycle */
    int stagger;                    /* 1: type l's cycles start at slices -l mod P */
    int slice_types;                /* the last this many types own one slice, not a cycle */
    int64_t n_cycles;               /* the most cycles any type has */
    int rank[3];                    /* sound, rhythm, loop types */
    double *sound;                  /* n_bins x rank[0]: W */
    double *rhythm;                 /* n_time x rank[1]: H */
    double *cycle;                  /* n_cycles x rank[2]: A[c, l], type l's c-th cycle */
    double *core;                   /* rank[0] x rank[1] x P x rank[2]: G */
} st_cycle_tucker;

/* A zeroed model; NULL when memory is short or a size is not positive. */
st_cycle_tucker *st_cycle_tucker_new(const int64_t shape[3], int period, int stagger,
                                     int slice_types, const int rank[3]);

/* The cycle of loop type l that slice b is in. */
static inline int64_t st_cycle_of(const st_cycle_tucker *m, int64_t b, int l)
{
    if (l >= m->rank[2] - m->slice_types) return b;
    return (b + (m->stagger ? l % m->period : 0)) / m->period;
}
void st_cycle_tucker_free(st_cycle_tucker *m);

/* The start from a three-way Tucker start t of the same cube and ranks (its
 * SVD start, dsp/tucker.h): W and H as they are, A[c, l] the mean of t's
 * layout over the slices of cycle c, and G the projection of the cube,
 * G[:, :, q, l] = sum over slices b of phase q of A[c(b), l] W^T X_b H (with
 * P = 1 that is t's own core). ST_OK, or -1 when memory is short. */
int st_cycle_tucker_init_from(st_cycle_tucker *m, const float *x, const st_tucker *t,
                              int n_threads);

/* Seeded uniform [0, 1) factors and core + 0.01, as st_tucker_init_random. */
void st_cycle_tucker_init_random(st_cycle_tucker *m, uint64_t seed);

/* Multiplicative updates for the Frobenius error (Kim & Choi's, as
 * dsp/tucker.c runs them): W, H, A, then G, each from the others' newest
 * values, numerator and denominator clipped at 1e-11 separately. Stops after
 * max_iterations, or when the relative error changes by less than tol from
 * the third iteration on. errors receives ||X - model|| / ||X|| after each
 * iteration (room for max_iterations). Returns the iterations run, or -1
 * when memory is short. */
int st_cycle_tucker_fit(st_cycle_tucker *m, const float *x, int max_iterations, double tol,
                        int n_threads, void (*progress)(void *data, int iteration, double error),
                        void *progress_data, double *errors);

#endif
