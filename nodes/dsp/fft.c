#include "fft.h"

#include <pthread.h>
#include <stdlib.h>

/* FFTW's planner is not thread safe; plans, once made, are shared. The list
 * grows as sizes appear (a process may use any number of sizes). */
static pthread_mutex_t planner_lock = PTHREAD_MUTEX_INITIALIZER;
static st_fft **plans;
static int n_plans, cap_plans;

void st_fft_planner_lock(void) { pthread_mutex_lock(&planner_lock); }
void st_fft_planner_unlock(void) { pthread_mutex_unlock(&planner_lock); }

/* FFTW_ESTIMATE chooses a plan from the size alone. FFTW_MEASURE times
 * candidates, so two fresh runs may choose different plans and round
 * differently (up to 1.5e-7 apart): same input, different bytes. The same
 * bytes every time are worth the slower transform; doc/performance.md has
 * the cost. No wisdom is read or written, for the same reason. */
#define PLAN_FLAGS FFTW_ESTIMATE

const st_fft *st_fft_get(int n_fft)
{
    const st_fft *found = NULL;
    pthread_mutex_lock(&planner_lock);
    for (int i = 0; i < n_plans && !found; i++)
        if (plans[i]->n_fft == n_fft) found = plans[i];
    if (!found && n_plans == cap_plans) {
        int cap = cap_plans ? 2 * cap_plans : 16;
        st_fft **grown = realloc(plans, (size_t)cap * sizeof *grown);
        if (grown) plans = grown, cap_plans = cap;
    }
    if (!found && n_plans < cap_plans) {
        st_fft *p = calloc(1, sizeof *p);
        float *real = fftwf_alloc_real((size_t)n_fft);
        fftwf_complex *spec = fftwf_alloc_complex((size_t)n_fft / 2 + 1);
        if (p && real && spec) {
            p->n_fft = n_fft;
            p->forward = fftwf_plan_dft_r2c_1d(n_fft, real, spec, PLAN_FLAGS);
            p->inverse = fftwf_plan_dft_c2r_1d(n_fft, spec, real, PLAN_FLAGS);
        }
        if (p && p->forward && p->inverse) {
            plans[n_plans++] = p;
            found = p;
        } else if (p) {
            if (p->forward) fftwf_destroy_plan(p->forward);
            if (p->inverse) fftwf_destroy_plan(p->inverse);
            free(p);
        }
        fftwf_free(real);
        fftwf_free(spec);
    }
    pthread_mutex_unlock(&planner_lock);
    return found;
}

void *st_fft_alloc(size_t bytes) { return fftwf_malloc(bytes); }
void st_fft_free(void *p) { fftwf_free(p); }

void st_fft_forward(const st_fft *fft, float *in, float complex *out)
{
    fftwf_execute_dft_r2c(fft->forward, in, (fftwf_complex *)out);
}

void st_fft_inverse(const st_fft *fft, float complex *in, float *out)
{
    fftwf_execute_dft_c2r(fft->inverse, (fftwf_complex *)in, out);
}
