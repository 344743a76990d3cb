#include "fft.h"

#include "../../vm/cache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define MAX_PLANS 64

static pthread_mutex_t planner_lock = PTHREAD_MUTEX_INITIALIZER;
static st_fft *plans[MAX_PLANS];
static int n_plans;

void st_fft_planner_lock(void) { pthread_mutex_lock(&planner_lock); }
void st_fft_planner_unlock(void) { pthread_mutex_unlock(&planner_lock); }

/* FFTW_MEASURE takes a third of a second for n_fft 2048; its findings
 * ("wisdom") are kept beside the result cache so that only the first run
 * on a machine pays. Written to a temporary file and renamed, like results. */
static int wisdom_loaded;

static void wisdom_path(char *buf, size_t size)
{
    const char *dir = st_cache_dir();
    snprintf(buf, size, "%s/fftw-wisdom", dir ? dir : ".");
}

static void load_wisdom(void)
{
    char path[4200];
    wisdom_loaded = 1;
    if (!st_cache_dir()) return;
    wisdom_path(path, sizeof path);
    fftwf_import_wisdom_from_filename(path);
}

static void save_wisdom(void)
{
    char path[4200], tmp[4300];
    if (st_cache_make_dir()) return;
    wisdom_path(path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    if (fftwf_export_wisdom_to_filename(tmp) && rename(tmp, path) == 0) return;
    unlink(tmp);
}

const st_fft *st_fft_get(int n_fft)
{
    const st_fft *found = NULL;
    pthread_mutex_lock(&planner_lock);
    if (!wisdom_loaded) load_wisdom();
    for (int i = 0; i < n_plans && !found; i++)
        if (plans[i]->n_fft == n_fft) found = plans[i];
    if (!found && n_plans < MAX_PLANS) {
        st_fft *p = calloc(1, sizeof *p);
        float *real = fftwf_alloc_real((size_t)n_fft);
        fftwf_complex *spec = fftwf_alloc_complex((size_t)n_fft / 2 + 1);
        if (p && real && spec) {
            p->n_fft = n_fft;
            p->forward = fftwf_plan_dft_r2c_1d(n_fft, real, spec, FFTW_MEASURE);
            p->inverse = fftwf_plan_dft_c2r_1d(n_fft, spec, real, FFTW_MEASURE);
        }
        if (p && p->forward && p->inverse) {
            plans[n_plans++] = p;
            found = p;
            save_wisdom();
        } else {
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
