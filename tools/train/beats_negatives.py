"""Sounds without a beat, for training the beat tracker to say so.

A network trained only on music learns that something always pulses; on a sine sweep, a held
chord or a voice it then fires weakly everywhere and the decoder makes a grid of it. These
clips are made from a seed (numpy only, nothing recorded) and trained with "no beat" in every
frame:

- sine sweeps, linear or exponential, single or repeated at irregular lengths, with harmonics;
- sustained tones and pads: chords of harmonic tones whose notes change at irregular times with
  slow attacks and releases (no regular onsets), vibrato and tremolo at unrelated rates;
- noise: white, pink or brown, with a slow random envelope (wind, surf, hiss);
- speech-like sound: syllables of random length and spacing (irregular, 2-7 per second), voiced
  ones a glottal pulse train with a drifting pitch through moving formants, unvoiced ones noise
  through a high band;
- a mains hum with hiss.
"""
import numpy as np

RATE = 44100
KINDS = ['sweep', 'pad', 'noise', 'speech', 'quiet']


def coloured_noise(rng, n, colour):
    x = rng.normal(0.0, 1.0, n)
    if colour == 'white':
        return x
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(n, 1.0 / RATE)
    f[0] = f[1]
    spec /= np.sqrt(f) if colour == 'pink' else f
    y = np.fft.irfft(spec, n)
    return y / (np.std(y) + 1e-12)


def slow_envelope(rng, n, min_s=0.5, max_s=4.0):
    """A smooth random envelope between 0.2 and 1, changing over seconds at irregular times."""
    points, t = [0], 0
    while t < n:
        t += int(rng.uniform(min_s, max_s) * RATE)
        points.append(t)
    levels = rng.uniform(0.2, 1.0, len(points))
    return np.interp(np.arange(n), points, levels)


def sweep(rng, n):
    y, t = np.zeros(n), 0
    while t < n:
        length = int(rng.uniform(2.0, 20.0) * RATE) if rng.random() < 0.7 else n
        length = min(length, n - t)
        f0, f1 = rng.uniform(40, 2000), rng.uniform(200, 12000)
        if rng.random() < 0.5:
            f0, f1 = f1, f0
        u = np.arange(length) / RATE
        dur = length / RATE
        if rng.random() < 0.5:
            phase = 2 * np.pi * (f0 * u + (f1 - f0) * u * u / (2 * dur))
        else:
            k = np.log(f1 / f0) / dur
            phase = 2 * np.pi * f0 * (np.exp(k * u) - 1) / k
        seg = np.sin(phase)
        for h in range(2, int(rng.integers(1, 5)) + 1):
            seg += rng.uniform(0.1, 0.5) / h * np.sin(h * phase)
        y[t:t + length] = seg
        t += length + int(rng.uniform(0.0, 1.5) * RATE)
    return y


def pad(rng, n):
    y = np.zeros(n)
    u = np.arange(n) / RATE
    for _ in range(int(rng.integers(2, 6))):  # voices, each changing note at its own times
        t = int(rng.uniform(0, 2) * RATE)
        while t < n:
            length = int(rng.uniform(1.5, 7.0) * RATE)
            f = 55.0 * 2 ** (rng.integers(0, 48) / 12.0)
            seg_u = u[:min(length, n - t)]
            attack, release = rng.uniform(0.3, 2.0), rng.uniform(0.5, 2.5)
            env = np.minimum(1.0, seg_u / attack) * np.minimum(1.0, (seg_u[-1] - seg_u + 1e-3) / release)
            vib = 1 + rng.uniform(0, 0.006) * np.sin(2 * np.pi * rng.uniform(3.5, 6.5) * seg_u)
            trem = 1 + rng.uniform(0, 0.3) * np.sin(2 * np.pi * rng.uniform(0.2, 3.0) * seg_u)
            phase = 2 * np.pi * f * np.cumsum(vib) / RATE
            tone = sum(rng.uniform(0.2, 1.0) / h * np.sin(h * phase) for h in range(1, int(rng.integers(2, 8))))
            y[t:t + len(seg_u)] += env * trem * tone
            t += int(length * rng.uniform(0.6, 1.1))  # overlapping, irregular changes
    return y


def noise(rng, n):
    return coloured_noise(rng, n, rng.choice(['white', 'pink', 'brown'])) * slow_envelope(rng, n)


def bandpass(x, lo_hz, hi_hz):
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(len(x), 1.0 / RATE)
    spec[(f < lo_hz) | (f > hi_hz)] = 0.0
    return np.fft.irfft(spec, len(x))


def speech(rng, n):
    y, t = np.zeros(n), int(rng.uniform(0, 0.5) * RATE)
    pitch = rng.uniform(90, 240)
    while t < n:
        length = min(int(rng.uniform(0.06, 0.35) * RATE), n - t)
        u = np.arange(length) / RATE
        env = np.sin(np.pi * np.arange(length) / length) ** rng.uniform(0.5, 2.0)
        if rng.random() < 0.7:  # voiced: a pulse train with a gliding pitch, through two formants
            f = pitch * (1 + rng.uniform(-0.15, 0.15) * u / max(u[-1], 1e-3))
            phase = np.cumsum(f) / RATE
            pulses = np.sign(np.sin(2 * np.pi * phase)) * 0.3 + np.sin(2 * np.pi * phase)
            seg = np.zeros(length)
            for formant_hz in (rng.uniform(250, 800), rng.uniform(900, 2500)):
                seg += bandpass(pulses, formant_hz * 0.8, formant_hz * 1.25)
        else:
            seg = bandpass(rng.normal(0, 1, length), rng.uniform(2500, 4500), 10000)
        y[t:t + length] += env * seg / (np.std(seg) + 1e-9)
        gap = rng.uniform(0.02, 0.25) if rng.random() < 0.8 else rng.uniform(0.3, 1.2)
        t += length + int(gap * RATE)
        pitch = float(np.clip(pitch * rng.uniform(0.9, 1.1), 80, 300))
    return y


def quiet(rng, n):
    u = np.arange(n) / RATE
    hum = np.sin(2 * np.pi * rng.choice([50.0, 60.0]) * u)
    return 0.05 * hum + 0.02 * coloured_noise(rng, n, 'pink')


def make_clip(seed, duration_s, kinds=KINDS):
    """(mono float32 signal at 44.1 kHz, its kind): the kinds in turn, by seed."""
    rng = np.random.default_rng(seed)
    kind = kinds[seed % len(kinds)]
    n = int(duration_s * RATE)
    y = {'sweep': sweep, 'pad': pad, 'noise': noise, 'speech': speech, 'quiet': quiet}[kind](rng, n)
    if kind != 'noise' and rng.random() < 0.3:  # and some background noise
        y = y / (np.std(y) + 1e-12) + rng.uniform(0.01, 0.2) * coloured_noise(rng, n, 'pink')
    y = y / (np.max(np.abs(y)) + 1e-12) * 10 ** (rng.uniform(-24, -1) / 20)
    return y.astype(np.float32), kind


if __name__ == '__main__':
    # Clips for measuring, not training: python3 tools/train/beats_negatives.py --out DIR
    # [--seed 90000] [--clips 15] [--seconds 20] writes KIND_SEED.wav (16-bit). Training runs
    # draw their clips from seeds near their own --seed (20261205 + 7 by default); keep these
    # seeds away from them.
    import argparse
    import os
    import wave

    ap = argparse.ArgumentParser()
    ap.add_argument('--out', required=True)
    ap.add_argument('--seed', type=int, default=90000)
    ap.add_argument('--clips', type=int, default=15)
    ap.add_argument('--seconds', type=float, default=20.0)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for k in range(args.clips):
        sig, kind = make_clip(args.seed + k, args.seconds)
        pcm = np.trunc(np.clip(sig, -1.0, 1.0) * 32767.0).astype('<i2')  # as soundfile writes it
        with wave.open(os.path.join(args.out, '%s_%d.wav' % (kind, args.seed + k)), 'wb') as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes(pcm.tobytes())
