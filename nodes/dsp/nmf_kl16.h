/* The KL pass of st_nmf_fit for rank 16, fused by hand for AVX-512.
 *
 * For a tile of frames it forms W H sixteen bins at a time in registers,
 * the ratio V / W H, the H update's numerator W^T (V / W H), the updated
 * H, W H once more and the W update's numerator (V / W H) H^T, while the
 * tile is in the L1 cache. The arithmetic is that of the sgemm path (same
 * guards, same update); only the order of the sums differs.
 *
 * Layouts as in nmf.h (column-major): V F x N, W F x 16, H 16 x N, num_w
 * F x 16; w_rows is W row by row (16 floats per bin), with zero rows up
 * to a multiple of 16 bins (st_nmf_kl16_rows_floats).
 */
#ifndef ST_NMF_KL16_H
#define ST_NMF_KL16_H

#include <stdint.h>

#define ST_NMF_KL16_TILE 32 /* frames per tile */

typedef struct {
    const float *V;
    int F;
    const float *W, *w_rows;
    float *H;
    const float *w_sum; /* the H update's denominator (16) */
    float l1_H, l2_H;   /* the H update's regularisation */
    float zero_below;   /* H entries below this become 0 */
    int update_h, accumulate_w, divergence;
} st_nmf_kl16_pass;

/* 1 when this CPU runs the kernel (AVX-512F), else 0. */
int st_nmf_kl16_available(void);

/* Floats of w_rows for n_rows bins. */
int64_t st_nmf_kl16_rows_floats(int n_rows);

/* Floats of scratch one thread needs for n_rows bins. */
int64_t st_nmf_kl16_scratch_floats(int n_rows);

/* Runs the pass over frames [begin, end), adding into num_w (F x 16) and
 * *divergence (KL's sum over V > EPSILON of V log(V / W H) - V). */
void st_nmf_kl16_range(const st_nmf_kl16_pass *p, int64_t begin, int64_t end, float *num_w,
                       double *divergence, float *scratch);

#endif
