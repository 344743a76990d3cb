#include "magnitude.h"

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
#endif

void st_magnitudes(const float complex *x, int64_t n, float *mag)
{
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx")) {
        magnitudes_avx(x, n, mag);
        return;
    }
#endif
    magnitudes_plain(x, n, mag);
}
