#!/usr/bin/python3
"""Generate the beat tracker's training data: songs made by beats_songs.py,
rendered with FluidSynth and the FluidR3 GM soundfont, plus strata's own
testsong node (tools/train/testsongs.lua), augmented (gain, EQ tilt and band
limits, synthetic reverb, noise), turned into features (beats_features.py).

    make_beats_data.py --out DIR [--songs N] [--testsongs M] [--seed S] [--strata PATH]

Writes DIR/NNNN.npz (features float16 n_frames x n_bands, beat times, bar
positions) and DIR/index.json (what each song is). Deterministic for a seed
(FluidSynth renders offline, faster than real time, the same every run).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import wave

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import beats_features as bf  # noqa: E402
import beats_songs as songs  # noqa: E402

SOUNDFONT = '/usr/share/sounds/sf2/FluidR3_GM.sf2'


def read_wav(path):
    with wave.open(path, 'rb') as w:
        n, ch, width, rate = w.getnframes(), w.getnchannels(), w.getsampwidth(), w.getframerate()
        raw = w.readframes(n)
    assert width == 2, 'expected 16-bit audio from %s' % path
    x = np.frombuffer(raw, dtype='<i2').astype(np.float32).reshape(-1, ch).mean(axis=1) / 32768.0
    return x, rate


def fast_size(n):
    """The next power of two: numpy's FFT is slow on lengths with large prime factors."""
    return 1 << int(np.ceil(np.log2(n)))


def augment(x, rng):
    """Gain, a spectral tilt with band limits, reverb and noise, each at random."""
    n = len(x)
    size = fast_size(n + int(1.6 * bf.RATE))  # room for the longest reverb tail
    spec = np.fft.rfft(x, size)
    f = np.fft.rfftfreq(size, 1.0 / bf.RATE)
    f[0] = f[1]
    gain = (f / 1000.0) ** rng.uniform(-0.4, 0.4)
    if rng.random() < 0.3:
        gain /= np.sqrt(1 + (rng.uniform(40, 300) / f) ** 4)  # high-pass
    if rng.random() < 0.3:
        gain /= np.sqrt(1 + (f / rng.uniform(3000, 12000)) ** 4)  # low-pass
    if rng.random() < 0.3:  # a recording made at a lower sampling rate (8-32 kHz): nothing above
        rate = rng.choice([8000, 11025, 16000, 22050, 22050, 32000])  # its band edge
        gain = gain * (f < 0.5 * rate * rng.uniform(0.9, 0.98))
    spec = spec * gain
    y = np.fft.irfft(spec, size)[:n]
    if rng.random() < 0.2:  # a compressed, saturated master
        drive = rng.uniform(1.5, 6.0)
        y = np.tanh(drive * y / (np.max(np.abs(y)) + 1e-12))
    if rng.random() < 0.4:
        rt60 = rng.uniform(0.2, 1.5)
        t = np.arange(int(rt60 * bf.RATE)) / bf.RATE
        ir = rng.normal(0, 1, len(t)) * np.exp(-6.9 * t / rt60)
        ir[0] = 0.0
        wet = np.fft.irfft(spec * np.fft.rfft(ir, size), size)[:n]
        wet *= np.std(y) / (np.std(wet) + 1e-12)
        y = y + rng.uniform(0.1, 0.6) * wet
    if rng.random() < 0.3:
        noise = rng.normal(0, 1, size)
        if rng.random() < 0.5:  # pink-ish
            noise = np.fft.irfft(np.fft.rfft(noise) / np.sqrt(f), size)
        noise = noise[:n]
        snr_db = rng.uniform(10, 40)
        noise *= np.std(y) / (np.std(noise) + 1e-12) * 10 ** (-snr_db / 20)
        y = y + noise
    peak = np.max(np.abs(y)) + 1e-12
    y = y / peak * 10 ** (rng.uniform(-24, -1) / 20)
    return y.astype(np.float32)


def save(out, k, x, beats, desc, rng, index):
    feats = bf.features(augment(x, rng))
    np.savez(os.path.join(out, '%04d.npz' % k), features=feats.astype(np.float16),
             beat_times=beats[:, 0].astype(np.float64), beat_positions=beats[:, 1].astype(np.int32))
    index.append(dict(file='%04d.npz' % k, frames=int(len(feats)), **desc))


def render(notes, programs, soundfont, reverb, chorus, tmp):
    """A song (beats_songs.make_song) rendered by FluidSynth: mono float32 at 44.1 kHz."""
    mid, wav = os.path.join(tmp, 'song.mid'), os.path.join(tmp, 'song.wav')
    songs.write_midi(mid, notes, programs)
    subprocess.run(['fluidsynth', '-ni', '-q', '-g', '0.6', '-r', str(bf.RATE),
                    '-o', 'synth.polyphony=64',
                    '-R', '1' if reverb else '0', '-C', '1' if chorus else '0',
                    '-O', 's16', '-T', 'wav', '-F', wav, soundfont, mid],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    x, rate = read_wav(wav)
    assert rate == bf.RATE
    return x


def render_song(notes, programs, desc, soundfont, reverb, chorus, tmp):
    """Generators 1-3: one FluidSynth pass; generator 4: part by part, mixed (beats_mix.produce)."""
    if desc.get('generator', 1) >= 4:
        import beats_mix
        x, mix = beats_mix.produce(notes, programs, desc['seed'], soundfont, tmp, songs.write_midi, read_wav)
        desc.update(mix)
        return x
    return render(notes, programs, soundfont, reverb, chorus, tmp)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', required=True)
    ap.add_argument('--songs', type=int, default=240)
    ap.add_argument('--testsongs', type=int, default=40)
    ap.add_argument('--seed', type=int, default=20261205)
    ap.add_argument('--strata', default='./strata')
    ap.add_argument('--generator', type=int, default=1,
                    help='beats_songs.make_song\'s generator: 1 (sessions 1-4), 2 (loudness not always on the bar, loops), '
                    '3 (and songs whose bar only the harmony marks), 4 (3 played and mixed as records are: beats_mix.py)')
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    index = []
    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.songs):
            seed = args.seed + k
            notes, programs, beats, desc = songs.make_song(seed, duration_s=float(rng.uniform(22, 34)),
                                                           generator=args.generator)
            reverb, chorus = rng.random() < 0.5, rng.random() < 0.3
            x = render_song(notes, programs, desc, SOUNDFONT, reverb, chorus, tmp)
            desc['source'] = 'fluidsynth'
            save(args.out, k, x, beats, desc, rng, index)
            print('song %d/%d %s %.0f BPM %s' % (k + 1, args.songs, desc['meter'], desc['bpm'], desc['tempo']),
                  flush=True)
        if args.testsongs:
            here = os.path.dirname(os.path.abspath(__file__))
            subprocess.run([args.strata, '--quiet', 'run', os.path.join(here, 'testsongs.lua'), tmp,
                            str(args.testsongs), str(args.seed)], check=True)
            for j in range(args.testsongs):
                x, rate = read_wav(os.path.join(tmp, 'testsong%03d.wav' % j))
                assert rate == bf.RATE
                beats = np.loadtxt(os.path.join(tmp, 'testsong%03d.txt' % j), ndmin=2)
                with open(os.path.join(tmp, 'testsong%03d.json' % j)) as f:
                    desc = json.load(f)
                desc['source'] = 'testsong'
                save(args.out, args.songs + j, x, beats, desc, rng, index)
            print('testsongs: %d' % args.testsongs, flush=True)
    with open(os.path.join(args.out, 'index.json'), 'w') as f:
        json.dump(index, f, indent=1)


if __name__ == '__main__':
    main()
