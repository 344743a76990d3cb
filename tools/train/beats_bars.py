#!/usr/bin/python3
"""Where in the bar does a beat model put its downbeats? A diagnosis tool (doc/beats.md).

    beats_bars.py --model M.safetensors [--model ...] FILE.wav[:FILE.beats] ...

For each song with a reference beat file (time<TAB>position, the corpus format; default: the .wav's
name with .beats), the network's activations (PyTorch, the same numbers as the C network) are read at
the reference beats (the largest value within +-2 frames) and grouped by position in the bar:

  pos k: mean downbeat activation d, mean beat activation b, and the downbeat share d / (b + d);
  phase: the DBN's observation evidence for each rotation of the bar, i.e. the sum over the beats of
         log d where the rotated position is 1 and log b elsewhere (observation_lambda's regions, at
         the beats only), relative to the true rotation (0): a positive number for a rotation means the
         decoder prefers that wrong phase, whatever its tempo model does.

The wav is read as 16-bit PCM at any rate (resampled to 44.1 kHz with an FFT when needed).
"""
import argparse
import os
import sys
import wave

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import beats_features as bf  # noqa: E402
import train_beats as tb  # noqa: E402


def read_wav(path):
    with wave.open(path, 'rb') as w:
        n, ch, width, rate = w.getnframes(), w.getnchannels(), w.getsampwidth(), w.getframerate()
        raw = w.readframes(n)
    assert width == 2, 'expected 16-bit audio from %s' % path
    x = np.frombuffer(raw, dtype='<i2').astype(np.float64).reshape(-1, ch).mean(axis=1) / 32768.0
    if rate != bf.RATE:  # band-limited FFT resampling: enough for a diagnosis
        m = int(round(len(x) * bf.RATE / rate))
        X = np.fft.rfft(x)
        Y = np.zeros(m // 2 + 1, dtype=complex)
        k = min(len(X), len(Y))
        Y[:k] = X[:k]
        x = np.fft.irfft(Y, m) * (m / len(x))
    return x.astype(np.float32)


def load_model(path):
    state = tb.read_safetensors(path)
    n_bands = state['inp.weight'].shape[1]
    model = tb.TCN(n_bands, channels=state['inp.weight'].shape[0])
    for k, v in model.state_dict().items():
        if k not in state:
            state[k] = v
    model.load_state_dict(state)
    model.eval()
    return model


def activations(model, x):
    with torch.no_grad():
        feats = bf.features(x).astype(np.float32)
        p = torch.softmax(model(torch.from_numpy(feats.T.copy())[None]), dim=1)[0].numpy()
    return p[1], p[2]


def at_beats(a, times):
    out = []
    for t in times:
        f = int(round(t * tb.FPS))
        lo, hi = max(0, f - 2), min(len(a), f + 3)
        out.append(a[lo:hi].max() if hi > lo else 0.0)
    return np.array(out)


def analyse(model, wav, beats_path):
    ref = np.loadtxt(beats_path, ndmin=2)
    times, pos = ref[:, 0], ref[:, 1].astype(int)
    meter = int(pos.max())
    b, d = activations(model, read_wav(wav))
    bb, dd = at_beats(b, times), at_beats(d, times)
    rows = []
    for k in range(1, meter + 1):
        sel = pos == k
        rows.append((k, dd[sel].mean(), bb[sel].mean(), (dd[sel] / np.maximum(bb[sel] + dd[sel], 1e-9)).mean()))
    ld, lb = np.log(np.maximum(dd, 1e-6)), np.log(np.maximum(bb, 1e-6))
    evidence = []
    for r in range(meter):  # rotation r: beat at true position p is taken as position ((p-1+r) % meter) + 1
        down = ((pos - 1 + r) % meter) == 0
        evidence.append(float(np.where(down, ld, lb).sum()))
    evidence = [e - evidence[0] for e in evidence]
    return meter, rows, evidence


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', action='append', required=True)
    ap.add_argument('files', nargs='+')
    args = ap.parse_args()
    torch.set_num_threads(1)
    models = [(m, load_model(m)) for m in args.model]
    for spec in args.files:
        wav, _, beats = spec.partition(':')
        beats = beats or os.path.splitext(wav)[0] + '.beats'
        for name, model in models:
            meter, rows, ev = analyse(model, wav, beats)
            cells = ' '.join('%d: d %.2f b %.2f share %.2f |' % r for r in rows)
            print('%s [%s] %d/x %s rotations vs true: %s' % (
                os.path.basename(wav), os.path.basename(os.path.dirname(name)) or name, meter, cells,
                ' '.join('%+.1f' % e for e in ev[1:])), flush=True)


if __name__ == '__main__':
    main()
