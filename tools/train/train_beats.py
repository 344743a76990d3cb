#!/usr/bin/python3
"""Train the beat tracker's TCN on the generated data and write its weights
(models/beats_tcn.safetensors) and a test fixture (models/beats_tcn_fixture.safetensors:
a signal, its features from beats_features.py, and PyTorch's activations),
which make test compares with the C front end and forward pass.

    train_beats.py --data DIR [DIR...] --models DIR [--epochs N] [--max-minutes M] [--seed S] [--log FILE]
                   [--negatives N] [--tempo-weight W] [--downbeat-weight W]

The network (run in C by nodes/activations.c through nodes/dsp/nn.c):
  features (n_bands x time) -> conv1d k3 -> BN -> ELU
  -> per dilation d in 1, 2, ..., 256: x + Dropout(ELU(BN(conv1d k5 dilation d)(x)))
  -> conv1d k1 -> softmax over (no beat, beat, downbeat)
Non-causal ('same') padding; about 20 s of receptive field at 100 frames/s.

Training only (not exported, not run in C): a tempo head as in Boeck & Davies (2019), the mean
of the last hidden layer over the crop -> dense -> softmax over 300 tempo classes (1 BPM each),
trained on the crop's tempo; it makes the shared layers represent the beat period, which the
bar (several periods long) is built on. And clips without a beat (beats_negatives.py) trained
with "no beat" in every frame.
"""
import argparse
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import beats_features as bf  # noqa: E402
import beats_negatives  # noqa: E402

DILATIONS = [1, 2, 4, 8, 16, 32, 64, 128, 256]
CHANNELS = 44
KERNEL = 5
FPS = 100
N_TEMPI = 300  # tempo classes of the training-only tempo head: 0..299 BPM


class TCN(nn.Module):
    def __init__(self, n_bands, channels=CHANNELS, dilations=DILATIONS, kernel=KERNEL, dropout=0.15):
        super().__init__()
        self.inp = nn.Conv1d(n_bands, channels, 3, padding=1)
        self.inp_bn = nn.BatchNorm1d(channels)
        self.convs = nn.ModuleList(nn.Conv1d(channels, channels, kernel, dilation=d,
                                             padding=d * (kernel - 1) // 2) for d in dilations)
        self.bns = nn.ModuleList(nn.BatchNorm1d(channels) for _ in dilations)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Conv1d(channels, 3, 1)
        self.tempo = nn.Linear(channels, N_TEMPI)  # training only: not exported

    def hidden(self, x):
        h = nn.functional.elu(self.inp_bn(self.inp(x)))
        for conv, bn in zip(self.convs, self.bns):
            h = h + self.drop(nn.functional.elu(bn(conv(h))))
        return h

    def forward(self, x):  # x: batch x bands x time -> logits batch x 3 x time
        return self.out(self.hidden(x))

    def forward_with_tempo(self, x):  # and tempo logits batch x N_TEMPI
        h = self.hidden(x)
        return self.out(h), self.tempo(self.drop(h.mean(dim=2)))


def targets(n_frames, times, positions):
    """Soft class targets (3 x n_frames): the beat's frame 1, its neighbours 0.5."""
    t = np.zeros((3, n_frames), dtype=np.float32)
    for time_s, pos in zip(times, positions):
        f = int(round(time_s * FPS))
        cls = 2 if pos == 1 else 1
        for df, w in ((-1, 0.5), (0, 1.0), (1, 0.5)):
            if 0 <= f + df < n_frames:
                t[cls, f + df] = max(t[cls, f + df], w)
    t[0] = np.clip(1.0 - t[1] - t[2], 0.0, 1.0)
    return t


def tempo_target(y):
    """Soft tempo class target (N_TEMPI) of a crop's frame targets: 60 / median beat interval,
    the class 1, its neighbours 0.5 and 0.25 (as Boeck & Davies); zeros (no loss) when the crop
    has fewer than three beats."""
    t = np.zeros(N_TEMPI, dtype=np.float32)
    frames = np.flatnonzero(np.maximum(y[1], y[2]) >= 1.0)
    if len(frames) < 3:
        return t
    bpm = int(round(60.0 * FPS / np.median(np.diff(frames))))
    for d, w in ((-2, 0.25), (-1, 0.5), (0, 1.0), (1, 0.5), (2, 0.25)):
        if 0 <= bpm + d < N_TEMPI:
            t[bpm + d] = w
    return t / t.sum()


def negatives(n, seed, kinds, duration_s=25.0):
    """n clips without a beat (beats_negatives.py) of the given kinds, augmented as the songs are,
    as (x, y, item)."""
    import make_beats_data  # its augmentation (gain, tilt, band limits, reverb, noise)
    out, rng = [], np.random.default_rng(seed)
    for k in range(n):
        sig, kind = beats_negatives.make_clip(seed + k, duration_s, kinds)
        x = bf.features(make_beats_data.augment(sig, rng)).astype(np.float16).astype(np.float32).T
        out.append((x, targets(x.shape[1], [], []), {'source': 'negative', 'kind': kind}))
    return out


def load(data_dirs):
    """Every song of each folder; DIR:N takes its first N songs (0000.npz ...)."""
    songs = []
    for spec in data_dirs:
        data_dir, _, limit = spec.partition(':')
        index_path = os.path.join(data_dir, 'index.json')
        if os.path.exists(index_path):
            with open(index_path) as f:
                index = json.load(f)
        else:
            index = [{'file': '%04d.npz' % k} for k in range(int(limit))]
        if limit:
            index = index[:int(limit)]
        for item in index:
            z = np.load(os.path.join(data_dir, item['file']))
            x = z['features'].astype(np.float32).T  # bands x time
            songs.append((x, targets(x.shape[1], z['beat_times'], z['beat_positions']), item))
    return songs


# band edges (Hz) of recordings made at low sampling rates, for band-limiting crops on the fly
LOW_RATE_EDGES = [3800.0, 5000.0, 7600.0, 10500.0, 15000.0]


def band_centres():
    """Centre frequency (Hz) of each band of the front end."""
    fb = bf.filterbank()
    bins = np.arange(fb.shape[0]) * bf.RATE / bf.N_FFT
    return (fb * bins[:, None]).sum(axis=0)


CENTRES = None


def band_limit(x, rng):
    """A crop as if recorded at a low sampling rate: nothing above the band edge (log10(1 + 0))."""
    global CENTRES
    if CENTRES is None:
        CENTRES = band_centres()
    edge = rng.choice(LOW_RATE_EDGES) * rng.uniform(0.9, 1.05)
    x = x.copy()
    x[CENTRES > edge] = 0.0
    return x


def batches(songs, rng, crop, batch, band_limit_p=0.0):
    order = rng.permutation(len(songs))
    for start in range(0, len(order) - batch + 1, batch):
        xs, ys = [], []
        for k in order[start:start + batch]:
            x, y, _ = songs[k]
            n = x.shape[1]
            if n > crop:
                a = int(rng.integers(0, n - crop + 1))
                x, y = x[:, a:a + crop], y[:, a:a + crop]
            else:
                x = np.pad(x, ((0, 0), (0, crop - n)))
                y = np.pad(y, ((0, 0), (0, crop - n)))
                y[0, n:] = 1.0
            if band_limit_p and rng.random() < band_limit_p:
                x = band_limit(x, rng)
            xs.append(x)
            ys.append(y)
        yield torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ys)), \
            torch.from_numpy(np.stack([tempo_target(y) for y in ys]))


def soft_ce(logits, target):
    return -(target * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()


def downbeat_ce(logits, target):
    """At the beats (frames whose beat + downbeat target is at least 0.5): which kind of beat it is,
    as a two-way choice between the downbeat and beat classes, weighted by how much of a beat the
    frame is. log d - log b is what the decoder weighs at a beat to place the bar; in the plain
    three-class loss that choice is a few per cent of the frames' weight, beside "beat or no beat"."""
    w = target[:, 1] + target[:, 2]
    mask = (w >= 0.5).to(logits.dtype) * w
    z = logits[:, 2] - logits[:, 1]
    p = target[:, 2] / w.clamp(min=1e-6)
    bce = torch.nn.functional.binary_cross_entropy_with_logits(z, p, reduction='none')
    return (bce * mask).sum() / mask.sum().clamp(min=1e-6)


def tempo_ce(logits, target):
    """Mean over the crops that have a tempo (the others' targets are all zero)."""
    has = target.sum(dim=1) > 0
    if not bool(has.any()):
        return logits.sum() * 0.0
    return -(target[has] * torch.log_softmax(logits[has], dim=1)).sum(dim=1).mean()


def evaluate(model, songs):
    """Held-out loss per frame, and the downbeat-or-beat loss at the beats (downbeat_ce)."""
    model.eval()
    total, frames, down, beats = 0.0, 0, 0.0, 0.0
    with torch.no_grad():
        for x, y, _ in songs:
            logits = model(torch.from_numpy(x)[None])
            target = torch.from_numpy(y)[None]
            total += float(soft_ce(logits, target)) * x.shape[1]
            frames += x.shape[1]
            w = float(((target[:, 1] + target[:, 2]) >= 0.5).to(torch.float32).mul(target[:, 1] + target[:, 2]).sum())
            down += float(downbeat_ce(logits, target)) * w
            beats += w
    model.train()
    return total / frames, down / max(beats, 1e-6)


def write_safetensors(path, tensors, metadata):
    """safetensors: 8-byte little-endian header length, a JSON header (dtype, shape,
    data_offsets per tensor, __metadata__ strings), then the raw little-endian data."""
    header, blobs, offset = {'__metadata__': metadata}, [], 0
    for name, array in tensors.items():
        a = np.ascontiguousarray(array, dtype='<f4')
        header[name] = {'dtype': 'F32', 'shape': list(a.shape), 'data_offsets': [offset, offset + a.nbytes]}
        blobs.append(a.tobytes())
        offset += a.nbytes
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * ((8 - len(text) % 8) % 8)
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def export(model, path, n_bands, extra):
    sd = {k: v.detach().numpy() for k, v in model.state_dict().items()
          if not k.endswith('num_batches_tracked') and not k.startswith('tempo.')}
    meta = {'format': 'strata beats tcn 1', 'dilations': ','.join(map(str, DILATIONS)),
            'kernel': str(KERNEL), 'n_bands': str(n_bands), 'fps': str(FPS),
            'batch_norm_eps': str(model.inp_bn.eps), 'outputs': 'softmax: no beat, beat, downbeat'}
    meta.update(extra)
    write_safetensors(path, sd, meta)


def read_safetensors(path):
    """The tensors of a safetensors file written by write_safetensors (F32 only)."""
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, t in header.items():
        if name == '__metadata__':
            continue
        a, b = t['data_offsets']
        out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype='<f4').reshape(t['shape']).copy())
    return out


def fixture_signal():
    """One second at 44.1 kHz: a chord, clicks and a little noise (so that every band sits well above
    the rounding of a float32 FFT, which the C front end uses)."""
    n = np.arange(bf.RATE, dtype=np.float64)
    x = 0.3 * np.sin(2 * np.pi * 220.0 * n / bf.RATE) + 0.2 * np.sin(2 * np.pi * 1375.0 * n / bf.RATE)
    x += 0.1 * np.sin(2 * np.pi * 7000.0 * n / bf.RATE)
    x[(n % 11025) < 64] += 0.5
    x += np.random.default_rng(7).normal(0.0, 1e-3, len(x))
    return x.astype(np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', required=True, nargs='+', help='folders made by make_beats_data.py; DIR:N takes the first N songs')
    ap.add_argument('--models', required=True)
    ap.add_argument('--epochs', type=int, default=40)
    ap.add_argument('--max-minutes', type=float, default=35.0,
                    help='stop after an epoch that ends past this wall time; 0: no limit '
                         '(with --stop-after, so that a slow machine stops at the same epoch)')
    ap.add_argument('--seed', type=int, default=20261205)
    ap.add_argument('--crop', type=int, default=1200)
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--log', default=None)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--init', default=None,
                    help='start from these weights (a beats_tcn.safetensors of the same shape)')
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--stop-after', type=int, default=0,
                    help='stop after this many epochs (the schedule still spans --epochs): '
                         'reproduces a run that --max-minutes stopped')
    ap.add_argument('--band-limit', type=float, default=0.15,
                    help='share of crops band-limited on the fly as if recorded at 8-32 kHz')
    ap.add_argument('--negatives', type=int, default=0,
                    help='clips without a beat (beats_negatives.py) added to the songs')
    ap.add_argument('--negative-kinds', default=','.join(beats_negatives.KINDS),
                    help='which kinds of clips without a beat (%s)' % ','.join(beats_negatives.KINDS))
    ap.add_argument('--downbeat-weight', type=float, default=0.0,
                    help='weight of an extra loss at the beats: downbeat or beat (0: none)')
    ap.add_argument('--tempo-weight', type=float, default=0.0,
                    help='weight of the training-only tempo head\'s loss (0: no tempo head)')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    songs = load(args.data)
    if args.negatives:
        songs += negatives(args.negatives, args.seed + 7, args.negative_kinds.split(','))
        print('%d clips without a beat added' % args.negatives, flush=True)
    n_bands = songs[0][0].shape[0]
    val_idx = set(range(0, len(songs), 10))  # every tenth song held out
    train = [s for k, s in enumerate(songs) if k not in val_idx]
    val = [s for k, s in enumerate(songs) if k in val_idx]
    model = TCN(n_bands)
    if args.init:
        state = read_safetensors(args.init)
        for k, v in model.state_dict().items():
            if k.endswith('num_batches_tracked') or k.startswith('tempo.'):
                state[k] = v
        model.load_state_dict(state)
        print('starting from %s' % args.init, flush=True)
    n_params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    curve, best, best_val, best_state = [], math.inf, math.inf, None
    t0 = time.time()
    print('%d training songs, %d held out, %d parameters' % (len(train), len(val), n_params), flush=True)
    for epoch in range(args.epochs):
        losses, tempo_losses, down_losses = [], [], []
        for x, y, tempo in batches(train, rng, args.crop, args.batch, args.band_limit):
            opt.zero_grad()
            if args.tempo_weight:
                logits, tempo_logits = model.forward_with_tempo(x)
                loss = soft_ce(logits, y)
                tempo_loss = tempo_ce(tempo_logits, tempo)
                total = loss + args.tempo_weight * tempo_loss
                tempo_losses.append(float(tempo_loss))
            else:
                logits = model(x)
                loss = soft_ce(logits, y)
                total = loss
            if args.downbeat_weight:
                down_loss = downbeat_ce(logits, y)
                total = total + args.downbeat_weight * down_loss
                down_losses.append(float(down_loss))
            total.backward()
            opt.step()
            losses.append(float(loss))
        sched.step()
        v, v_down = evaluate(model, val)
        elapsed = time.time() - t0
        tl = float(np.mean(tempo_losses)) if tempo_losses else 0.0
        dl = float(np.mean(down_losses)) if down_losses else 0.0
        curve.append({'epoch': epoch + 1, 'train_loss': float(np.mean(losses)), 'val_loss': v,
                      'val_downbeat_loss': v_down, 'downbeat_loss': dl, 'tempo_loss': tl, 'minutes': elapsed / 60})
        print('epoch %d train %.4f val %.4f downbeat %.3f val downbeat %.3f tempo %.3f %.1f min' % (
            epoch + 1, np.mean(losses), v, dl, v_down, tl, elapsed / 60), flush=True)
        score = v + args.downbeat_weight * v_down  # the objective trained, on the held-out songs
        if score < best:
            best, best_val = score, v
            best_state = {k: t.clone() for k, t in model.state_dict().items()}
        if args.stop_after and epoch + 1 >= args.stop_after:
            print('stopping after %d epochs, as asked' % (epoch + 1), flush=True)
            break
        if args.max_minutes > 0 and elapsed / 60 > args.max_minutes:
            print('stopping: %.1f minutes' % (elapsed / 60), flush=True)
            break
    model.load_state_dict(best_state)
    model.eval()
    os.makedirs(args.models, exist_ok=True)
    export(model, os.path.join(args.models, 'beats_tcn.safetensors'), n_bands,
           {'parameters': str(n_params), 'epochs': str(len(curve)), 'best_val_loss': '%.5f' % best_val,
            'seed': str(args.seed), 'songs': str(len(songs)),
            'init': os.path.basename(args.init) if args.init else 'random',
            'negatives': str(args.negatives), 'negative_kinds': args.negative_kinds, 'tempo_weight': str(args.tempo_weight), 'crop': str(args.crop),
            'downbeat_weight': str(args.downbeat_weight),
            # the weighted objective that chose the epoch, where it is not the held-out loss alone
            **({'best_objective': '%.5f' % best} if args.downbeat_weight > 0 else {})})
    sig = fixture_signal()
    feats = bf.features(sig)
    with torch.no_grad():
        prob = torch.softmax(model(torch.from_numpy(feats.T.copy())[None]), dim=1)[0].numpy()
    write_safetensors(os.path.join(args.models, 'beats_tcn_fixture.safetensors'),
                      {'signal': sig, 'features': feats, 'activations': prob[1:].T.copy()},
                      {'what': 'signal (1 s, 44.1 kHz), features (time x bands) from '
                               'tools/train/beats_features.py, activations (time x 2: beat, downbeat) '
                               'from PyTorch with the weights of beats_tcn.safetensors'})
    if args.log:
        with open(args.log, 'w') as f:
            json.dump({'parameters': n_params, 'songs': len(songs), 'held_out': len(val), 'curve': curve,
                       'best_val_loss': best_val, 'best_objective': best, 'minutes': (time.time() - t0) / 60}, f, indent=1)


if __name__ == '__main__':
    main()
