"""Generator 4: songs played and mixed the way records are, not rendered in one pass.

Generators 1-3 (beats_songs.py) render a whole song in one FluidSynth pass: every part at the
soundfont's level, one shared reverb, no processing, the velocities the score wrote. Recordings
differ in ways a downbeat tracker meets on every real song:

- **performance** (`perform`): loudness follows the phrase and the section (a crescendo over a
  phrase, a quieter verse and a louder chorus, a swell), not only the beat; chord and bass changes
  are pushed ahead of the bar line (anticipation, the chord tied over the bar: the harmony arrives
  an off-beat early), chords held legato over bar lines, so the bar's cues are blurred and have to
  be combined;
- **production** (`produce`): each part (drums, bass, chords, melody) rendered on its own (the
  FluidR3 soundfont through FluidSynth, or strata's own synthesis: numpy drums with pitch-swept
  sine kicks, noise snares and hats; plucked strings whose harmonics decay faster with frequency,
  as Karplus-Strong; detuned saw pads; two-operator FM keys and bass), then mixed as a production
  is: per-track equalisation (high-pass, a bell, a tilt), per-track compression, levels that vary
  from song to song (drums dominant or buried), a reverb per track (dry drums and bass, a wet pad),
  and a mastering chain on the mix bus (a compressor, then a look-ahead limiter driven 0-12 dB into
  its ceiling, sometimes a soft clipper). The front end sums the channels, so panning is a level
  change here and is not modelled.

Every random choice comes from streams seeded by the song's seed ([seed, 5] for the performance,
[seed, 6] for the production), so a song is the same on every run. Nothing here reads a recording
or any soundfont but FluidR3_GM.
"""
import os
import subprocess

import numpy as np

RATE = 44100
DRUMS, BASS, CHORDS, LEAD = 9, 0, 1, 2
PARTS = {DRUMS: 'drums', BASS: 'bass', CHORDS: 'chords', LEAD: 'lead'}


# ---------------------------------------------------------------- performance

def perform(notes, beats, beats_per_bar, subdiv, seed):
    """The notes (time, length, channel, pitch, velocity) played with phrase dynamics,
    anticipations and legato (see the module's text); the beat grid is unchanged."""
    rng = np.random.default_rng([seed, 5])
    if len(notes) == 0 or len(beats) < 2:
        return notes, {}
    bt = beats[:, 0]
    downs = bt[beats[:, 1] == 1]
    if len(downs) == 0:
        return notes, {}
    ibi = float(np.median(np.diff(bt)))
    phrase = int(rng.choice([2, 4, 4, 8]))
    dyn = str(rng.choice(['none', 'crescendo', 'sections', 'swell'], p=[0.25, 0.3, 0.3, 0.15]))
    depth = float(rng.uniform(8, 30))
    n_bars = len(downs) + 2
    section_level = rng.uniform(-1, 1, n_bars // phrase + 2)
    swell_period = float(rng.uniform(4, 16)) * ibi * beats_per_bar
    push = rng.random() < 0.4  # chord and bass changes anticipated by one subdivision
    push_p = float(rng.uniform(0.3, 0.9))
    push_bars = rng.random(n_bars + 2) < push_p
    legato = rng.random() < 0.35  # chords held over the bar line
    part_depth = {ch: float(rng.uniform(0.4, 1.2)) for ch in PARTS}
    sub = ibi / subdiv
    out = []
    for t, length, ch, pitch, vel in notes:
        k = int(np.searchsorted(downs, t + 0.02, side='right')) - 1  # bar index (-1: pickup)
        bar_start = downs[k] if k >= 0 else downs[0] - ibi * beats_per_bar
        bar_len = (downs[k + 1] - bar_start) if 0 <= k < len(downs) - 1 else ibi * beats_per_bar
        frac_bar = min(max((t - bar_start) / max(bar_len, 1e-3), 0.0), 1.0)
        in_phrase = ((k % phrase) + frac_bar) / phrase if k >= 0 else 0.0
        if dyn == 'crescendo':
            level = (in_phrase - 0.5) * 2.0
        elif dyn == 'sections':
            level = section_level[max(k, 0) // phrase]
        elif dyn == 'swell':
            level = np.sin(2 * np.pi * t / swell_period)
        else:
            level = 0.0
        vel = vel + depth * 0.5 * level * part_depth[ch if ch in PARTS else CHORDS]
        on_downbeat = k >= 0 and abs(t - bar_start) < 0.03
        if push and ch in (BASS, CHORDS) and on_downbeat and k >= 1 and push_bars[k]:
            t, length = t - sub, length + sub  # the change lands an off-beat early, tied over
        if push and ch == DRUMS and pitch == 49 and on_downbeat and k >= 1 and push_bars[k]:
            t = t - sub  # the crash goes with the push
        if legato and ch == CHORDS:
            length = length * float(rng.uniform(1.2, 2.0))
        out.append((max(t, 0.0), length, ch, int(pitch), int(np.clip(round(vel), 12, 127))))
    info = dict(dynamics=dyn, push=bool(push), legato=bool(legato))
    return out, info


# ---------------------------------------------------------------- strata's own instruments

def _env(n, attack_s, decay_s):
    t = np.arange(n) / RATE
    e = np.exp(-t / max(decay_s, 1e-3))
    a = int(attack_s * RATE)
    if a > 1:
        e[:a] *= np.linspace(0, 1, a)
    return e


def _drum_samples(rng):
    """One synthesised kit: name -> waveform (float32, peak about 1)."""
    def noise(n):
        return rng.normal(0, 1, n)

    def hp(x, amount):  # a crude high-pass: first differences, repeated
        for _ in range(amount):
            x = np.diff(x, prepend=0.0)
        return x / (np.max(np.abs(x)) + 1e-12)

    def bp(x, lo, hi):
        size = 1 << int(np.ceil(np.log2(len(x))))
        s = np.fft.rfft(x, size)
        f = np.fft.rfftfreq(size, 1 / RATE)
        s[(f < lo) | (f > hi)] = 0
        y = np.fft.irfft(s, size)[:len(x)]
        return y / (np.max(np.abs(y)) + 1e-12)

    kit = {}
    n = int(0.6 * RATE)
    t = np.arange(n) / RATE
    f0, f1, tau = rng.uniform(120, 220), rng.uniform(40, 65), rng.uniform(0.02, 0.06)
    phase = 2 * np.pi * np.cumsum(f1 + (f0 - f1) * np.exp(-t / tau)) / RATE
    kick = np.sin(phase) * _env(n, 0.001, rng.uniform(0.12, 0.4))
    kick[:200] += noise(200) * np.linspace(0.4, 0, 200) * rng.uniform(0, 1)  # beater click
    kit['kick'] = kick
    n = int(0.4 * RATE)
    t = np.arange(n) / RATE
    tone = np.sin(2 * np.pi * rng.uniform(160, 240) * t) * _env(n, 0.0005, 0.05)
    kit['snare'] = 0.6 * tone + bp(noise(n), 800, 9000) * _env(n, 0.0005, rng.uniform(0.08, 0.2))
    kit['side'] = bp(noise(int(0.08 * RATE)), 1500, 6000) * _env(int(0.08 * RATE), 0, 0.012)
    clap = np.zeros(int(0.3 * RATE))
    for j, d in enumerate((0.0, 0.011, 0.022)):
        a = int(d * RATE)
        m = len(clap) - a
        clap[a:] += bp(noise(m), 900, 5000) * _env(m, 0, 0.01 if j < 2 else 0.12)
    kit['clap'] = clap
    kit['hat_closed'] = hp(noise(int(0.12 * RATE)), 3) * _env(int(0.12 * RATE), 0, rng.uniform(0.015, 0.04))
    kit['hat_open'] = hp(noise(int(0.6 * RATE)), 3) * _env(int(0.6 * RATE), 0, rng.uniform(0.15, 0.35))
    kit['hat_pedal'] = hp(noise(int(0.08 * RATE)), 3) * _env(int(0.08 * RATE), 0.002, 0.02)
    n = int(1.5 * RATE)
    t = np.arange(n) / RATE
    metal = sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) for f in rng.uniform(2500, 9000, 6))
    kit['ride'] = (0.3 * metal / 6 + 0.5 * hp(noise(n), 2)) * _env(n, 0, rng.uniform(0.4, 1.0))
    kit['crash'] = hp(noise(n), 2) * _env(n, 0.002, rng.uniform(0.5, 1.2))
    for name, f in (('tom_lo', 90), ('tom_mid', 130), ('tom_hi', 180)):
        n = int(0.5 * RATE)
        t = np.arange(n) / RATE
        ff = f * rng.uniform(0.85, 1.15)
        ph = 2 * np.pi * np.cumsum(ff * (1 + 0.5 * np.exp(-t / 0.03))) / RATE
        kit[name] = np.sin(ph) * _env(n, 0.001, 0.2)
    kit['shaker'] = hp(noise(int(0.1 * RATE)), 3) * _env(int(0.1 * RATE), 0.01, 0.03)
    n = int(0.3 * RATE)
    t = np.arange(n) / RATE
    kit['cowbell'] = (np.sign(np.sin(2 * np.pi * 540 * t)) + np.sign(np.sin(2 * np.pi * 800 * t))) * 0.3 * _env(n, 0, 0.08)
    return {k: v.astype(np.float32) for k, v in kit.items()}


GM_DRUM = {35: 'kick', 36: 'kick', 37: 'side', 38: 'snare', 40: 'snare', 39: 'clap', 42: 'hat_closed',
           44: 'hat_pedal', 46: 'hat_open', 49: 'crash', 57: 'crash', 51: 'ride', 59: 'ride',
           41: 'tom_lo', 43: 'tom_lo', 45: 'tom_lo', 47: 'tom_mid', 48: 'tom_hi', 50: 'tom_hi',
           54: 'shaker', 70: 'shaker', 56: 'cowbell'}


def synth_drums(notes, n, rng):
    """The drum part (GM drum notes) played on a synthesised kit."""
    kit = _drum_samples(rng)
    out = np.zeros(n + RATE, dtype=np.float32)
    curve = rng.uniform(1.2, 2.2)  # velocity -> amplitude
    gains = {k: rng.uniform(0.5, 1.0) for k in kit}
    for t, _, _, pitch, vel in notes:
        name = GM_DRUM.get(pitch)
        if name is None:
            continue
        s = kit[name]
        a = int(t * RATE)
        if a >= n:
            continue
        m = min(len(s), len(out) - a)
        out[a:a + m] += s[:m] * gains[name] * (vel / 127.0) ** curve
    return out[:n]


def _midi_hz(p):
    return 440.0 * 2.0 ** ((p - 69) / 12.0)


def synth_pitched(notes, n, kind, rng):
    """A pitched part played on one of strata's own instruments: 'pluck' (harmonics decaying faster
    with frequency, as a Karplus-Strong string), 'saw' (two detuned saws, attack and release, a
    one-pole low-pass), 'fm' (two-operator FM, the modulation index decaying: electric piano or
    bass)."""
    out = np.zeros(n + 2 * RATE, dtype=np.float64)
    curve = rng.uniform(1.0, 2.0)
    bright = rng.uniform(0.5, 1.5)
    detune = rng.uniform(0.002, 0.008)
    ratio = float(rng.choice([1.0, 2.0, 3.0, 0.5]))
    index0 = rng.uniform(1.0, 5.0)
    release = rng.uniform(0.05, 0.3)
    cutoff = rng.uniform(1500, 6000)
    for t, length, _, pitch, vel in notes:
        a = int(t * RATE)
        if a >= n:
            continue
        f = _midi_hz(pitch)
        if kind == 'pluck':
            m = int(min(length + 1.0, 3.0) * RATE)
            tt = np.arange(m) / RATE
            y = np.zeros(m)
            for k in range(1, int(min(24, 9000 / f)) + 1):
                y += np.sin(2 * np.pi * k * f * tt + k) / k ** (1.5 / bright) * np.exp(-tt * (1.5 + 0.8 * k * f / 400))
            y *= np.minimum(1.0, np.maximum(0.0, (length + release - tt) / release))  # damped at the note's end
        else:
            hold = min(length, 4.0)
            m = int((hold + release) * RATE)
            tt = np.arange(m) / RATE
            env = np.minimum(1.0, tt / (0.005 if kind == 'fm' else rng.uniform(0.01, 0.15)))
            env *= np.clip((hold + release - tt) / release, 0, 1)
            if kind == 'saw':
                y = sum(2 * ((f * (1 + d) * tt + ph) % 1.0) - 1 for d, ph in ((detune, 0.0), (-detune, 0.37)))
                alpha = np.exp(-2 * np.pi * cutoff / RATE)  # one-pole low-pass, in blocks
                y = _one_pole(y, alpha)
                y *= env
            else:
                index = index0 * np.exp(-tt / 0.3)
                y = np.sin(2 * np.pi * f * tt + index * np.sin(2 * np.pi * f * ratio * tt)) * env * np.exp(-tt / 1.5)
        m = min(len(y), len(out) - a)
        out[a:a + m] += y[:m] * (vel / 127.0) ** curve
    return out[:n].astype(np.float32)


def _one_pole(x, alpha):
    """y[n] = (1 - alpha) x[n] + alpha y[n-1], as a convolution with its geometric kernel (cut at 1e-4)."""
    taps = int(min(len(x), max(8, np.ceil(np.log(1e-4) / np.log(max(alpha, 1e-9))))))
    kernel = (1 - alpha) * alpha ** np.arange(taps)
    size = 1 << int(np.ceil(np.log2(len(x) + taps)))
    return np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(kernel, size), size)[:len(x)]


# ---------------------------------------------------------------- mixing

def _filter(x, gain_fn):
    size = 1 << int(np.ceil(np.log2(len(x) + 1)))
    f = np.fft.rfftfreq(size, 1.0 / RATE)
    f[0] = f[1]
    return np.fft.irfft(np.fft.rfft(x, size) * gain_fn(f), size)[:len(x)]


def eq(x, rng, part):
    """A high-pass (low for the bass and drums), a bell of +-8 dB, a tilt."""
    lo = {'bass': rng.uniform(20, 50), 'drums': rng.uniform(20, 60)}.get(part, rng.uniform(60, 350))
    fc, g_db, q = np.exp(rng.uniform(np.log(100), np.log(8000))), rng.uniform(-8, 8), rng.uniform(0.5, 2.5)
    tilt = rng.uniform(-0.3, 0.3)
    lp = rng.uniform(2500, 8000) if (part == 'bass' and rng.random() < 0.6) else None

    def gain(f):
        g = (f / 1000.0) ** tilt / np.sqrt(1 + (lo / f) ** 4)
        g *= 10 ** (g_db / 20 * np.exp(-(np.log2(f / fc) * q) ** 2))
        if lp:
            g /= np.sqrt(1 + (f / lp) ** 4)
        return g
    return _filter(x, gain)


def compress(x, threshold_db, ratio, attack_s, release_s, block=64):
    """A feed-forward compressor on the block peak envelope (attack and release smoothing), its
    gain interpolated to the samples; threshold relative to full scale of x's own peak."""
    peak = np.max(np.abs(x)) + 1e-12
    nb = (len(x) + block - 1) // block
    pad = np.pad(np.abs(x), (0, nb * block - len(x)))
    lvl = pad.reshape(nb, block).max(axis=1) / peak
    att, rel = np.exp(-block / (attack_s * RATE)), np.exp(-block / (release_s * RATE))
    env = np.empty(nb)
    e = 0.0
    for i, v in enumerate(lvl.tolist()):
        e = att * e + (1 - att) * v if v > e else rel * e + (1 - rel) * v
        env[i] = e
    over = 20 * np.log10(np.maximum(env, 1e-6)) - threshold_db
    g_db = -np.maximum(over, 0.0) * (1 - 1.0 / ratio)
    g = 10 ** (g_db / 20)
    g = np.interp(np.arange(len(x)), np.arange(nb) * block + block / 2, g)
    return x * g


def limit(x, ceiling, lookahead_s=0.003, release_s=0.08, block=32):
    """A look-ahead peak limiter: no sample above the ceiling (the gain falls before a peak and
    recovers with the release)."""
    nb = (len(x) + block - 1) // block
    pad = np.pad(np.abs(x), (0, nb * block - len(x)))
    lvl = pad.reshape(nb, block).max(axis=1)
    need = np.minimum(1.0, ceiling / np.maximum(lvl, 1e-12))
    la = max(1, int(lookahead_s * RATE / block))
    need = np.minimum.reduce([np.concatenate([need[j:], np.ones(j)]) for j in range(la + 1)])  # look ahead
    rel = np.exp(-block / (release_s * RATE))
    g = np.empty(nb)
    e = 1.0
    for i, v in enumerate(need.tolist()):
        e = v if v < e else rel * e + (1 - rel) * v
        g[i] = e
    g = np.interp(np.arange(len(x)), np.arange(nb) * block, g)
    y = x * g
    return np.clip(y, -ceiling, ceiling)


def reverb(x, rng, rt60, wet):
    """A synthetic room: exponentially decaying noise, darker as it decays, a pre-delay."""
    if wet <= 0:
        return x
    n_ir = int(rt60 * RATE)
    t = np.arange(n_ir) / RATE
    ir = rng.normal(0, 1, n_ir) * np.exp(-6.9 * t / rt60)
    ir = _one_pole(ir, np.exp(-2 * np.pi * rng.uniform(2000, 8000) / RATE))
    ir = np.concatenate([np.zeros(int(rng.uniform(0.005, 0.04) * RATE)), ir])
    size = 1 << int(np.ceil(np.log2(len(x) + len(ir))))
    w = np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(ir, size), size)[:len(x)]
    w *= np.std(x) / (np.std(w) + 1e-12)
    return x + wet * w


def render_part(notes, program, channel, soundfont, tmp, write_midi, read_wav, n):
    """One part through FluidSynth (its own reverb and chorus off: the mix adds its own)."""
    mid, wav = os.path.join(tmp, 'part.mid'), os.path.join(tmp, 'part.wav')
    write_midi(mid, notes, {channel: program})
    subprocess.run(['fluidsynth', '-ni', '-q', '-g', '0.6', '-r', str(RATE), '-o', 'synth.polyphony=64',
                    '-R', '0', '-C', '0', '-O', 's16', '-T', 'wav', '-F', wav, soundfont, mid],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    x, _ = read_wav(wav)
    out = np.zeros(n, dtype=np.float64)
    m = min(n, len(x))
    out[:m] = x[:m]
    return out


def produce(notes, programs, seed, soundfont, tmp, write_midi, read_wav):
    """The song's parts rendered one by one and mixed (see the module's text): mono float32 at
    44.1 kHz, peak at most 1, and a description of the mix."""
    rng = np.random.default_rng([seed, 6])
    end = max(t + length for t, length, *_ in notes) + 1.0
    n = int(end * RATE)
    drum_level = str(rng.choice(['dominant', 'normal', 'buried'], p=[0.3, 0.45, 0.25]))
    own_drums = rng.random() < 0.35
    own = {BASS: rng.random() < 0.25, CHORDS: rng.random() < 0.25, LEAD: rng.random() < 0.2}
    kinds = {BASS: str(rng.choice(['pluck', 'fm', 'saw'])), CHORDS: str(rng.choice(['pluck', 'saw', 'fm'])),
             LEAD: str(rng.choice(['saw', 'fm', 'pluck']))}
    mix = np.zeros(n)
    desc = dict(mix='production', drum_level=drum_level)
    for ch, part in PARTS.items():
        part_notes = [nt for nt in notes if nt[2] == ch]
        if not part_notes:
            continue
        if ch == DRUMS and own_drums:
            x = synth_drums(part_notes, n, rng).astype(np.float64)
            desc['synth_drums'] = True
        elif ch != DRUMS and own[ch]:
            x = synth_pitched(part_notes, n, kinds[ch], rng).astype(np.float64)
            desc['synth_' + part] = kinds[ch]
        else:
            x = render_part(part_notes, programs.get(ch, 0), ch, soundfont, tmp, write_midi, read_wav, n)
        if np.max(np.abs(x)) < 1e-6:
            continue
        x = eq(x, rng, part)
        if rng.random() < (0.8 if part in ('drums', 'bass') else 0.5):
            x = compress(x, rng.uniform(-24, -6), rng.uniform(2, 10), rng.uniform(0.001, 0.03),
                         rng.uniform(0.04, 0.3))
        rt60, wet = {'drums': (rng.uniform(0.2, 1.0), rng.uniform(0, 0.3)),
                     'bass': (rng.uniform(0.2, 0.6), rng.uniform(0, 0.1)),
                     'chords': (rng.uniform(0.6, 2.5), rng.uniform(0.1, 0.7)),
                     'lead': (rng.uniform(0.5, 2.0), rng.uniform(0.05, 0.5))}[part]
        x = reverb(x, rng, rt60, wet)
        level_db = rng.uniform(-6, 3)
        if part == 'drums':
            level_db += {'dominant': rng.uniform(3, 8), 'normal': 0.0, 'buried': rng.uniform(-15, -6)}[drum_level]
        rms = np.sqrt(np.mean(x ** 2)) + 1e-12
        mix += x / rms * 10 ** (level_db / 20)
    if not mix.any():
        return mix.astype(np.float32), desc
    mix /= np.max(np.abs(mix))
    if rng.random() < 0.7:  # the bus compressor: slow attack, gentle ratio
        mix = compress(mix, rng.uniform(-18, -6), rng.uniform(1.5, 4), rng.uniform(0.01, 0.05), rng.uniform(0.1, 0.5))
        mix /= np.max(np.abs(mix)) + 1e-12
    drive_db = float(rng.choice([0.0, rng.uniform(2, 6), rng.uniform(6, 12)], p=[0.3, 0.4, 0.3]))
    mix = limit(mix * 10 ** (drive_db / 20), 0.95)
    if rng.random() < 0.15:  # a clipper after the limiter
        mix = np.tanh(1.5 * mix) / np.tanh(1.5)
    desc['master_drive_db'] = round(drive_db, 1)
    return mix.astype(np.float32), desc
