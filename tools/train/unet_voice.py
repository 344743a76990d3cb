"""strata's sung-like lead: a melody of phrases and its synthesis (no recording is read).

The voice is additive: harmonics of a glottal-like source (spectral tilt), a pitch
contour with portamento, vibrato that sets in after the attack, slow jitter, a
formant envelope that moves between vowels (one per syllable), breath noise shaped
by the same envelope and short consonant bursts at syllable onsets.
"""
import math

import numpy as np

RATE = 44100
BLOCK = 128  # control rate: amplitudes and formants are computed per block

# (F1..F4 Hz, bandwidths Hz, gains) of five vowels, roughly a sung adult voice
VOWELS = {
    'a': ([800, 1150, 2900, 3900], [80, 90, 120, 130], [1.0, 0.50, 0.025, 0.10]),
    'e': ([400, 1600, 2700, 3300], [60, 80, 120, 150], [1.0, 0.20, 0.25, 0.20]),
    'i': ([300, 2200, 3000, 3700], [50, 90, 100, 120], [1.0, 0.10, 0.20, 0.10]),
    'o': ([450, 800, 2830, 3800], [70, 80, 100, 130], [1.0, 0.35, 0.10, 0.05]),
    'u': ([325, 700, 2530, 3500], [50, 60, 170, 180], [1.0, 0.25, 0.03, 0.02]),
}


def scale_of(notes):
    """The seven most used pitch classes of the accompaniment (its key), low to high."""
    hist = np.zeros(12)
    for _, length, channel, pitch, _ in notes:
        if channel != 9:
            hist[pitch % 12] += length
    top = np.argsort(-hist)[:7]
    return sorted(int(p) for p in top)


def melody(rng, beats, notes, duration_s):
    """Sung phrases over the song's beat grid: (time s, length s, pitch, velocity) notes.
    Phrases of 1-3 bars separated by rests, mostly stepwise, in the accompaniment's key."""
    scale = scale_of(notes)
    beat_t = np.array([b[0] for b in beats])
    if len(beat_t) < 4:
        return []
    ibi = float(np.median(np.diff(beat_t)))
    center = int(rng.integers(52, 72))
    pitches = [p for p in range(center - 9, center + 10) if p % 12 in scale]
    out = []
    t = beat_t[0] + ibi * int(rng.integers(0, 4))
    idx = len(pitches) // 2
    while t < duration_s - 0.5:
        phrase_end = t + ibi * rng.uniform(3, 10)
        while t < min(phrase_end, duration_s - 0.3):
            length = ibi * rng.choice([0.5, 1, 1, 1.5, 2, 3], p=[0.25, 0.3, 0.15, 0.1, 0.12, 0.08])
            step = int(rng.choice([-2, -1, -1, 0, 1, 1, 2, 3, -3]))
            idx = int(np.clip(idx + step, 0, len(pitches) - 1))
            out.append((t, length * rng.uniform(0.85, 1.0), pitches[idx], int(rng.integers(60, 110))))
            t += length
        t += ibi * rng.uniform(1, 5)  # a rest (a breath)
    return out


def envelope(freqs, vowel_mix):
    """Formant envelope at freqs (blocks x harmonics) for per-block vowel weights (blocks x 5)."""
    env = np.zeros_like(freqs)
    for w, (fs, bws, gains) in zip(vowel_mix.T, VOWELS.values()):
        part = np.zeros_like(freqs)
        for fc, bw, g in zip(fs, bws, gains):
            part += g / (1.0 + ((freqs - fc) / (bw * 0.5)) ** 2)
        env += w[:, None] * part
    return env + 0.003


def sing(rng, tune, n_samples):
    """The voice for tune = [(time, length, pitch, velocity)], n_samples long."""
    n_blocks = n_samples // BLOCK + 2
    bt = np.arange(n_blocks) * BLOCK / RATE
    f0 = np.zeros(n_blocks)
    amp = np.zeros(n_blocks)
    vowel = np.zeros((n_blocks, len(VOWELS)))
    vowel[:, 0] = 1.0
    vib_rate, vib_depth = rng.uniform(4.8, 6.5), rng.uniform(0.15, 0.6)  # Hz, semitones
    tilt = rng.uniform(0.9, 1.6)
    breath = rng.uniform(0.01, 0.06)
    shift = rng.uniform(0.9, 1.12)  # a smaller or larger vocal tract
    prev = None
    bursts = []
    for t, length, pitch, vel in tune:
        a, b = int(t * RATE / BLOCK), min(n_blocks, int((t + length) * RATE / BLOCK) + 1)
        if a >= n_blocks:
            break
        k = np.arange(b - a) * BLOCK / RATE
        semis = np.full(b - a, float(pitch))
        if prev is not None and abs(prev - pitch) < 8 and rng.random() < 0.7:
            glide = rng.uniform(0.03, 0.09)
            semis += (prev - pitch) * np.exp(-k / glide * 3)
        onset = rng.uniform(0.15, 0.35)
        semis += vib_depth * np.clip((k - onset) / 0.2, 0, 1) * np.sin(2 * math.pi * vib_rate * k)
        f0[a:b] = 440.0 * 2 ** ((semis - 69) / 12)
        attack, release = rng.uniform(0.02, 0.06), min(0.08, length / 3)
        env = np.minimum(1, k / attack) * np.clip((length - k) / release, 0, 1)
        amp[a:b] = np.maximum(amp[a:b], env * (vel / 127.0) ** 1.5)
        v = np.zeros(len(VOWELS))
        v[rng.integers(len(VOWELS))] = 1.0
        vowel[a:b] = v
        if rng.random() < 0.5:
            bursts.append((t, rng.uniform(0.02, 0.07), rng.uniform(2000, 6000)))
        prev = pitch
    # fill pitch gaps (rests) so that phase stays continuous
    filled = f0 > 0
    if not filled.any():
        return np.zeros(n_samples, dtype=np.float32)
    f0 = np.interp(np.arange(n_blocks), np.flatnonzero(filled), f0[filled])
    f0 *= np.exp(np.cumsum(rng.normal(0, 0.002, n_blocks)) * 0.2)  # slow jitter
    # vowel changes glide over ~40 ms
    kern = np.hanning(15)
    kern /= kern.sum()
    for j in range(vowel.shape[1]):
        vowel[:, j] = np.convolve(vowel[:, j], kern, mode='same')
    amp = np.convolve(amp, np.hanning(5) / np.hanning(5).sum(), mode='same')
    n_harm = int(min(80, 12000 / f0.min()))
    h = np.arange(1, n_harm + 1)
    freqs = f0[:, None] * h[None, :]
    gains = envelope(freqs / shift, vowel) / h[None, :] ** tilt
    gains[freqs > 15000] = 0.0
    # per-sample: phase from f0, harmonic amplitudes interpolated from blocks
    ts = np.arange(n_samples) / BLOCK
    f0_s = np.interp(ts, np.arange(n_blocks), f0)
    phase = 2 * math.pi * np.cumsum(f0_s) / RATE
    amp_s = np.interp(ts, np.arange(n_blocks), amp)
    y = np.zeros(n_samples)
    for j in range(n_harm):
        g = np.interp(ts, np.arange(n_blocks), gains[:, j])
        if g.max() < 1e-5:
            continue
        y += g * np.sin((j + 1) * phase + j * 0.7)
    y *= amp_s
    # breath: noise through the formant envelope (one FFT filter with the mean vowel)
    noise = rng.normal(0, 1, n_samples)
    spec = np.fft.rfft(noise)
    f = np.fft.rfftfreq(n_samples, 1.0 / RATE)
    mean_vowel = np.full((1, len(VOWELS)), 1.0 / len(VOWELS))
    spec *= envelope(f[None, :] / shift, mean_vowel)[0]
    noise = np.fft.irfft(spec, n_samples)
    noise *= breath * np.std(y) / (np.std(noise) + 1e-12)
    y += noise * amp_s
    # consonants: short high-passed noise bursts at syllable onsets
    for t, length, fc in bursts:
        a = int(t * RATE)
        n = int(length * RATE)
        if a + n >= n_samples:
            continue
        b = rng.normal(0, 1, n)
        b = np.diff(np.concatenate([[0.0], b]))  # crude high-pass
        if fc > 4000:
            b = np.diff(np.concatenate([[0.0], b]))
        b *= np.hanning(n) * rng.uniform(0.05, 0.2) * (np.std(y) + 1e-6) * 3
        y[a:a + n] += b
    return (y / (np.max(np.abs(y)) + 1e-9) * 0.5).astype(np.float32)
