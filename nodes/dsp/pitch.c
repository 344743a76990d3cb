/* Harmonic-summation pitch (as in Klapuri's and Salamon's salience
 * functions, without their learned weights) and the comb of a pitch's
 * harmonics. */
#include "pitch.h"
#include "../../vm/parallel.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
    const float *mag;
    int64_t n_frames;
    int n_bins, n_cands;
    const st_pitch_search *s;
    const double *cands;
    float *f0;
    int failed;
} track_job;

static void track_range(void *ctx, int64_t begin, int64_t end)
{
    track_job *job = ctx;
    const int n_bins = job->n_bins;
    float *root = malloc((size_t)n_bins * sizeof *root);
    if (!root) {
        job->failed = 1;
        return;
    }
    for (int64_t t = begin; t < end; t++) {
        const float *row = job->mag + (size_t)t * (size_t)n_bins;
        for (int k = 0; k < n_bins; k++)
            root[k] = sqrtf(row[k]);
        double best = 0;
        int best_i = 0;
        for (int i = 0; i < job->n_cands; i++) {
            double sum = 0, w = 1, step = job->cands[i] / job->s->bin_hz;
            for (int h = 1; h <= job->s->harmonics; h++, w *= job->s->decay) {
                double at = h * step;
                int k = (int)at;
                if (k >= n_bins - 1) break;
                double frac = at - k;
                sum += w * (root[k] * (1 - frac) + root[k + 1] * frac);
            }
            if (sum > best) best = sum, best_i = i;
        }
        job->f0[t] = (float)job->cands[best_i];
    }
    free(root);
}

int st_pitch_track(const float *mag, int64_t n_frames, int n_bins, const st_pitch_search *s,
                   int n_threads, float *f0)
{
    int n_cands = 1 + (int)floor(1200.0 * log2(s->fmax_hz / s->fmin_hz) / s->step_cents);
    if (n_cands < 1) n_cands = 1;
    double *cands = malloc((size_t)n_cands * sizeof *cands);
    if (!cands) return -1;
    for (int i = 0; i < n_cands; i++)
        cands[i] = s->fmin_hz * pow(2.0, i * s->step_cents / 1200.0);
    track_job job = {mag, n_frames, n_bins, n_cands, s, cands, f0, 0};
    st_parallel_for(n_threads, n_frames, track_range, &job);
    free(cands);
    return job.failed ? -1 : 0;
}

void st_pitch_comb(double f0, double bin_hz, int n_bins, double width_bins, double rel,
                   int max_harmonic, unsigned char *comb)
{
    for (int k = 0; k < n_bins; k++)
        comb[k] = 0;
    if (!(f0 > 0)) return;
    for (int h = 1; max_harmonic <= 0 || h <= max_harmonic; h++) {
        double centre = h * f0 / bin_hz, w = fmax(width_bins, rel * centre);
        if (centre > n_bins - 1) break; /* harmonics up to the Nyquist bin */
        int lo = (int)ceil(centre - w), hi = (int)floor(centre + w);
        if (lo < 0) lo = 0;
        if (hi > n_bins - 1) hi = n_bins - 1;
        for (int k = lo; k <= hi; k++)
            comb[k] = 1;
    }
}
