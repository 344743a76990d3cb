/* The bar's phase from harmony: after the DBN has decoded the beats and the
 * meter, which beat of the bar is the downbeat is chosen again by the
 * decoder's own downbeat evidence plus a harmonic-change evidence, since
 * chords change at bar lines (Goto and Muraoka 1999; Papadopoulos and Peeters
 * 2011; Durand et al. 2015-2017 use harmonic features for the downbeat).
 *
 * For every rotation r of the bar (each beat's number moved by r, mod
 * beats_per_bar) the score is the sum over the beats that rotation makes
 * downbeats of
 *     evidence[k] + weight * z[k],
 * where evidence[k] is the DBN's (log downbeat - log beat over the beat's
 * region: dsp/dbn.h), so that the sum is the decoded path's log-probability
 * up to a constant and weight 0 keeps the DBN's bar; and z[k] is the
 * harmonic change into beat k: the chroma averaged over each beat (from its
 * frame to the next beat's), centred and scaled to unit length, one minus
 * the product with the previous beat's, standardised over the song (mean 0,
 * standard deviation 1). weight is thus in log-probability units per
 * standard deviation of harmonic change and per bar. The DBN's bar is kept
 * unless another rotation scores strictly higher. */
#ifndef ST_BAR_PHASE_H
#define ST_BAR_PHASE_H

#include <stdint.h>

/* The harmonic change into each beat, standardised (z[0] = 0; all 0 when
 * the change does not vary). chroma: 12 values per frame, n_frames frames;
 * frame: each beat's frame, ascending. 0, or -1 when memory is short. */
int st_bar_phase_harmonic_change(const float *chroma, int64_t n_frames, const int64_t *frame,
                                 int64_t n_beats, double *z);

/* The rotation (0 .. beats_per_bar - 1) to add to every beat number, chosen as
 * above; beat_number[k] is 1-based. 0 when there are no beats or one beat per
 * bar. -1 when memory is short. */
int st_bar_phase_rotation(const int *beat_number, const double *evidence, const double *z,
                          int64_t n_beats, int beats_per_bar, double weight);

#endif
