#!/usr/bin/python3
"""Train strata's U-Net mask model (Jansson et al., ISMIR 2017, as Spleeter uses it) and
export it for the `unet` node.

    unet.py --data DIR [DIR...] --val DIR --models DIR [--widths 8,16,32,64,128,256]
            [--max-minutes 60] [--threads 2] [--seed S]
    unet.py --musdb ROOT ...      (MUSDB18 as WAV folders: ROOT/train/<track>/{mixture,vocals,
                                   drums,bass,other}.wav; vocals against the sum of the others)
    unet.py --fixture-only --models DIR    (only the small conformance fixture)
    unet.py --init FILE --plateau N ...    (go on from an exported model; halve the rate after
                                            N epochs without a better validation loss)

Data folders come from make_unet_data.py (lead and accompaniment stems, mono, 44.1 kHz).
Every example is made at training time from the stems: a crop of each, pitch shifted by
resampling, gain and EQ at random, and the lead of one song remixed with the accompaniment
of another (Uhlich et al. 2017). The loss is the paper's: L1 between the masked mixture
magnitude and each true stem's magnitude, per source. Seeds are fixed; torch runs on at most
--threads threads.

Model file (safetensors, float32): enc{i}.weight/bias and enc{i}.bn.* for the encoder's
5x5 stride-2 convolutions (batch norm, leaky ReLU 0.2), dec{i}.weight/bias (+ dec{i}.bn.*
except the last) for the decoder's transposed convolutions (batch norm, ReLU, skip
concatenation), the last with one sigmoid mask per source. Metadata says the STFT, the
patch, the input compression and the sources; the C node checks all of it.
"""
import argparse
import json
import math
import os
import struct
import time

import numpy as np
import torch
import torch.nn as nn

RATE, N_FFT, HOP = 44100, 2048, 512
COMPRESS = 1000.0  # input = log1p(COMPRESS * |X| / max|X|) / log1p(COMPRESS), per patch


class UNet(nn.Module):
    def __init__(self, widths, n_sources, dropout_layers=3, dropout=0.5):
        super().__init__()
        self.widths = widths
        self.enc = nn.ModuleList()
        c = 1
        for w in widths:
            self.enc.append(nn.ModuleDict({'conv': nn.Conv2d(c, w, 5, stride=2, padding=2),
                                           'bn': nn.BatchNorm2d(w)}))
            c = w
        self.dec = nn.ModuleList()
        depth = len(widths)
        for i in range(depth - 1, 0, -1):  # up to the width of encoder layer i-1
            c_in = widths[i] if i == depth - 1 else 2 * widths[i]
            self.dec.append(nn.ModuleDict({'conv': nn.ConvTranspose2d(c_in, widths[i - 1], 5, stride=2, padding=2,
                                                                      output_padding=1),
                                           'bn': nn.BatchNorm2d(widths[i - 1])}))
        c_in = widths[0] if depth == 1 else 2 * widths[0]
        self.last = nn.ConvTranspose2d(c_in, n_sources, 5, stride=2, padding=2, output_padding=1)
        self.drop = nn.Dropout(dropout)
        self.dropout_layers = dropout_layers

    def forward(self, x):
        """x: batch x 1 x bins x frames (compressed input) -> batch x sources x bins x frames masks."""
        skips = []
        for layer in self.enc:
            x = nn.functional.leaky_relu(layer['bn'](layer['conv'](x)), 0.2)
            skips.append(x)
        x = skips.pop()
        for k, layer in enumerate(self.dec):
            x = torch.relu(layer['bn'](layer['conv'](x)))
            if k < self.dropout_layers:
                x = self.drop(x)
            x = torch.cat([skips.pop(), x], dim=1)
        return torch.sigmoid(self.last(x))


def compress(mag):
    """mag: batch x bins x frames -> the network's input (batch x 1 x bins x frames)."""
    peak = mag.amax(dim=(1, 2), keepdim=True)
    return (torch.log1p(COMPRESS * mag / (peak + 1e-8)) / math.log1p(COMPRESS))[:, None]


# ---------------------------------------------------------------- data
def load_folder(path, limit=0):
    """The songs of a make_unet_data.py folder (the first `limit`, 0: all)."""
    out = []
    for name in sorted(os.listdir(path)):
        if limit and len(out) == limit:
            break
        if name.endswith('.npz'):
            z = np.load(os.path.join(path, name))
            out.append((z['lead'], z['accompaniment']))
    return out


def read_wav_mono(path):
    import wave
    with wave.open(path, 'rb') as w:
        n, ch, width, rate = w.getnframes(), w.getnchannels(), w.getsampwidth(), w.getframerate()
        raw = w.readframes(n)
    if width != 2 or rate != RATE:
        raise SystemExit('%s: expected 16-bit %d Hz WAV' % (path, RATE))
    return (np.frombuffer(raw, dtype='<i2').astype(np.float32).reshape(-1, ch).mean(axis=1) / 32768.0)


def load_musdb(root):
    """MUSDB18 decoded to WAV: root/train/<track>/{vocals,drums,bass,other}.wav."""
    out = []
    base = os.path.join(root, 'train')
    for track in sorted(os.listdir(base)):
        d = os.path.join(base, track)
        lead = read_wav_mono(os.path.join(d, 'vocals.wav'))
        acc = sum(read_wav_mono(os.path.join(d, s + '.wav')) for s in ('drums', 'bass', 'other'))
        out.append((lead.astype(np.float16), acc.astype(np.float16)))
    return out


def crop(rng, x, n, ratio):
    """n samples of x from a random place, resampled by ratio (pitch shift: > 1 raises)."""
    need = int(math.ceil(n * ratio)) + 2
    if len(x) < need:
        x = np.pad(x, (0, need - len(x)))
    a = int(rng.integers(0, len(x) - need + 1))
    seg = x[a:a + need].astype(np.float32)
    if ratio == 1.0:
        return seg[:n], a
    return np.interp(np.arange(n) * ratio, np.arange(need), seg).astype(np.float32), a


def eq_curve(rng, n_bins):
    f = np.arange(n_bins) * RATE / N_FFT + 20.0
    g = (f / 1000.0) ** rng.uniform(-0.3, 0.3)
    for _ in range(int(rng.integers(0, 3))):
        fc, width, db = math.exp(rng.uniform(math.log(100), math.log(8000))), rng.uniform(0.3, 1.5), \
            rng.uniform(-9, 9)
        g *= 10 ** (db / 20 * np.exp(-0.5 * (np.log2(f / fc) / width) ** 2))
    return g.astype(np.float32)


class Examples:
    def __init__(self, songs, frames, bins):
        self.songs, self.frames, self.bins = songs, frames, bins
        self.n = (frames - 1) * HOP + N_FFT
        self.window = torch.hann_window(N_FFT)

    def stft(self, x):
        return torch.stft(torch.from_numpy(x), N_FFT, HOP, window=self.window, center=False,
                          return_complex=True)[:, :self.bins, :]

    def batch(self, rng, size, augment=True):
        leads, accs = [], []
        for _ in range(size):
            i = int(rng.integers(len(self.songs)))
            same = not augment or rng.random() < 0.3
            j = i if same else int(rng.integers(len(self.songs)))
            if same:
                ratio = 2 ** (rng.uniform(-2, 2) / 12) if augment and rng.random() < 0.3 else 1.0
                lead, a = crop(rng, self.songs[i][0], self.n, ratio)
                acc = self.songs[i][1][a:a + len(lead)].astype(np.float32)
                if ratio != 1.0:
                    need = int(math.ceil(self.n * ratio)) + 2
                    seg = np.pad(self.songs[i][1][a:a + need].astype(np.float32), (0, need))[:need]
                    acc = np.interp(np.arange(self.n) * ratio, np.arange(need), seg).astype(np.float32)
                acc = np.pad(acc, (0, self.n - len(acc)))
            else:
                lead, _ = crop(rng, self.songs[i][0], self.n, 2 ** (rng.uniform(-3, 3) / 12)
                               if rng.random() < 0.5 else 1.0)
                acc, _ = crop(rng, self.songs[j][1], self.n, 2 ** (rng.uniform(-2, 2) / 12)
                              if rng.random() < 0.3 else 1.0)
            if augment:
                lead = lead * 10 ** (rng.uniform(-9, 4) / 20)
                if rng.random() < 0.04:
                    lead = lead * 0.0
                if rng.random() < 0.03:
                    acc = acc * 0.0
            leads.append(lead)
            accs.append(acc)
        L, A = self.stft(np.stack(leads)), self.stft(np.stack(accs))
        if augment:
            gl = torch.from_numpy(np.stack([eq_curve(rng, self.bins) for _ in range(size)]))[:, :, None]
            ga = torch.from_numpy(np.stack([eq_curve(rng, self.bins) for _ in range(size)]))[:, :, None]
            L, A = L * gl, A * ga
        X = L + A
        return X.abs(), torch.stack([L.abs(), A.abs()], dim=1)


def loss_fn(masks, mix, targets):
    """The paper's L1 on masked magnitudes, each patch scaled by its mixture's mean magnitude
    (a loss near 1, not 1e-3: Adam's epsilon then does not damp the steps)."""
    scale = mix.mean(dim=(1, 2), keepdim=True)[:, None] + 1e-8
    return (masks * mix[:, None] / scale - targets / scale).abs().mean()


MASK_POWER = 1.0  # the node's default power (nodes/unet.c); --power changes it


def ratio_masks(masks, power=None):
    """The masks the node applies (masks = "ratio"): p_i^power / sum_j p_j^power, at the node's
    default power unless told."""
    p = masks ** (MASK_POWER if power is None else power)
    return p / (p.sum(dim=1, keepdim=True) + 1e-10)


def loss_ratio(masks, mix, targets):
    """L1 between the ratio-masked mixture (what the node gives) and each true stem's magnitude,
    scaled by the batch's mean magnitude: loud patches weigh more, as in a song's SDR."""
    scale = mix.mean() + 1e-8
    return (ratio_masks(masks) * mix[:, None] / scale - targets / scale).abs().mean()


LOSSES = {'masks': loss_fn, 'ratio': loss_ratio}


def validate(model, batches):
    """The mean loss over the validation batches, and the SDR (dB, mean over the sources) of the
    magnitudes the node would give (ratio masks at --power), summed over all the patches: like a
    song's SDR, loud patches weigh more (the per-patch scaled loss weighs every patch alike)."""
    model.eval()
    losses, err, energy = [], 0.0, 0.0
    with torch.no_grad():
        for mix, targets in batches:
            masks = model(compress(mix))
            losses.append(float(loss_fn(masks, mix, targets)))
            est = ratio_masks(masks) * mix[:, None]
            err = err + ((targets - est) ** 2).sum(dim=(0, 2, 3)).double()
            energy = energy + (targets ** 2).sum(dim=(0, 2, 3)).double()
    return float(np.mean(losses)), float(torch.mean(10 * torch.log10(energy / (err + 1e-20))))


# ---------------------------------------------------------------- export
def write_safetensors(path, tensors, meta):
    header, offset, blobs = {}, 0, []
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr, dtype='<f4')
        header[name] = {'dtype': 'F32', 'shape': list(arr.shape), 'data_offsets': [offset, offset + arr.nbytes]}
        offset += arr.nbytes
        blobs.append(arr.tobytes())
    header['__metadata__'] = {k: str(v) for k, v in meta.items()}
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * ((8 - len(text) % 8) % 8)
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(blobs))
    os.replace(tmp, path)


def model_tensors(model):
    t = {}
    for i, layer in enumerate(model.enc):
        t['enc%d.weight' % i] = layer['conv'].weight
        t['enc%d.bias' % i] = layer['conv'].bias
        for k in ('weight', 'bias', 'running_mean', 'running_var'):
            t['enc%d.bn.%s' % (i, k)] = getattr(layer['bn'], k)
    for i, layer in enumerate(model.dec):
        t['dec%d.weight' % i] = layer['conv'].weight
        t['dec%d.bias' % i] = layer['conv'].bias
        for k in ('weight', 'bias', 'running_mean', 'running_var'):
            t['dec%d.bn.%s' % (i, k)] = getattr(layer['bn'], k)
    i = len(model.dec)
    t['dec%d.weight' % i] = model.last.weight
    t['dec%d.bias' % i] = model.last.bias
    return {k: v.detach().numpy() for k, v in t.items()}


def model_meta(model, bins, frames, sources, extra):
    m = {'format': 'strata-unet-1', 'rate_hz': RATE, 'n_fft': N_FFT, 'hop': HOP, 'window': 'hann',
         'bins': bins, 'frames': frames, 'widths': ','.join(str(w) for w in model.widths),
         'sources': ','.join(sources), 'compress': '%g' % COMPRESS, 'batch_norm_eps': '1e-05',
         'leaky_slope': '0.2'}
    m.update(extra)
    return m


def load_exported(model, path):
    with open(path, 'rb') as f:
        raw = f.read()
    n = struct.unpack('<Q', raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    tensors = {}
    for name, h in header.items():
        if name == '__metadata__':
            continue
        a, b = h['data_offsets']
        tensors[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype='<f4').reshape(h['shape']).copy())
    state = {}
    for i in range(len(model.enc)):
        state['enc.%d.conv.weight' % i] = tensors['enc%d.weight' % i]
        state['enc.%d.conv.bias' % i] = tensors['enc%d.bias' % i]
        for k in ('weight', 'bias', 'running_mean', 'running_var'):
            state['enc.%d.bn.%s' % (i, k)] = tensors['enc%d.bn.%s' % (i, k)]
    for i in range(len(model.dec)):
        state['dec.%d.conv.weight' % i] = tensors['dec%d.weight' % i]
        state['dec.%d.conv.bias' % i] = tensors['dec%d.bias' % i]
        for k in ('weight', 'bias', 'running_mean', 'running_var'):
            state['dec.%d.bn.%s' % (i, k)] = tensors['dec%d.bn.%s' % (i, k)]
    state['last.weight'] = tensors['dec%d.weight' % len(model.dec)]
    state['last.bias'] = tensors['dec%d.bias' % len(model.dec)]
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected and all(k.endswith('num_batches_tracked') for k in missing), missing


def export(model, path, bins, frames, sources, extra):
    write_safetensors(path, model_tensors(model), model_meta(model, bins, frames, sources, extra))


def fixture(models_dir, seed):
    """A tiny model with random weights and batch-norm statistics, an input patch and PyTorch's
    masks: the C forward must give the same masks within 1e-4."""
    torch.manual_seed(seed)
    model = UNet([4, 8, 16], 2)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.3, 0.3)
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 2.0)
    model.eval()
    bins, frames = 64, 32
    rng = np.random.default_rng(seed)
    mag = (rng.gamma(1.0, 1.0, (bins, frames)) * np.linspace(2, 0.1, bins)[:, None]).astype(np.float32)
    with torch.no_grad():
        masks = model(compress(torch.from_numpy(mag)[None]))[0].numpy()
    export(model, os.path.join(models_dir, 'unet_fixture.safetensors'), bins, frames,
           ['vocals', 'accompaniment'], {'what': 'random weights: conformance fixture'})
    write_safetensors(os.path.join(models_dir, 'unet_fixture_io.safetensors'),
                      {'magnitude': mag, 'masks': masks},
                      {'what': 'magnitude (bins x frames) and the masks (sources x bins x frames) PyTorch '
                               'computes from it with unet_fixture.safetensors'})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', nargs='*', default=[])
    ap.add_argument('--musdb', default=None)
    ap.add_argument('--val', nargs='*', default=[])
    ap.add_argument('--val-songs', type=int, nargs='*', default=[],
                    help='the first N songs of each --val folder, in order (0: all)')
    ap.add_argument('--init', default=None,
                    help='start from this exported model (same widths) instead of random weights')
    ap.add_argument('--loss', choices=sorted(LOSSES), default='masks',
                    help="masks: the paper's L1 on each sigmoid-masked magnitude, per patch scaled; "
                         "ratio: L1 on the ratio-masked magnitudes the node gives, batch scaled")
    ap.add_argument('--power', type=float, default=1.0,
                    help="the ratio masks' power for --loss ratio and the validation SDR (the node's default, 1)")
    ap.add_argument('--select', choices=['loss', 'sdr'], default='loss',
                    help='keep the epoch with the lowest validation loss, or the highest validation '
                         'SDR of the magnitudes (what the node gives: ratio masks)')
    ap.add_argument('--val-batches', type=int, default=12, help='validation batches of 8 patches')
    ap.add_argument('--warmup', type=float, default=0,
                    help='epochs over which the learning rate rises linearly from 0 (a fresh Adam on '
                         'a trained model: its first full-size steps undo the model)')
    ap.add_argument('--plateau', type=int, default=0,
                    help='halve the learning rate after this many epochs without a better validation '
                         'loss (0: a constant rate)')
    ap.add_argument('--models', required=True)
    ap.add_argument('--widths', default='6,12,24,48,96,192')
    ap.add_argument('--bins', type=int, default=512)
    ap.add_argument('--frames', type=int, default=128)
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--steps-per-epoch', type=int, default=150)
    ap.add_argument('--epochs', type=int, default=1000)
    ap.add_argument('--max-minutes', type=float, default=60.0)
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--dropout', type=float, default=0.5, help='on the first three decoder layers')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--seed', type=int, default=20261206)
    ap.add_argument('--log', default=None)
    ap.add_argument('--fixture-only', action='store_true')
    args = ap.parse_args()
    global MASK_POWER
    MASK_POWER = args.power
    torch.set_num_threads(args.threads)
    os.makedirs(args.models, exist_ok=True)
    fixture(args.models, args.seed)
    if args.fixture_only:
        return
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    songs = []
    for d in args.data:
        songs += load_folder(d)
    if args.musdb:
        songs += load_musdb(args.musdb)
    if not songs:
        raise SystemExit('unet.py: no training songs (give --data or --musdb)')
    val_songs = []
    for k, d in enumerate(args.val):
        n = args.val_songs[k] if k < len(args.val_songs) else 0
        val_songs += load_folder(d, n)
    if not args.val:
        val_songs = songs[::10]
    widths = [int(w) for w in args.widths.split(',')]
    if args.bins % (1 << len(widths)) or args.frames % (1 << len(widths)):
        raise SystemExit('unet.py: bins and frames must be multiples of 2^depth')
    model = UNet(widths, 2, dropout=args.dropout)
    if args.init:
        load_exported(model, args.init)
    n_params = sum(p.numel() for p in model.parameters())
    train = Examples(songs, args.frames, args.bins)
    val = Examples(val_songs, args.frames, args.bins)
    vrng = np.random.default_rng(args.seed + 1)
    val_batches = [val.batch(vrng, 8, augment=False) for _ in range(args.val_batches)]
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode='max', factor=0.5, patience=args.plateau - 1,
                                                       min_lr=args.lr / 16) if args.plateau else None
    print('%d songs (%.0f min), %d validation songs, %d parameters' % (
        len(songs), sum(len(s[0]) for s in songs) / RATE / 60, len(val_songs), n_params), flush=True)
    curve, best = [], -math.inf  # best: the selection score (higher is better)

    def score(v, sdr):
        return sdr if args.select == 'sdr' else -v

    if args.init:  # the starting point is the one to beat
        v, sdr = validate(model, val_batches)
        best = score(v, sdr)
        if sched:  # --plateau counts epochs without beating the starting point too
            sched.best = best
        print('start: val %.5f sdr %.3f' % (v, sdr), flush=True)
        curve.append({'epoch': 0, 'examples': 0, 'val_loss': v, 'val_sdr': sdr, 'minutes': 0.0})
        export(model, os.path.join(args.models, 'unet.safetensors'), args.bins, args.frames,
               ['vocals', 'accompaniment'], {'parameters': n_params, 'epochs': 0, 'init': args.init,
                                             'val_loss': '%.5f' % v, 'val_sdr': '%.3f' % sdr,
                                             'seed': args.seed})
    step = 0
    t0 = time.time()
    epoch = 0
    while True:
        epoch += 1
        model.train()
        losses = []
        for _ in range(args.steps_per_epoch):
            step += 1
            if args.warmup:
                for g in opt.param_groups:
                    if step <= args.warmup * args.steps_per_epoch:
                        g['lr'] = args.lr * step / (args.warmup * args.steps_per_epoch)
            mix, targets = train.batch(rng, args.batch)
            opt.zero_grad()
            loss = LOSSES[args.loss](model(compress(mix)), mix, targets)
            loss.backward()
            opt.step()
            losses.append(float(loss))
        v, sdr = validate(model, val_batches)
        elapsed = (time.time() - t0) / 60
        lr = opt.param_groups[0]['lr']
        curve.append({'epoch': epoch, 'examples': epoch * args.steps_per_epoch * args.batch,
                      'train_loss': float(np.mean(losses)), 'val_loss': v, 'val_sdr': sdr,
                      'minutes': elapsed, 'lr': lr})
        print('epoch %d train %.5f val %.5f sdr %.3f lr %.2g %.1f min' % (
            epoch, np.mean(losses), v, sdr, lr, elapsed), flush=True)
        if sched and epoch > args.warmup:
            sched.step(score(v, sdr))
        if score(v, sdr) > best:
            best = score(v, sdr)
            export(model, os.path.join(args.models, 'unet.safetensors'), args.bins, args.frames,
                   ['vocals', 'accompaniment'],
                   {'parameters': n_params, 'epochs': epoch, 'val_loss': '%.5f' % v,
                    'val_sdr': '%.3f' % sdr, 'seed': args.seed,
                    'songs': len(songs), 'minutes': '%.1f' % elapsed, 'init': args.init or 'random'})
        if args.log:
            with open(args.log, 'w') as f:
                json.dump({'parameters': n_params, 'songs': len(songs), 'validation_songs': len(val_songs),
                           'curve': curve, 'select': args.select, 'best_score': best}, f, indent=1)
        if epoch >= args.epochs or elapsed > args.max_minutes:
            print('stopping: %.1f minutes' % elapsed, flush=True)
            break
    write_io_fixture(args.models, widths, val, args.seed)


def write_io_fixture(models_dir, widths, val, seed):
    """The shipped model's own fixture: one validation patch and the best model's masks."""
    model = UNet(widths, 2)
    load_exported(model, os.path.join(models_dir, 'unet.safetensors'))
    model.eval()
    mix, _ = val.batch(np.random.default_rng(seed + 2), 1, augment=False)
    with torch.no_grad():
        masks = model(compress(mix))[0].numpy()
    write_safetensors(os.path.join(models_dir, 'unet_io.safetensors'),
                      {'magnitude': mix[0].numpy(), 'masks': masks},
                      {'what': 'magnitude (bins x frames) of a validation patch and the masks '
                               '(sources x bins x frames) PyTorch computes with unet.safetensors'})


if __name__ == '__main__':
    main()
