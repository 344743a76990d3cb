/* The pitch of a monophonic source by harmonic summation, and the comb of
 * bins its harmonics cover: what repet_pitch needs to keep a lead out of
 * REPET's repeating model. */
#ifndef ST_PITCH_H
#define ST_PITCH_H

#include <stdint.h>

typedef struct {
    double fmin_hz, fmax_hz; /* the fundamentals searched */
    double step_cents;       /* their spacing on a log scale */
    int harmonics;           /* summed per candidate */
    double decay;            /* harmonic h weighs decay^(h - 1) */
    double bin_hz;           /* rate / n_fft */
} st_pitch_search;

/* For each frame of mag (n_frames x n_bins, magnitudes), the fundamental
 * whose harmonics carry the most: salience(f) = sum over h of decay^(h-1)
 * sqrt|X| at h f (linear interpolation between bins; the root compresses
 * the partials' range, so that one loud partial does not decide). f0[t] is
 * the best candidate in Hz (fmin_hz for a silent frame); both threads.
 * Returns -1 when out of memory. */
int st_pitch_track(const float *mag, int64_t n_frames, int n_bins, const st_pitch_search *s,
                   int n_threads, float *f0);

/* comb[k] = 1 for the bins within max(width_bins, rel x centre) of each
 * harmonic centre h f0 / bin_hz, h = 1 .. max_harmonic (0: all) up to the last
 * bin, else 0 (one frame; f0 <= 0: all 0). */
void st_pitch_comb(double f0, double bin_hz, int n_bins, double width_bins, double rel,
                   int max_harmonic, unsigned char *comb);

#endif
