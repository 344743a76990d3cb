/* The bar's phase by the DBN's evidence plus harmonic change (bar_phase.h). */
#include "bar_phase.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int st_bar_phase_harmonic_change(const float *chroma, int64_t n_frames, const int64_t *frame,
                                 int64_t n_beats, double *z)
{
    for (int64_t k = 0; k < n_beats; k++)
        z[k] = 0.0;
    if (n_beats < 3) return 0;
    double *c = malloc((size_t)n_beats * 12 * sizeof *c);
    if (!c) return -1;
    for (int64_t k = 0; k < n_beats; k++) {
        /* the beat's span: to the next beat, the last one as long as the one before */
        int64_t from = frame[k];
        int64_t to = k + 1 < n_beats ? frame[k + 1] : frame[k] + (frame[k] - frame[k - 1]);
        if (from < 0) from = 0;
        if (to > n_frames) to = n_frames;
        double *v = c + k * 12, mean = 0.0, norm = 0.0;
        memset(v, 0, 12 * sizeof *v);
        for (int64_t t = from; t < to; t++)
            for (int p = 0; p < 12; p++)
                v[p] += chroma[t * 12 + p];
        for (int p = 0; p < 12; p++)
            mean += v[p] / 12.0;
        for (int p = 0; p < 12; p++) {
            v[p] -= mean;
            norm += v[p] * v[p];
        }
        norm = sqrt(norm);
        for (int p = 0; p < 12; p++)
            v[p] = norm > 0 ? v[p] / norm : 0.0;
    }
    double sum = 0.0, sum2 = 0.0;
    for (int64_t k = 1; k < n_beats; k++) {
        double dot = 0.0;
        for (int p = 0; p < 12; p++)
            dot += c[k * 12 + p] * c[(k - 1) * 12 + p];
        z[k] = 1.0 - dot;
        sum += z[k];
    }
    free(c);
    double mean = sum / (double)(n_beats - 1);
    for (int64_t k = 1; k < n_beats; k++)
        sum2 += (z[k] - mean) * (z[k] - mean);
    double sd = sqrt(sum2 / (double)(n_beats - 1));
    for (int64_t k = 1; k < n_beats; k++)
        z[k] = sd > 1e-9 ? (z[k] - mean) / sd : 0.0;
    return 0;
}

int st_bar_phase_rotation(const int *beat_number, const double *evidence, const double *z,
                          int64_t n_beats, int beats_per_bar, double weight)
{
    if (n_beats < 1 || beats_per_bar < 2) return 0;
    double *score = calloc((size_t)beats_per_bar, sizeof *score);
    if (!score) return -1;
    /* rotation r makes beat k a downbeat when (number - 1 + r) mod B == 0 */
    for (int64_t k = 0; k < n_beats; k++) {
        int r = (beats_per_bar - (beat_number[k] - 1) % beats_per_bar) % beats_per_bar;
        score[r] += evidence[k] + weight * z[k];
    }
    int best = 0;
    for (int r = 1; r < beats_per_bar; r++)
        if (score[r] > score[best]) best = r;
    free(score);
    return best;
}
