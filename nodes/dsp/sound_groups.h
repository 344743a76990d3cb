/* Joining the loop types of a Tucker model by what they are: how alike they
 * sound, and whether they play at the same time. */
#ifndef ST_SOUND_GROUPS_H
#define ST_SOUND_GROUPS_H

#include <stdint.h>

/* Joins loop types, the most alike pair first (average linkage), until
 * n_groups remain (or, with n_groups = 0, while the most alike pair is above
 * join_above). Two types are alike by the cosine of their spectral envelopes
 * (half-octave bands of the template's energy) times the strongest of: the
 * part of their activity they spend apart (1 - together, together =
 * sum_b min(a_i, a_j) / min(sum a_i, sum a_j) with activations at peak 1),
 * the cosine of their whole templates (cells of frequency and time in the
 * bar), and the correlation of their activations. Types that take turns with
 * the same sound are one instrument's variations; types that play together
 * are two parts, unless they hold the same cells (one sound split in two,
 * which only the cells could tell apart) or keep one level. lt: (n_bins * n_time) x rank templates
 * of every type (row-major, cell f * n_time + t); d: n_bars x rank activations. Writes group[k] in
 * 0..n-1 (numbered by first member); returns n, or -1 when out of memory. */
int st_group_by_sound(const float *lt, const float *d, int64_t n_bins, int64_t n_time,
                      int64_t n_bars, int rank, int n_groups, double join_above, int *group);

/* What a loop type is, for deciding whether two are one instrument.
 * st_harmonic_share: how pitched type k's template is, Fitzgerald's
 * harmonic/percussive split of the template itself (median filters of 31
 * cells along time and along frequency): the energy of the median along time
 * over that of both, in [0, 1]; above 1/2 a pitched sound, below a
 * percussive one. st_envelope_cosine: the cosine of types i and j's spectral
 * envelopes (as the grouping's). Both return -1 when out of memory. */
double st_harmonic_share(const float *lt, int64_t n_bins, int64_t n_time, int rank, int k);
double st_envelope_cosine(const float *lt, int64_t n_bins, int64_t n_time, int rank, int i, int j);

#endif
