/* Grouping NMF components into sources without the references: features of
 * the templates (MFCCs, as nussl's timbre clustering) or of the activations
 * (their correlation over time), and k-means on them. */
#ifndef ST_NMF_CLUSTER_H
#define ST_NMF_CLUSTER_H

#include <stdint.h>

/* MFCCs 1..n_mfcc (c0, the template's loudness, is left out: NMF's scale is
 * arbitrary) of each of the rank templates W (rank x n_bins, magnitudes of
 * an STFT of n_fft = 2 (n_bins - 1) at rate_hz): each template normalised
 * to unit sum, squared, 128 Slaney mel bands (librosa's defaults), dB
 * (floor 1e-10, 80 dB below the template's peak), orthonormal DCT-II.
 * out: rank x n_mfcc. */
void st_template_mfcc(const float *W, int rank, int n_bins, double rate_hz, int n_mfcc,
                      double *out);

/* Three descriptors of each component that tell drums from notes and
 * registers apart: the log spectral flatness of its template's power
 * (0 for noise, very negative for a few partials), the log2 of its spectral
 * centroid in bins, and the transience of its activation (total variation
 * over the sum: high for hits, low for held notes). out: rank x 3. */
void st_component_descriptors(const float *W, const float *H, int rank, int n_bins, int64_t n_cols,
                              double *out);

/* Activations as vectors whose squared distance is 2 (1 - correlation):
 * each row of H (n_cols x rank, column-major as st_nmf_fit leaves it: frame
 * j of component k at j * rank + k), smoothed by a moving average of
 * smooth_frames (1 = none), log-compressed (log(1 + h / mean)), centred and
 * scaled to unit norm. out: rank x n_cols. */
void st_activation_features(const float *H, int rank, int64_t n_cols, int smooth_frames,
                            double *out);

/* Non-negative features of each component for a soft grouping: its
 * template's energy in n_mels Slaney mel bands and its activation envelope
 * (moving average of smooth_frames, every hop_out-th frame), each part
 * scaled to unit sum and the envelope part times weight. out: n_feat x rank
 * column-major (component k's features at k * n_feat), n_feat = n_mels +
 * the envelope's length (st_soft_features_size). */
int64_t st_soft_features_size(int n_mels, int64_t n_cols, int smooth_frames);
void st_soft_features(const float *W, const float *H, int rank, int n_bins, int64_t n_cols,
                      double rate_hz, int n_mels, int smooth_frames, double weight, float *out);

/* k-means (Lloyd) from k-means++ starts, n_init times, the lowest inertia
 * kept; an empty cluster takes the point farthest from its centre. Every
 * cluster ends non-empty when n >= k. labels: n values in 0..k-1.
 * Returns 0, or -1 when memory is short. */
int st_kmeans(const double *x, int n, int dim, int k, int n_init, uint64_t seed, int *labels);

/* The same with a weight per point (NULL: all 1): k-means++ draws in
 * proportion to weight x squared distance, centres are weighted means and
 * the inertia is weighted. */
int st_kmeans_weighted(const double *x, const double *weight, int n, int dim, int k, int n_init,
                       uint64_t seed, int *labels);

/* Points whose Euclidean distances are d2 (classical scaling; the negative
 * part of a non-Euclidean d2 is dropped): out n x n. Returns 0, -1 when memory is short, -2 when
 * the eigensolver fails. */
int st_embed_distances(const double *d2, int n, double *out);

/* Squared Euclidean distances of the rows of x (n x dim): d2 n x n. */
void st_squared_distances(const double *x, int n, int dim, double *d2);

/* Pitch-blind timbre distances of templates W (rank x n_bins): each on a
 * log-frequency axis (24 bins per octave), and 1 - the largest cosine of two
 * templates over shifts of up to max_shift bins: notes of one instrument
 * are near shifts of one another, whatever their pitch. d2: rank x rank.
 * Returns 0, or -1 when memory is short. */
int st_shift_distances(const float *W, int rank, int n_bins, double rate_hz, int max_shift,
                       double *d2);

#endif
