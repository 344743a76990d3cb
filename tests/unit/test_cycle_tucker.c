/* The cycle model (nodes/dsp/cycle_tucker.c): with one slice per cycle it is
 * the Tucker model, and its errors agree with dsp/tucker.c's MU from the
 * same start; with two its error never increases; and a two-slice loop
 * costs it one loop type where the Tucker model needs two. */
#include "../../nodes/dsp/cycle_tucker.h"
#include "../../nodes/dsp/rng.h"
#include "check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { F = 40, T = 12, B = 11 };

/* A cube made of: a "drone" whose two phases (even and odd slices) sound
 * different bins and frames, in every slice; a one-slice loop in slices
 * 4..9; and a little uniform noise. */
static void cube_of_loops(float *x, double noise, uint64_t seed)
{
    uint64_t state = st_rng_seed(seed, 1);
    for (int f = 0; f < F; f++)
        for (int t = 0; t < T; t++)
            for (int b = 0; b < B; b++) {
                double v = noise * st_rng_uniform(&state);
                if (b % 2 == 0 && f < 10 && t % 4 == 0) v += 1.0 + 0.1 * f;
                if (b % 2 == 1 && f >= 10 && f < 20 && t % 3 == 1) v += 2.0 - 0.05 * f;
                if (b >= 4 && b <= 9 && f >= 25 && t % 2 == 0) v += 0.8;
                x[(f * T + t) * B + b] = (float)v;
            }
}

static int svd_start(st_tucker **t, const float *x, int rank_loops)
{
    int64_t shape[3] = {F, T, B};
    int rank[3] = {6, 4, rank_loops};
    char why[200];
    *t = st_tucker_new(shape, rank);
    return *t && st_tucker_init_svd(*t, x, 2, why, sizeof why) == 0 ? 0 : -1;
}

/* stagger: 1 staggers the cycles, and stagger / 2 types are slice types */
static int cycle_fit(const float *x, const st_tucker *start, int period, int stagger,
                     int iterations, double *errors)
{
    int64_t shape[3] = {F, T, B};
    st_cycle_tucker *m = st_cycle_tucker_new(shape, period, stagger % 2, stagger / 2, start->rank);
    int done = -1;
    if (m && st_cycle_tucker_init_from(m, x, start, 2) == 0)
        done = st_cycle_tucker_fit(m, x, iterations, 0, 2, NULL, NULL, errors);
    st_cycle_tucker_free(m);
    return done;
}

void test_cycle_tucker(void)
{
    float *x = malloc(sizeof(float) * F * T * B);
    double tucker_errors[200], cycle_errors[200]; /* room for the longest fit below */
    st_tucker *t = NULL;
    cube_of_loops(x, 0.6, 1);
    int ok = x && svd_start(&t, x, 3) == 0;
    CHECK("cycle model: an SVD start of the test cube", ok, "no start");
    if (!ok) goto done;

    /* one slice per cycle: dsp/tucker.c's MU from the same start */
    st_tucker_options o = {
        .algorithm = ST_TUCKER_MU, .max_iterations = 40, .tol = 0, .n_threads = 2};
    int64_t shape[3] = {F, T, B};
    st_tucker *copy = st_tucker_new(shape, t->rank);
    memcpy(copy->core, t->core, sizeof(double) * 6 * 4 * 3);
    for (int n = 0; n < 3; n++)
        memcpy(copy->factor[n], t->factor[n], sizeof(double) * (size_t)(shape[n] * t->rank[n]));
    int n_tucker = st_tucker_fit(copy, x, &o, tucker_errors);
    int n_cycle = cycle_fit(x, t, 1, 0, 40, cycle_errors);
    double worst = 0;
    for (int i = 0; i < 40 && n_tucker == 40 && n_cycle == 40; i++)
        worst = fmax(worst, fabs(tucker_errors[i] - cycle_errors[i]));
    CHECK("cycle model, period 1: every iteration's error within 1e-6 of the Tucker MU's",
          n_tucker == 40 && n_cycle == 40 && worst < 1e-6 && tucker_errors[39] > 0.1,
          "iterations %d / %d, largest difference %g, last error %g", n_tucker, n_cycle, worst,
          tucker_errors[39]);
    st_tucker_free(copy);
    /* every type a slice type (2 x 3 = 6: no stagger, 3 slice types): the three-way model again */
    double all_slice[40];
    int n_slice = cycle_fit(x, t, 2, 6, 40, all_slice);
    worst = 0;
    for (int i = 0; i < 40 && n_slice == 40; i++)
        worst = fmax(worst, fabs(all_slice[i] - cycle_errors[i]));
    CHECK("cycle model, period 2 with every type a slice type: the errors of period 1 (1e-6)",
          n_slice == 40 && worst < 1e-6, "iterations %d, largest difference %g", n_slice, worst);

    /* two slices per cycle (the last cycle has one): the error never increases */
    for (int stagger = 0; stagger < 4; stagger += 1 + (stagger == 1)) { /* 0, 1, 3 */
        n_cycle = cycle_fit(x, t, 2, stagger, 40, cycle_errors);
        int rises = 0;
        for (int i = 1; i < n_cycle; i++)
            rises += cycle_errors[i] > cycle_errors[i - 1] * (1 + 1e-12);
        CHECK(stagger == 3
                  ? "cycle model, period 2, staggered, a slice type: the error never increases"
              : stagger == 1 ? "cycle model, period 2, staggered cycles: the error never increases"
                             : "cycle model, period 2: the error never increases",
              n_cycle == 40 && rises == 0, "iterations %d, %d rises, errors %g .. %g", n_cycle,
              rises, cycle_errors[0], cycle_errors[n_cycle > 0 ? n_cycle - 1 : 0]);
    }
    st_tucker_free(t);

    /* two loop types: the drone's two phases are one type of the cycle model,
     * while the Tucker model must spend two types on them */
    cube_of_loops(x, 0.02, 2);
    if (svd_start(&t, x, 2)) goto done;
    int n2 = cycle_fit(x, t, 2, 0, 200, cycle_errors);
    int n1 = cycle_fit(x, t, 1, 0, 200, tucker_errors);
    double e2 = n2 > 0 ? cycle_errors[n2 - 1] : 1, e1 = n1 > 0 ? tucker_errors[n1 - 1] : 0;
    CHECK("cycle model: a two-slice drone and a loop fit in two loop types at period 2 only",
          e2 < 0.05 && e1 > 2 * e2, "error with period 2: %g, with period 1: %g", e2, e1);
done:
    st_tucker_free(t);
    free(x);
}
