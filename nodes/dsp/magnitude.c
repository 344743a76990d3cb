#include "magnitude.h"

#include "../../vm/simd.h"

#include <complex.h>
#include <math.h>

static void magnitudes_plain(const float complex *x, int64_t n, float *mag)
{
    for (int64_t i = 0; i < n; i++)
        mag[i] =
            (float)sqrt((double)crealf(x[i]) * crealf(x[i]) + (double)cimagf(x[i]) * cimagf(x[i]));
}

#if defined(__x86_64__)
#include <immintrin.h>
/* Four at a time: the squares are exact in double and their sum is rounded
 * once, the root and the conversion rounded as the scalar ones. */
__attribute__((target("avx"))) static void magnitudes_avx(const float complex *x, int64_t n,
                                                          float *mag)
{
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256 z = _mm256_loadu_ps((const float *)(x + i)); /* re0 im0 re1 im1 | re2 im2 re3 im3 */
        __m256d a = _mm256_cvtps_pd(_mm256_castps256_ps128(z));   /* re0 im0 re1 im1 */
        __m256d b = _mm256_cvtps_pd(_mm256_extractf128_ps(z, 1)); /* re2 im2 re3 im3 */
        /* (re0² + im0², re2² + im2², re1² + im1², re3² + im3²) */
        __m256d sums = _mm256_hadd_pd(_mm256_mul_pd(a, a), _mm256_mul_pd(b, b));
        __m128 m = _mm256_cvtpd_ps(_mm256_sqrt_pd(sums)); /* |z0| |z2| |z1| |z3| */
        _mm_storeu_ps(mag + i, _mm_shuffle_ps(m, m, _MM_SHUFFLE(3, 1, 2, 0)));
    }
    magnitudes_plain(x + i, n - i, mag + i);
}

/* The same eight at a time. */
__attribute__((target("avx512f"))) static void magnitudes_avx512(const float complex *x, int64_t n,
                                                                 float *mag)
{
    const __m512i even = _mm512_set_epi64(14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_set_epi64(15, 13, 11, 9, 7, 5, 3, 1);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m512 z = _mm512_loadu_ps((const float *)(x + i)); /* re, im, re, im, ... */
        __m512d a = _mm512_cvtps_pd(_mm512_castps512_ps256(z));
        __m512d b =
            _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(z), 1)));
        __m512d re = _mm512_permutex2var_pd(a, even, b), im = _mm512_permutex2var_pd(a, odd, b);
        __m512d p = _mm512_add_pd(_mm512_mul_pd(re, re), _mm512_mul_pd(im, im));
        _mm256_storeu_ps(mag + i, _mm512_cvtpd_ps(_mm512_sqrt_pd(p)));
    }
    magnitudes_plain(x + i, n - i, mag + i);
}
#endif

void st_channel_mean_magnitudes(const float complex *x, size_t channel_stride, int n_channels,
                                int64_t n_bins, float *mean, float *scratch)
{
    for (int64_t k = 0; k < n_bins; k++)
        mean[k] = 0;
    for (int c = 0; c < n_channels; c++) {
        st_magnitudes(x + (size_t)c * channel_stride, n_bins, scratch);
        for (int64_t k = 0; k < n_bins; k++)
            mean[k] += scratch[k];
    }
    for (int64_t k = 0; k < n_bins; k++)
        mean[k] /= n_channels;
}

int st_magnitudes_path(int path, const float complex *x, int64_t n, float *mag)
{
    switch (path) {
    case ST_MAGNITUDES_PLAIN:
        magnitudes_plain(x, n, mag);
        return 0;
#if defined(__x86_64__)
    case ST_MAGNITUDES_AVX:
        if (!st_simd_allows(ST_SIMD_AVX)) return -1;
        magnitudes_avx(x, n, mag);
        return 0;
    case ST_MAGNITUDES_AVX512:
        if (!st_simd_allows(ST_SIMD_AVX512)) return -1;
        magnitudes_avx512(x, n, mag);
        return 0;
#endif
    default:
        return -1;
    }
}

void st_magnitudes(const float complex *x, int64_t n, float *mag)
{
    /* the widest path this CPU has */
    for (int path = ST_MAGNITUDES_AVX512; path > ST_MAGNITUDES_PLAIN; path--)
        if (st_magnitudes_path(path, x, n, mag) == 0) return;
    magnitudes_plain(x, n, mag);
}
