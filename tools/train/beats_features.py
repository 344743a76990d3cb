"""The beat tracker's front end, in numpy: the same numbers as nodes/dsp/logspec.c.

Mono audio at 44.1 kHz, scaled to 16-bit range (madmom's convention, so that
log(1 + x) is a log above the noise floor); frames of 2048 samples, periodic
Hann window, centred on sample t * 441 (100 frames per second, zeros outside
the signal), ceil(n / 441) frames; FFT magnitudes; a filterbank of triangular
filters, 12 per octave between 30 Hz and 17 kHz (centres 440 * 2^(k/12) on
the nearest FFT bin, duplicates removed, each filter summing to 1, as
madmom's LogarithmicFilterbank with unique bins); log10(1 + x).
"""
import numpy as np

RATE = 44100
N_FFT = 2048
HOP = 441
FMIN, FMAX, BANDS_PER_OCTAVE = 30.0, 17000.0, 12


def filterbank():
    """n_bins x n_bands matrix (float32)."""
    n_bins = N_FFT // 2 + 1
    k_lo = int(np.floor(BANDS_PER_OCTAVE * np.log2(FMIN / 440.0)))
    k_hi = int(np.ceil(BANDS_PER_OCTAVE * np.log2(FMAX / 440.0)))
    freqs = [440.0 * 2.0 ** (k / BANDS_PER_OCTAVE) for k in range(k_lo, k_hi + 1)]
    freqs = [f for f in freqs if FMIN <= f <= FMAX]
    bins = []
    for f in freqs:
        b = int(np.floor(f * N_FFT / RATE + 0.5))
        if b < n_bins and (not bins or b != bins[-1]):
            bins.append(b)
    fb = np.zeros((n_bins, len(bins) - 2), dtype=np.float64)
    for j in range(len(bins) - 2):
        start, centre, stop = bins[j], bins[j + 1], bins[j + 2]
        if stop - start < 2:  # too narrow for a triangle: one bin
            fb[start, j] = 1.0
            continue
        for b in range(start, stop):
            fb[b, j] = (b - start) / (centre - start) if b < centre else (stop - b) / (stop - centre)
        fb[:, j] /= fb[:, j].sum()
    return fb.astype(np.float32)


def window():
    n = np.arange(N_FFT)
    return (0.5 - 0.5 * np.cos(2.0 * np.pi * n / N_FFT)).astype(np.float32)


def features(x, fb=None):
    """x: mono float32 at 44.1 kHz in [-1, 1]; returns n_frames x n_bands float32."""
    if fb is None:
        fb = filterbank()
    x = np.asarray(x, dtype=np.float32) * np.float32(32768.0)
    n_frames = (len(x) + HOP - 1) // HOP
    pad = np.zeros(len(x) + N_FFT + HOP, dtype=np.float32)
    pad[N_FFT // 2:N_FFT // 2 + len(x)] = x
    idx = np.arange(n_frames)[:, None] * HOP + np.arange(N_FFT)[None, :]
    frames = pad[idx] * window()[None, :]
    mag = np.abs(np.fft.rfft(frames, axis=1)).astype(np.float32)
    return np.log10(1.0 + mag @ fb).astype(np.float32)
