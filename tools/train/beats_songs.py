"""Songs for training the beat tracker, generated from nothing but a seed.

Each song is a MIDI file written here (drums, bass, chords, melody) with its
true beat times and bar positions, rendered by FluidSynth with the FluidR3 GM
soundfont. Meters 2/4, 3/4, 4/4, 6/8 and 12/8 (compound meters counted at the
dotted quarter), beat tempi 55-200 BPM (60-200 for simple meters), steady,
drifting, jumping or rubato tempo, swing, pickups, sections without drums,
fills, humanised timing. Nothing here reads any recording.
"""
import math
import struct

import numpy as np

METERS = [  # (name, beats per bar, subdivisions per beat)
    ('2/4', 2, 2), ('3/4', 3, 2), ('4/4', 4, 2), ('6/8', 2, 3), ('12/8', 4, 3)]
METER_WEIGHTS = [0.15, 0.2, 0.35, 0.12, 0.18]

KEYS_MAJOR = [0, 2, 4, 5, 7, 9, 11]
KEYS_MINOR = [0, 2, 3, 5, 7, 8, 10]
PROGRESSIONS = [[0, 4, 5, 3], [0, 5, 3, 4], [0, 3, 4, 4], [5, 3, 0, 4], [0, 0, 3, 4], [0, 4, 0, 4],
                [0, 3, 0, 4], [1, 4, 0, 0]]
BASS_PROGRAMS = [32, 33, 34, 35, 36, 38, 39, 43, 42, 0]
CHORD_PROGRAMS = [0, 1, 2, 4, 5, 16, 17, 19, 24, 25, 26, 27, 29, 46, 48, 49, 50, 52, 61, 88, 89, 11]
LEAD_PROGRAMS = [0, 8, 11, 13, 22, 40, 41, 56, 57, 60, 64, 65, 66, 68, 71, 73, 74, 80, 81, 105]
KICK, SNARE, HAT_CLOSED, HAT_OPEN, CRASH, RIDE, TOM_LO, TOM_MID, TOM_HI, SIDE_STICK, CLAP, \
    TAMBOURINE, SHAKER = 36, 38, 42, 46, 49, 51, 45, 47, 50, 37, 39, 54, 70


def tempo_curve(rng, bpm0):
    """A function time -> beats per minute, and its kind."""
    kind = rng.choice(['steady', 'drift', 'jump', 'rubato'], p=[0.4, 0.25, 0.15, 0.2])
    if kind == 'steady':
        return (lambda t: bpm0), kind
    if kind == 'drift':
        bpm1 = bpm0 * rng.uniform(0.85, 1.15)
        length = rng.uniform(20, 40)
        return (lambda t: bpm0 + (bpm1 - bpm0) * min(t / length, 1.0)), kind
    if kind == 'jump':
        at, factor = rng.uniform(8, 20), rng.choice([rng.uniform(0.75, 0.9), rng.uniform(1.1, 1.3)])
        return (lambda t: bpm0 if t < at else bpm0 * factor), kind
    depth, period, phase = rng.uniform(0.03, 0.08), rng.uniform(4, 12), rng.uniform(0, 2 * math.pi)
    return (lambda t: bpm0 * (1 + depth * math.sin(2 * math.pi * t / period + phase))), kind


def make_song(seed, duration_s=30.0):
    """Notes (time s, duration s, channel, program, pitch, velocity), beats (time s, position),
    and a description."""
    rng = np.random.default_rng(seed)
    meter, beats_per_bar, subdiv = METERS[rng.choice(len(METERS), p=METER_WEIGHTS)]
    lo, hi = (60, 200) if subdiv == 2 else (55, 130)
    bpm0 = math.exp(rng.uniform(math.log(lo), math.log(hi)))
    bpm_at, tempo_kind = tempo_curve(rng, bpm0)
    swing = subdiv == 2 and rng.random() < 0.25
    swing_ratio = rng.uniform(0.58, 0.68) if swing else 0.5
    jitter = rng.choice([0.0, 0.005, 0.012], p=[0.4, 0.4, 0.2])
    start = rng.uniform(0.0, 2.0)
    pickup = int(rng.integers(1, beats_per_bar + 1)) if rng.random() < 0.4 else 1

    # the beat grid: (time, position in bar), integrating the tempo curve
    beats = []
    t, pos = start, pickup
    while t < duration_s:
        beats.append((t, pos))
        t += 60.0 / bpm_at(t)
        pos = pos % beats_per_bar + 1
    beat_t = np.array([b[0] for b in beats] + [t])

    def sub_time(k, s):
        """Time of subdivision s of beat k (swing moves the off-beat of simple meters)."""
        ibi = beat_t[k + 1] - beat_t[k]
        frac = s / subdiv if subdiv == 3 else (0.0 if s == 0 else swing_ratio)
        return beat_t[k] + frac * ibi

    notes = []
    has_drums = rng.random() < 0.88
    n_bars = sum(1 for b in beats if b[1] == 1) + 1
    no_drum_bars = set()
    if has_drums and rng.random() < 0.35:  # an intro or a break without drums
        a = int(rng.integers(0, max(1, n_bars - 2)))
        no_drum_bars = set(range(a, a + int(rng.integers(2, 5))))
    key = int(rng.integers(0, 12))
    scale = KEYS_MINOR if rng.random() < 0.4 else KEYS_MAJOR
    prog = PROGRESSIONS[rng.integers(len(PROGRESSIONS))]
    programs = {0: int(rng.choice(BASS_PROGRAMS)), 1: int(rng.choice(CHORD_PROGRAMS)),
                2: int(rng.choice(LEAD_PROGRAMS))}
    has_bass, has_chords, has_lead = rng.random() < 0.85, rng.random() < 0.9, rng.random() < 0.75
    chord_style = rng.choice(['block', 'pad', 'arpeggio', 'offbeat'])
    hat_every = rng.choice([1, 2]) if subdiv == 2 else 1  # hats on every subdivision, or beats
    backbeat = rng.random() < 0.85
    accent = rng.uniform(5, 25)
    drum_set = rng.choice(['kit', 'light'], p=[0.8, 0.2])

    def add(time, length, channel, pitch, velocity):
        time += rng.normal(0.0, jitter) if jitter else 0.0
        notes.append((max(time, 0.0), max(length, 0.03), channel, int(pitch),
                      int(np.clip(velocity + rng.normal(0, 6), 15, 127))))

    bar = 0
    for k, (bt, pos) in enumerate(beats):
        if pos == 1 and k > 0:
            bar += 1
        ibi = beat_t[k + 1] - bt
        degree = prog[(bar + (1 if pos > beats_per_bar // 2 and rng.random() < 0.1 else 0)) % len(prog)]
        root = 36 + key + scale[degree % 7]
        chord = [48 + key + scale[(degree + i) % 7] + 12 * ((degree + i) // 7) for i in (0, 2, 4)]
        down = pos == 1
        phrase_end = bar % 4 == 3 and pos >= beats_per_bar - (1 if beats_per_bar > 2 else 0)
        # drums
        if has_drums and bar not in no_drum_bars:
            if drum_set == 'light':
                add(bt, 0.1, 9, SIDE_STICK if pos % 2 == 0 else SHAKER, 70 + (accent if down else 0))
                for s in range(1, subdiv):
                    add(sub_time(k, s), 0.05, 9, SHAKER, 50)
            elif phrase_end and rng.random() < 0.7:  # a fill
                n_hits = subdiv * 2
                for h in range(n_hits):
                    add(bt + ibi * h / n_hits, 0.1, 9, [TOM_HI, TOM_MID, TOM_LO, SNARE][h % 4],
                        80 + 4 * h)
            else:
                kick = down or (beats_per_bar == 4 and pos == 3 and subdiv == 2) or \
                    (rng.random() < 0.15)
                snare = backbeat and ((beats_per_bar in (2, 4) and pos % 2 == 0) or
                                      (beats_per_bar == 3 and pos in (2, 3) and rng.random() < 0.5))
                if kick:
                    add(bt, 0.2, 9, KICK, 95 + (accent if down else 0))
                if snare:
                    add(bt, 0.2, 9, SNARE if rng.random() < 0.85 else CLAP, 90)
                if down and bar % 4 == 0:
                    add(bt, 0.5, 9, CRASH, 85)
                cymbal = RIDE if (bar // 8) % 2 else HAT_CLOSED
                for s in range(0, subdiv, hat_every):
                    add(sub_time(k, s), 0.05, 9, cymbal, 65 + (15 if s == 0 else 0))
                if subdiv == 2 and rng.random() < 0.2:
                    add(sub_time(k, 1), 0.2, 9, KICK, 70)
        # bass: the root on the downbeat, more on the other beats
        if has_bass:
            if down or rng.random() < 0.6:
                add(bt, ibi * 0.9, 0, root, 90 + (accent if down else 0))
            if subdiv == 3 and rng.random() < 0.4:
                add(sub_time(k, 2), ibi * 0.3, 0, root + 7, 70)
        # chords
        if has_chords:
            if chord_style == 'pad':
                if down:
                    for p in chord:
                        add(bt, ibi * beats_per_bar * 0.95, 1, p, 60 + accent)
            elif chord_style == 'arpeggio':
                for s in range(subdiv):
                    add(sub_time(k, s), ibi / subdiv, 1, chord[(s + pos) % 3] + 12 * (s == 2), 65)
            elif chord_style == 'offbeat' and subdiv == 2:
                for p in chord:
                    add(sub_time(k, 1), ibi * 0.3, 1, p, 70)
            else:
                if beats_per_bar == 3 and not down or beats_per_bar != 3:
                    for p in chord:
                        add(bt, ibi * 0.8, 1, p, 72 + (accent if down else 0))
        # melody: scale notes on beats and subdivisions, with rests
        if has_lead:
            for s in range(subdiv):
                if rng.random() < (0.55 if s == 0 else 0.3):
                    deg = int(rng.integers(0, 10))
                    pitch = 60 + key + scale[deg % 7] + 12 * (deg // 7)
                    add(sub_time(k, s), ibi / subdiv * rng.uniform(0.6, 1.8), 2, pitch,
                        75 + (accent * 0.5 if down and s == 0 else 0))
    desc = dict(seed=seed, meter=meter, beats_per_bar=beats_per_bar, bpm=round(bpm0, 1),
                tempo=str(tempo_kind), swing=bool(swing), pickup=pickup, drums=bool(has_drums),
                drumless_bars=len(no_drum_bars), programs=programs)
    return notes, programs, np.array(beats), desc


def _varlen(n):
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    return bytes(reversed(out))


def write_midi(path, notes, programs):
    """A type-0 standard MIDI file, 1000 ticks per quarter at 60 BPM: one tick per millisecond."""
    events = []
    for channel, program in programs.items():
        events.append((0, 0, bytes([0xC0 | channel, program])))
    for t, length, channel, pitch, velocity in notes:
        on, off = int(round(t * 1000)), int(round((t + length) * 1000))
        events.append((on, 2, bytes([0x90 | channel, pitch, velocity])))
        events.append((off, 1, bytes([0x80 | channel, pitch, 0])))
    events.sort(key=lambda e: (e[0], e[1]))
    track = bytearray(b'\x00\xff\x51\x03' + (1000000).to_bytes(3, 'big'))
    now = 0
    for tick, _, data in events:
        track += _varlen(tick - now) + data
        now = tick
    track += b'\x00\xff\x2f\x00'
    with open(path, 'wb') as f:
        f.write(b'MThd' + struct.pack('>IHHH', 6, 0, 1, 1000))
        f.write(b'MTrk' + struct.pack('>I', len(track)) + bytes(track))
