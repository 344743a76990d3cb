/* FFTW single-precision plans, made once per size and reused.
 *
 * Plans are made with FFTW_ESTIMATE on first use, so that the same input
 * always gives the same bytes, and kept for the life of the process (FFTW's
 * planner is not thread safe; a lock guards it). Executing a
 * plan on other arrays is thread safe, provided they come from
 * st_fft_alloc (FFTW's alignment). */
#ifndef ST_FFT_H
#define ST_FFT_H

#include <complex.h>
#include <fftw3.h>

typedef struct {
    int n_fft;
    fftwf_plan forward; /* real n_fft -> complex n_fft/2+1 */
    fftwf_plan inverse; /* complex n_fft/2+1 -> real n_fft, unnormalised; destroys its input */
} st_fft;

/* The plans for n_fft, or NULL when memory is short. */
const st_fft *st_fft_get(int n_fft);

/* FFTW's planners (single and double precision) are not thread safe: code
 * that makes or destroys its own plans (bss.c) holds this one lock, which
 * st_fft_get holds too. Never on a real-time path. */
void st_fft_planner_lock(void);
void st_fft_planner_unlock(void);

void *st_fft_alloc(size_t bytes);
void st_fft_free(void *p);

void st_fft_forward(const st_fft *fft, float *in, float complex *out);
void st_fft_inverse(const st_fft *fft, float complex *in, float *out);

#endif
