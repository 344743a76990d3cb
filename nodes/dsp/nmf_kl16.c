/* The KL pass for rank 16 by hand in AVX-512 (see nmf_kl16.h).
 *
 * Why by hand: at rank 16 the four products of a KL iteration have an
 * inner or outer dimension of 16, which OpenBLAS runs at half this CPU's
 * peak, and between them the F x 64 blocks of W H and of the ratio go
 * through memory. Here a 16-bin slice of W (16 registers, one per
 * component) stays in registers while the tile's frames stream past.
 *
 * Per tile of up to 32 frames:
 *   1. W H, 16 bins by 16 bins, 8 frames at once; R = V / W H into a buffer
 *      of the tile (F x 32, in L1/L2);
 *   2. W^T R: per frame a register of its 16 components, summed over the
 *      bins with W by rows (a bin's 16 template values are one register);
 *   3. the H update of the tile's frames from that numerator;
 *   4. W H of the updated tile, 16 bins at a time, R again, and
 *      (V / W H) H^T added into sixteen registers of bins x components.
 * Every lane does the operations of the sgemm path's element-wise loops
 * (the EPSILON guard of W H, the division, the H update); the products'
 * sums run in another order, as between any two BLAS.
 */
#include "nmf_kl16.h"

#include "../../vm/simd.h"
#include "nmf.h"

#include <string.h>

#define RANK 16
#define TILE ST_NMF_KL16_TILE
#ifndef GROUP
#define GROUP 8
#endif

static int64_t padded_rows(int F) { return ((int64_t)F + RANK - 1) / RANK * RANK; }

int64_t st_nmf_kl16_rows_floats(int n_rows) { return padded_rows(n_rows) * RANK; }

int64_t st_nmf_kl16_scratch_floats(int n_rows)
{
    /* R of the tile, then one 16-bin chunk's R, W H and V for the second half */
    return padded_rows(n_rows) * TILE + 3 * RANK * TILE;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define KERNEL __attribute__((target("avx512f"), always_inline)) inline
/* the register blocks live in registers only if their loops are unrolled */
#define UNROLL _Pragma("GCC unroll 16")

/* Mask of the bins of chunk f0 that exist. */
KERNEL static __mmask16 rows_mask(int F, int f0)
{
    const int n = F - f0 < RANK ? F - f0 : RANK;
    return (__mmask16)((1u << n) - 1);
}

/* V / W H with exact zeros of W H read as EPSILON (masked-off lanes: 0 / EPSILON). */
KERNEL static __m512 ratio(__m512 v, __m512 wh)
{
    const __mmask16 zero = _mm512_cmp_ps_mask(wh, _mm512_setzero_ps(), _CMP_EQ_OQ);
    return _mm512_div_ps(v, _mm512_mask_mov_ps(wh, zero, _mm512_set1_ps(ST_NMF_EPSILON)));
}

/* W H of columns h[0..n) (each 16 components) for one 16-bin slice w[] of W;
 * R = V / W H to r (16 floats a frame); W H and V to wh_out/v_out when they
 * are given. The same bins of the next tile's n_next frames (v_next) are
 * prefetched, one frame per frame done: the tile reads 32 frames side by
 * side, which the CPU's own prefetcher does not follow, and a burst of
 * prefetches would wait for the miss buffers. */
KERNEL static void slice_ratio(const __m512 w[RANK], const float *h, int n, const float *v,
                               int64_t v_ld, __mmask16 m, float *r, float *wh_out, float *v_out,
                               const float *v_next, int n_next)
{
    int j = 0;
    for (; j + GROUP <= n; j += GROUP) {
        __m512 acc[GROUP];
        UNROLL
        for (int c = 0; c < GROUP; c++)
            acc[c] = _mm512_mul_ps(w[0], _mm512_set1_ps(h[(j + c) * RANK]));
        UNROLL
        for (int k = 1; k < RANK; k++)
            UNROLL
        for (int c = 0; c < GROUP; c++)
            acc[c] = _mm512_fmadd_ps(w[k], _mm512_set1_ps(h[(j + c) * RANK + k]), acc[c]);
        UNROLL
        for (int c = 0; c < GROUP; c++) {
            if (j + c < n_next) _mm_prefetch((const char *)(v_next + (j + c) * v_ld), _MM_HINT_T1);
            const __m512 x = _mm512_maskz_loadu_ps(m, v + (j + c) * v_ld);
            _mm512_storeu_ps(r + (j + c) * RANK, ratio(x, acc[c]));
            if (wh_out) {
                _mm512_storeu_ps(wh_out + (j + c) * RANK, acc[c]);
                _mm512_storeu_ps(v_out + (j + c) * RANK, x);
            }
        }
    }
    for (; j < n; j++) {
        __m512 acc = _mm512_mul_ps(w[0], _mm512_set1_ps(h[j * RANK]));
        UNROLL
        for (int k = 1; k < RANK; k++)
            acc = _mm512_fmadd_ps(w[k], _mm512_set1_ps(h[j * RANK + k]), acc);
        if (j < n_next) _mm_prefetch((const char *)(v_next + j * v_ld), _MM_HINT_T1);
        const __m512 x = _mm512_maskz_loadu_ps(m, v + j * v_ld);
        _mm512_storeu_ps(r + j * RANK, ratio(x, acc));
        if (wh_out) {
            _mm512_storeu_ps(wh_out + j * RANK, acc);
            _mm512_storeu_ps(v_out + j * RANK, x);
        }
    }
}

KERNEL static void load_slice(const float *W, int F, int f0, __mmask16 m, __m512 w[RANK])
{
    UNROLL
    for (int k = 0; k < RANK; k++)
        w[k] = _mm512_maskz_loadu_ps(m, W + (int64_t)k * F + f0);
}

/* The H update of one frame from its numerator (nmf.c's update_h_block, gamma 1). */
KERNEL static void update_frame(const st_nmf_kl16_pass *p, float *h, __m512 num)
{
    const __m512 x = _mm512_loadu_ps(h);
    __m512 d = _mm512_loadu_ps(p->w_sum);
    if (p->l1_H > 0) d = _mm512_add_ps(d, _mm512_set1_ps(p->l1_H));
    if (p->l2_H > 0) d = _mm512_add_ps(d, _mm512_mul_ps(_mm512_set1_ps(p->l2_H), x));
    d = _mm512_mask_mov_ps(d, _mm512_cmp_ps_mask(d, _mm512_setzero_ps(), _CMP_EQ_OQ),
                           _mm512_set1_ps(ST_NMF_EPSILON));
    __m512 y = _mm512_mul_ps(x, _mm512_div_ps(num, d));
    y = _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(y, _mm512_set1_ps(p->zero_below), _CMP_LT_OQ),
                           _mm512_setzero_ps());
    _mm512_storeu_ps(h, y);
}

/* W^T R for the n <= 16 frames from frame j0 of the tile's R (chunk by
 * chunk: 16 bins x TILE frames, a frame's 16 bins together), then their H
 * update. w_rows has zero rows up to a multiple of 16 bins. */
KERNEL static void numerator_h(const st_nmf_kl16_pass *p, const float *r_tile, int j0, int n,
                               float *h)
{
    __m512 acc[RANK];
    UNROLL
    for (int c = 0; c < RANK; c++)
        acc[c] = _mm512_setzero_ps();
    /* summed over blocks of 256 bins, then over the blocks (two levels, as
     * above) */
    __m512 part[RANK];
    const int n_chunks = (p->F + RANK - 1) / RANK;
    for (int q = 0; q < n_chunks; q++) {
        if (q % RANK == 0) {
            UNROLL
            for (int c = 0; c < RANK; c++) {
                if (q > 0) acc[c] = _mm512_add_ps(acc[c], part[c]);
                part[c] = _mm512_setzero_ps();
            }
        }
        const float *r = r_tile + (int64_t)q * RANK * TILE + j0 * RANK;
        const float *w_rows = p->w_rows + (int64_t)q * RANK * RANK;
        if (n == RANK) {
            for (int i = 0; i < RANK; i++) {
                const __m512 w = _mm512_loadu_ps(w_rows + i * RANK);
                UNROLL
                for (int c = 0; c < RANK; c++)
                    part[c] = _mm512_fmadd_ps(w, _mm512_set1_ps(r[c * RANK + i]), part[c]);
            }
        } else {
            for (int i = 0; i < RANK; i++) {
                const __m512 w = _mm512_loadu_ps(w_rows + i * RANK);
                for (int c = 0; c < n; c++)
                    part[c] = _mm512_fmadd_ps(w, _mm512_set1_ps(r[c * RANK + i]), part[c]);
            }
        }
    }
    for (int c = 0; c < n; c++)
        update_frame(p, h + c * RANK, _mm512_add_ps(acc[c], part[c]));
}

/* Natural log of positive normal floats: nmf.c's log_positive lane by lane
 * (the same operations in the same order, so the same values). */
KERNEL static __m512 log_positive16(__m512 x)
{
    const __m512i bits = _mm512_castps_si512(x);
    __m512 e = _mm512_cvtepi32_ps(
        _mm512_sub_epi32(_mm512_and_si512(_mm512_srli_epi32(bits, 23), _mm512_set1_epi32(0xff)),
                         _mm512_set1_epi32(126)));
    __m512 m = _mm512_castsi512_ps(_mm512_or_si512(
        _mm512_and_si512(bits, _mm512_set1_epi32((int)0x807fffff)), _mm512_set1_epi32(0x3f000000)));
    const __mmask16 low = _mm512_cmp_ps_mask(m, _mm512_set1_ps(0.707106781186547524f), _CMP_LT_OQ);
    const __m512 one = _mm512_set1_ps(1.0f);
    e = _mm512_mask_sub_ps(e, low, e, one);
    m = _mm512_mask_add_ps(_mm512_sub_ps(m, one), low, m, _mm512_sub_ps(m, one));
    const __m512 z = _mm512_mul_ps(m, m);
    static const float c[] = {-1.1514610310e-1f, 1.1676998740e-1f,  -1.2420140846e-1f,
                              1.4249322787e-1f,  -1.6668057665e-1f, 2.0000714765e-1f,
                              -2.4999993993e-1f, 3.3333331174e-1f};
    __m512 y = _mm512_set1_ps(7.0376836292e-2f);
    UNROLL
    for (int i = 0; i < 8; i++)
        y = _mm512_add_ps(_mm512_mul_ps(y, m), _mm512_set1_ps(c[i]));
    y = _mm512_mul_ps(_mm512_mul_ps(y, m), z);
    y = _mm512_add_ps(y, _mm512_mul_ps(_mm512_set1_ps(-2.12194440e-4f), e));
    y = _mm512_add_ps(y, _mm512_mul_ps(_mm512_set1_ps(-0.5f), z));
    return _mm512_add_ps(_mm512_add_ps(m, y), _mm512_mul_ps(_mm512_set1_ps(0.693359375f), e));
}

/* KL's terms of n frames of a 16-bin chunk, summed into two double registers. */
KERNEL static void kl_terms(const float *wh, const float *v, int n, __m512d *sum)
{
    for (int j = 0; j < n; j++) {
        const __m512 x = _mm512_loadu_ps(v + j * RANK);
        const __m512 q = ratio(x, _mm512_loadu_ps(wh + j * RANK));
        const __mmask16 live = _mm512_cmp_ps_mask(x, _mm512_set1_ps(ST_NMF_EPSILON), _CMP_GT_OQ);
        /* lanes with V <= EPSILON (masked-off bins included) take log(1) */
        const __m512 l = log_positive16(_mm512_mask_mov_ps(_mm512_set1_ps(1.0f), live, q));
        const __m512 t = _mm512_maskz_sub_ps(live, _mm512_mul_ps(x, l), x);
        sum[0] = _mm512_add_pd(sum[0], _mm512_cvtps_pd(_mm512_castps512_ps256(t)));
        sum[1] = _mm512_add_pd(sum[1], _mm512_cvtps_pd(_mm256_castpd_ps(
                                           _mm512_extractf64x4_pd(_mm512_castps_pd(t), 1))));
    }
}

/* Second half for one 16-bin chunk: W H of the (updated) tile, R, the
 * divergence's terms, and (V / W H) H^T added into num_w. */
KERNEL static void numerator_w(const st_nmf_kl16_pass *p, int f0, const float *v, const float *h,
                               int n, float *num_w, float *r, float *wh_buf, float *v_buf,
                               __m512d *div_sum, const float *v_next, int n_next)
{
    const __mmask16 m = rows_mask(p->F, f0);
    __m512 w[RANK];
    load_slice(p->W, p->F, f0, m, w);
    slice_ratio(w, h, n, v + f0, p->F, m, r, p->divergence ? wh_buf : NULL, v_buf, v_next + f0,
                n_next);
    if (p->divergence) kl_terms(wh_buf, v_buf, n, div_sum);
    if (!p->accumulate_w) return;
    /* the tile's sum first, then into num_w: a sum in two levels, as the
     * sgemm path's blocks make it (one running sum over thousands of frames
     * loses a digit) */
    __m512 acc[RANK];
    UNROLL
    for (int k = 0; k < RANK; k++)
        acc[k] = _mm512_setzero_ps();
    for (int j = 0; j < n; j++) {
        const __m512 x = _mm512_loadu_ps(r + j * RANK);
        UNROLL
        for (int k = 0; k < RANK; k++)
            acc[k] = _mm512_fmadd_ps(x, _mm512_set1_ps(h[j * RANK + k]), acc[k]);
    }
    UNROLL
    for (int k = 0; k < RANK; k++) {
        float *out = num_w + (int64_t)k * p->F + f0;
        _mm512_mask_storeu_ps(out, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, out), acc[k]));
    }
}

__attribute__((target("avx512f"))) static void range_avx512(const st_nmf_kl16_pass *p,
                                                            int64_t begin, int64_t end,
                                                            float *num_w, double *divergence,
                                                            float *scratch)
{
    const int F = p->F;
    float *r_tile = scratch, *r_chunk = r_tile + padded_rows(F) * TILE;
    float *wh_buf = r_chunk + RANK * TILE, *v_buf = wh_buf + RANK * TILE;
    __m512d div_sum[2] = {_mm512_setzero_pd(), _mm512_setzero_pd()};
    for (int64_t c0 = begin; c0 < end; c0 += TILE) {
        const int n = (int)(end - c0 < TILE ? end - c0 : TILE);
        const float *v = p->V + c0 * F;
        float *h = p->H + c0 * RANK;
        const int n_next = end - c0 - n < TILE ? (int)(end - c0 - n) : TILE;
        const float *v_next = v + (int64_t)n * F;
        if (p->update_h) {
            for (int f0 = 0; f0 < F; f0 += RANK) {
                const __mmask16 m = rows_mask(F, f0);
                __m512 w[RANK];
                load_slice(p->W, F, f0, m, w);
                slice_ratio(w, h, n, v + f0, F, m, r_tile + (int64_t)f0 * TILE, NULL, NULL,
                            v_next + f0, n_next);
            }
            for (int j = 0; j < n; j += RANK)
                numerator_h(p, r_tile, j, n - j < RANK ? n - j : RANK, h + j * RANK);
        }
        if (!p->accumulate_w && !p->divergence) continue;
        for (int f0 = 0; f0 < F; f0 += RANK)
            numerator_w(p, f0, v, h, n, num_w, r_chunk, wh_buf, v_buf, div_sum, v_next,
                        p->update_h ? 0 : n_next);
    }
    double lanes[16];
    _mm512_storeu_pd(lanes, div_sum[0]);
    _mm512_storeu_pd(lanes + 8, div_sum[1]);
    double s = 0;
    UNROLL
    for (int i = 0; i < 16; i++)
        s += lanes[i];
    *divergence += s;
}

int st_nmf_kl16_available(void) { return st_simd_allows(ST_SIMD_AVX512); }

void st_nmf_kl16_range(const st_nmf_kl16_pass *p, int64_t begin, int64_t end, float *num_w,
                       double *divergence, float *scratch)
{
    range_avx512(p, begin, end, num_w, divergence, scratch);
}

#else

int st_nmf_kl16_available(void) { return 0; }

void st_nmf_kl16_range(const st_nmf_kl16_pass *p, int64_t begin, int64_t end, float *num_w,
                       double *divergence, float *scratch)
{
    (void)p, (void)begin, (void)end, (void)num_w, (void)divergence, (void)scratch;
}

#endif
