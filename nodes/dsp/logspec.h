/* The beat tracker's front end: a log-filtered magnitude spectrogram at 100
 * frames per second, the same numbers as tools/train/beats_features.py.
 *
 * Mono 44.1 kHz audio scaled to 16-bit range (madmom's convention, so that
 * log(1 + x) is a log above the noise floor); 2048-sample frames with a
 * periodic Hann window centred on sample t * 441 (zeros outside the signal),
 * ceil(n / 441) frames; FFT magnitudes; triangular filters, 12 per octave
 * between 30 Hz and 17 kHz (centres 440 * 2^(k/12) on the nearest FFT bin,
 * duplicates removed, each filter summing to 1, as madmom's
 * LogarithmicFilterbank with unique bins); log10(1 + x). */
#ifndef ST_LOGSPEC_H
#define ST_LOGSPEC_H

#include <stdint.h>

#define ST_LOGSPEC_RATE_HZ 44100
#define ST_LOGSPEC_HOP     441
#define ST_LOGSPEC_N_FFT   2048

typedef struct st_logspec st_logspec;

/* NULL when memory is short. */
st_logspec *st_logspec_create(void);
void st_logspec_destroy(st_logspec *s);
int st_logspec_n_bands(const st_logspec *s);
/* The centre frequency of a band (its filter's peak bin), in Hz. */
double st_logspec_band_hz(const st_logspec *s, int band);
int64_t st_logspec_n_frames(int64_t n_samples);
/* out: n_frames x n_bands (frame-major). 0, or -1 when memory is short. */
int st_logspec_compute(const st_logspec *s, const float *mono, int64_t n_samples, float *out,
                       int n_threads);

#endif
