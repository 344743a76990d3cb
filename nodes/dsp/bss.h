/* BSS Eval v3 (Vincent, Gribonval, Fevotte 2006), as mir_eval 0.7 and the
 * MATLAB toolbox compute it, in double precision.
 *
 * mir_eval builds the projections of each estimate on the delayed
 * references in the time domain and then takes energies. The energies follow
 * from inner products alone, because the projections are orthogonal:
 * ||P e||^2 = d' G^-1 d, with G the Gram matrix of the delayed references
 * and d their inner products with e. So only correlations at lags below
 * the filter length are computed (block FFTs), one Cholesky factorization
 * serves every estimate, and no signal of the full length is ever built. */
#ifndef ST_BSS_H
#define ST_BSS_H

#include <stddef.h>
#include <stdint.h>

/* At most this many sources (permutations are searched up to 10). */
#define ST_BSS_MAX_SOURCES 16

typedef struct {
    int n_src;  /* sources (and estimates) */
    int n_chan; /* channels of each */
    int64_t n_samples;
    const double *const *ref; /* ref[s * n_chan + c]: n_samples each */
    const double *const *est; /* est[s * n_chan + c] */
    int filter_length;        /* 512 in BSS Eval */
    int images;               /* 1: bss_eval_images criteria (with ISR); 0: bss_eval_sources */
    int permute;              /* choose the estimate order by the best mean SIR */
    int n_threads;
} st_bss_input;

/* Per reference source s: its scores against estimate perm[s]. isr is NaN
 * for the sources criteria. */
typedef struct {
    double *sdr, *sir, *sar, *isr;
    int *perm;
} st_bss_scores;

/* 0, or -1 with a reason in error (a silent source, out of memory). */
int st_bss_eval(const st_bss_input *in, st_bss_scores *out, char *error, size_t error_size);

/* BSS Eval v4 as museval computes it: the distortion filters fitted once on
 * the whole signal, the energies then summed over windows of `window`
 * samples every `hop` (one window when window <= 0 or covers the signal).
 * out's arrays hold n_src x n_windows values (source-major); perm is one
 * order for all windows. With one window it equals st_bss_eval. */
int st_bss_eval_v4(const st_bss_input *in, int64_t window, int64_t hop, st_bss_scores *out,
                   int64_t *n_windows, char *error, size_t error_size);

/* The first source (1-based) whose channels are all zero over [0, n_samples),
 * or 0 when none is. */
int st_bss_any_silent(const double *const *signals, int n_src, int n_chan, int64_t n_samples);

#endif
