/* Joining the loop types of a Tucker model by what they are (loops' group =
 * "sound"). Numerics only: the loops node calls it.
 *
 * With more loop types than instruments, the model splits instruments in two
 * ways: one instrument's variations (a bass line's two halves, a drone's odd
 * and even bars) become types that take turns, and a section's parts played
 * together become one type that stands for several. Correlation of the
 * activations joins types that play together and never joins types that take
 * turns, which is the bar-recipe outcome. Here two types are alike when they
 * sound alike (their spectral envelopes over log-spaced bands) and seldom play
 * at the same time (two types that always play together are two parts: one
 * type would have explained them otherwise), or, where they do play at the
 * same time, when their templates hold the same cells of the bar (frequency
 * and time in the bar): two parts that sound at once are told apart only by
 * the cells they hold, so two that hold the same cells are one sound that the
 * model split (a drum kit in two parts whose levels differ bar to bar), which
 * the masks would share out at random. */
#include "sound_groups.h"

#include "loop_groups.h"
#include "median.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>

/* Bands of half an octave, from bin 2 (about 43 Hz at 2048 points and 44.1
 * kHz) to the last bin; bins 0 and 1 join the first band. */
static int band_of(int64_t bin)
{
    if (bin < 2) return 0;
    return (int)floor(2.0 * log2((double)bin / 2.0));
}

/* envelope[k][band]: the square root of the energy of type k's template in
 * each band, over the whole time axis, scaled to unit length. */
static void envelopes(const float *lt, int64_t n_bins, int64_t n_time, int rank, int n_bands,
                      double *env)
{
    for (int i = 0; i < rank * n_bands; i++)
        env[i] = 0;
    for (int64_t f = 0; f < n_bins; f++) {
        const int band = band_of(f);
        for (int64_t t = 0; t < n_time; t++) {
            const float *l = lt + (f * n_time + t) * rank;
            for (int k = 0; k < rank; k++)
                env[k * n_bands + band] += (double)l[k] * l[k];
        }
    }
    for (int k = 0; k < rank; k++) {
        for (int j = 0; j < n_bands; j++)
            env[k * n_bands + j] = sqrt(env[k * n_bands + j]);
        double norm = 0;
        for (int j = 0; j < n_bands; j++)
            norm += env[k * n_bands + j] * env[k * n_bands + j];
        norm = sqrt(norm);
        for (int j = 0; norm > 0 && j < n_bands; j++)
            env[k * n_bands + j] /= norm;
    }
}

/* How much of the less active type's activity happens together with the
 * other's: sum_b min(a_i, a_j) / min(sum a_i, sum a_j), activations scaled
 * to peak 1. 0: they take turns; 1: one never plays without the other. */
static double together(const float *d, int64_t n_bars, int rank, int i, int j, const double *peak)
{
    double both = 0, si = 0, sj = 0;
    for (int64_t b = 0; b < n_bars; b++) {
        const double a = peak[i] > 0 ? d[b * rank + i] / peak[i] : 0;
        const double c = peak[j] > 0 ? d[b * rank + j] / peak[j] : 0;
        both += fmin(a, c), si += a, sj += c;
    }
    const double less = fmin(si, sj);
    return less > 0 ? both / less : 0;
}

/* The correlation of two types' activations: near 1 when they always play
 * together at the same level (one sound the model split in two). */
static double correlation(const float *d, int64_t n_bars, int rank, int i, int j)
{
    double mi = 0, mj = 0, sij = 0, sii = 0, sjj = 0;
    for (int64_t b = 0; b < n_bars; b++)
        mi += d[b * rank + i] / (double)n_bars, mj += d[b * rank + j] / (double)n_bars;
    for (int64_t b = 0; b < n_bars; b++) {
        const double a = d[b * rank + i] - mi, c = d[b * rank + j] - mj;
        sij += a * c, sii += a * a, sjj += c * c;
    }
    return sii > 0 && sjj > 0 ? sij / sqrt(sii * sjj) : 0;
}

/* cosine[i * rank + j]: the cosine of types i and j's whole templates (every
 * cell of the bar), from their Gram matrix. */
static void template_cosines(const float *lt, int64_t n_cells, int rank, float *gram,
                             double *cosine)
{
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, rank, rank, (int)n_cells, 1, lt, rank, lt,
                rank, 0, gram, rank);
    for (int i = 0; i < rank; i++)
        for (int j = 0; j < rank; j++) {
            const double norm = sqrt((double)gram[i * rank + i] * gram[j * rank + j]);
            cosine[i * rank + j] = norm > 0 ? gram[i * rank + j] / norm : 0;
        }
}

double st_harmonic_share(const float *lt, int64_t n_bins, int64_t n_time, int rank, int k)
{
    enum { KERNEL = 31, LANES = 8 }; /* the hpss node's default kernel (librosa's) */
    const int64_t n_cells = n_bins * n_time;
    float *t = malloc((size_t)n_cells * sizeof *t);
    float *along_time = malloc((size_t)n_cells * sizeof *along_time);
    float *along_freq = malloc((size_t)n_cells * sizeof *along_freq);
    st_median *m = st_median_new((int)(n_bins > n_time ? n_bins : n_time), KERNEL);
    double h = 0, p = 0, share = -1;
    if (!t || !along_time || !along_freq || !m) goto done;
    for (int64_t i = 0; i < n_cells; i++)
        t[i] = lt[i * rank + k];
    for (int64_t f = 0; f < n_bins; f += LANES) /* each bin's row: up to 8 at once */
        st_median_lanes(m, t + f * n_time, 1, n_time, (int)n_time,
                        (int)(n_bins - f < LANES ? n_bins - f : LANES), along_time + f * n_time);
    for (int64_t u = 0; u < n_time; u += LANES) /* each frame's column */
        st_median_lanes(m, t + u, n_time, 1, (int)n_bins,
                        (int)(n_time - u < LANES ? n_time - u : LANES), along_freq + u);
    for (int64_t i = 0; i < n_cells; i++)
        h += (double)along_time[i] * along_time[i], p += (double)along_freq[i] * along_freq[i];
    share = h + p > 0 ? h / (h + p) : 0;
done:
    free(t), free(along_time), free(along_freq), st_median_free(m);
    return share;
}

double st_envelope_cosine(const float *lt, int64_t n_bins, int64_t n_time, int rank, int i, int j)
{
    const int n_bands = band_of(n_bins - 1) + 1;
    double *env = malloc((size_t)rank * n_bands * sizeof *env), cosine = 0;
    if (!env) return -1;
    envelopes(lt, n_bins, n_time, rank, n_bands, env);
    for (int b = 0; b < n_bands; b++)
        cosine += env[i * n_bands + b] * env[j * n_bands + b];
    free(env);
    return cosine;
}

int st_group_by_sound(const float *lt, const float *d, int64_t n_bins, int64_t n_time,
                      int64_t n_bars, int rank, int n_groups, double join_above, int *group)
{
    const int n_bands = band_of(n_bins - 1) + 1;
    double *env = malloc((size_t)rank * n_bands * sizeof *env);
    double *s = malloc((size_t)rank * rank * sizeof *s);
    double *peak = malloc((size_t)rank * sizeof *peak);
    double *cells = malloc((size_t)rank * rank * sizeof *cells);
    float *gram = malloc((size_t)rank * rank * sizeof *gram);
    int *size = malloc((size_t)rank * sizeof *size);
    int n = -1;
    if (!env || !s || !peak || !cells || !gram || !size) goto done;
    template_cosines(lt, n_bins * n_time, rank, gram, cells);
    envelopes(lt, n_bins, n_time, rank, n_bands, env);
    for (int k = 0; k < rank; k++) {
        peak[k] = 0;
        for (int64_t b = 0; b < n_bars; b++)
            peak[k] = fmax(peak[k], d[b * rank + k]);
    }
    /* alike: the envelopes' cosine, times the strongest sign of one instrument:
     * the part of their activity spent apart (its variations take turns), the
     * templates' cosine (playing together in the same cells: one sound split),
     * or the activations' correlation (one sound at one level, split) */
    for (int i = 0; i < rank; i++)
        for (int j = 0; j < rank; j++) {
            double cosine = 0;
            for (int b = 0; b < n_bands; b++)
                cosine += env[i * n_bands + b] * env[j * n_bands + b];
            s[i * rank + j] =
                cosine * fmax(fmax(1 - together(d, n_bars, rank, i, j, peak), cells[i * rank + j]),
                              correlation(d, n_bars, rank, i, j));
        }
    n = st_average_linkage(s, rank, n_groups, join_above, group, size);
done:
    free(env), free(s), free(peak), free(cells), free(gram), free(size);
    return n;
}
