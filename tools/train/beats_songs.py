"""Songs for training the beat tracker, generated from nothing but a seed.

Each song is a MIDI file written here (drums, bass, chords, melody) with its
true beat times and bar positions, rendered by FluidSynth with the FluidR3 GM
soundfont. Meters 2/4, 3/4, 4/4, 6/8 and 12/8 (compound meters counted at the
dotted quarter), beat tempi 55-200 BPM (60-200 for simple meters), steady,
drifting, jumping or rubato tempo, swing, pickups, sections without drums,
fills, humanised timing. Nothing here reads any recording.

The bar is what a downbeat tracker has to find, so the songs carry the cues
that mark it in real music, each of them absent in some songs so that no
single one is relied on: harmonic rhythm (chords change on bar lines, now and
then also mid-bar), the bass's root on the downbeat, drum patterns with an
accent hierarchy (beat 1 differs from beat 3: kick patterns of rock, pop,
disco, swing, waltz, march, 6/8 and 12/8 grooves), crash cymbals on phrase
starts after a fill, melodic phrases of two or four bars that start at a bar
line (or a pickup before it) and end on a long note.
"""
import math
import struct

import numpy as np

METERS = [  # (name, beats per bar, subdivisions per beat)
    ('2/4', 2, 2), ('3/4', 3, 2), ('4/4', 4, 2), ('6/8', 2, 3), ('12/8', 4, 3)]
METER_WEIGHTS = [0.07, 0.2, 0.43, 0.12, 0.18]

KEYS_MAJOR = [0, 2, 4, 5, 7, 9, 11]
KEYS_MINOR = [0, 2, 3, 5, 7, 8, 10]
BASS_PROGRAMS = [32, 33, 34, 35, 36, 38, 39, 43, 42, 0, 87]
CHORD_PROGRAMS = [0, 1, 2, 4, 5, 6, 16, 17, 19, 21, 24, 25, 26, 27, 29, 30, 46, 48, 49, 50, 52, 61,
                  88, 89, 90, 11, 12]
LEAD_PROGRAMS = [0, 8, 11, 13, 22, 40, 41, 42, 56, 57, 60, 64, 65, 66, 68, 69, 71, 73, 74, 75, 80,
                 81, 105, 104, 78]
DRUM_KITS = [0, 0, 0, 8, 16, 24, 25, 32, 40]  # standard, room, power, electronic, 808, jazz, brush
KICK, SNARE, HAT_CLOSED, HAT_PEDAL, HAT_OPEN, CRASH, RIDE, TOM_LO, TOM_MID, TOM_HI, SIDE_STICK, \
    CLAP, TAMBOURINE, SHAKER, COWBELL = 36, 38, 42, 44, 46, 49, 51, 45, 47, 50, 37, 39, 54, 70, 56

# Generator 2: how a song's loudness relates to its bar (shares of songs). 'down': one accent on
# beat 1 in every part, as all of generator 1's songs; 'flat': no beat louder or longer than
# another, so only what real music marks bars with is left (chords and the bass's root change on
# bar lines, phrases, crashes, layers entering); 'half': beats 1 and 3 of a bar of 4 equally loud
# (the kick on 3 as hard as on 1), the half-bar symmetry of most popular music.
ACCENTS = {'down': 0.3, 'flat': 0.4, 'half': 0.3}
HARMONY_ONLY = 0.6  # generator 3: share of the 'flat' songs whose parts are also struck alike on
# every beat (a kick on 1 and 3 alike, block, strummed or arpeggiated chords and the bass's root on
# every beat, no crash or fill): only the chords and the bass changing on bar lines, and the
# melody's phrases, mark the bar, as in much real music (pop songs whose kick, chords and bass repeat every half bar)
LOOPS = 0.3  # share of generator 2's songs made of loops: steady tempo, quantised, every 1, 2 or 4
# bars the same notes (drawn once per position in the loop), layers entering on bar lines

# Drum grooves: per style, a function (beat position 1.., beats per bar, subdivisions) -> hits
# (subdivision, drum, velocity). The kick on beat 1 is the bar's strongest hit in most of them.
STYLES_BY_METER = {
    2: (['march', 'polka', 'rock'], [0.4, 0.3, 0.3]),
    3: (['waltz', 'jazz_waltz', 'ballad3'], [0.5, 0.2, 0.3]),
    4: (['rock', 'pop', 'disco', 'swing', 'ballad', 'funk', 'shuffle'],
        [0.22, 0.22, 0.12, 0.12, 0.12, 0.1, 0.1]),
}


def tempo_curve(rng, bpm0):
    """A function time -> beats per minute, and its kind."""
    kind = rng.choice(['steady', 'drift', 'jump', 'rubato'], p=[0.45, 0.25, 0.12, 0.18])
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


def progression(rng, length):
    """Scale degrees, one chord per bar: starts on the tonic, no chord repeated on the next bar
    (mostly), ends on the dominant or subdominant so the loop turns back to the tonic."""
    degrees = [0]
    for _ in range(length - 2):
        choices = [d for d in (1, 2, 3, 4, 5, 0) if d != degrees[-1]]
        degrees.append(int(rng.choice(choices)))
    degrees.append(int(rng.choice([4, 3, 4, 1]) if degrees[-1] not in (4,) else 3))
    if rng.random() < 0.1:  # now and then a chord held over two bars
        k = int(rng.integers(1, length))
        degrees[k] = degrees[k - 1]
    return degrees


def drum_hits(style, pos, bpb, subdiv, rng, accent, strong, even=False):
    """Hits (subdivision index, drum, velocity) for one beat of a groove. accent: the song's accent
    on this beat (velocity steps); strong: whether the beat carries it; even: the kick on 3 of a bar
    of 4 as loud as the kick on 1 (generator 2's songs whose loudness does not mark the bar)."""
    h = []
    sub = list(range(subdiv))
    if subdiv == 3:  # 6/8 and 12/8: kick on 1 (and softer on 3 of 12/8), backbeat, eighth-note hats
        if pos == 1:
            h.append((0, KICK, 100 + accent))
        elif bpb == 4 and pos == 3:
            h.append((0, KICK, (100 + accent) if even else 78))
        if (bpb == 2 and pos == 2) or (bpb == 4 and pos in (2, 4)):
            h.append((0, SNARE, 92))
        if rng.random() < 0.15:
            h.append((2, KICK, 62))
        for s in sub:
            h.append((s, HAT_CLOSED if style != 'ride' else RIDE, 72 if s == 0 else 52))
        return h
    if style in ('march', 'polka'):
        if pos == 1:
            h.append((0, KICK, 100 + accent))
        else:
            h.append((0, SNARE, 85))
        h.append((1, SNARE if style == 'march' else HAT_CLOSED, 55))
        return h
    if style in ('waltz', 'ballad3'):
        if pos == 1:
            h.append((0, KICK, 100 + accent))
        else:
            h.append((0, SNARE if style == 'waltz' else SIDE_STICK, 70))
        h.append((0, HAT_CLOSED, 70 if strong else 55))
        if style == 'ballad3':
            h.append((1, HAT_CLOSED, 45))
        return h
    if style == 'jazz_waltz':
        h.append((0, RIDE, 80 if strong else 62))
        if pos == 3:
            h.append((1, RIDE, 55))
        if pos == 1:
            h.append((0, KICK, 70 + accent))
        if pos in (2, 3):
            h.append((0, HAT_PEDAL, 55))
        return h
    if style in ('swing', 'shuffle'):
        ride = RIDE if style == 'swing' else HAT_CLOSED
        h.append((0, ride, 78 if pos in (2, 4) else 68))
        if pos in (2, 4):
            h.append((1, ride, 55))
            h.append((0, HAT_PEDAL if style == 'swing' else SNARE, 70 if style == 'swing' else 92))
        if style == 'swing':
            h.append((0, KICK, 40 + (20 + accent if strong else 0)))
            if rng.random() < 0.25:
                h.append((int(rng.integers(0, 2)), SNARE, 45))
        else:
            if pos == 1:
                h.append((0, KICK, 100 + accent))
            elif pos == 3:
                h.append((0, KICK, (100 + accent) if even else 80))
            h.append((1, ride, 50))
        return h
    if style == 'disco':
        h.append((0, KICK, 96 + accent))
        h.append((1, HAT_OPEN, 70))
        if pos in (2, 4):
            h.append((0, CLAP if rng.random() < 0.5 else SNARE, 90))
        return h
    # rock, pop, ballad, funk: kick on 1 (strongest), a varied kick on or around 3, backbeat
    if pos == 1:
        h.append((0, KICK, 102 + accent))
    if bpb == 4 and pos == 3:
        if style == 'rock':
            h.append((0, KICK, (102 + accent) if even else 86))
        elif style == 'pop':
            h.append((1, KICK, 80))  # "2 and" would be on beat 2's off-beat: put it before 3
        elif style == 'funk' and rng.random() < 0.6:
            h.append((1, KICK, 78))
    if bpb == 4 and pos == 2 and style == 'pop' and rng.random() < 0.5:
        h.append((1, KICK, 76))
    if bpb == 2 and pos == 2 and rng.random() < 0.3:
        h.append((1, KICK, 72))
    if pos % 2 == 0:
        h.append((0, SIDE_STICK if style == 'ballad' else SNARE, 92 if style != 'ballad' else 70))
    if style == 'funk' and rng.random() < 0.3:
        h.append((1, SNARE, 45))  # ghost note
    for s in sub:
        h.append((s, HAT_CLOSED, (74 if s == 0 else 56) + (8 if strong and s == 0 else 0)))
    return h


def make_song(seed, duration_s=30.0, generator=1):
    """Notes (time s, duration s, channel, program, pitch, velocity), beats (time s, position),
    and a description. generator 1: the songs of sessions 1-4 (every song's bar is also marked by
    loudness: one accent on beat 1 in every part); 2: the same songs where only some are (see
    ACCENTS), and some are loops (see LOOPS); 3: as 2, and some songs whose bar only the harmony
    marks (HARMONY_ONLY); 4: generator 3's songs played as musicians do (beats_mix.perform: phrase
    dynamics, anticipations, legato; make_beats_data renders them part by part and mixes them,
    beats_mix.produce). Generators 2, 3 and 4 draw their choices from other random streams, so
    generator 1's songs stay what they were, and generator 2's."""
    rng = np.random.default_rng(seed)
    meter, beats_per_bar, subdiv = METERS[rng.choice(len(METERS), p=METER_WEIGHTS)]
    lo, hi = (60, 200) if subdiv == 2 else (50, 130)
    bpm0 = math.exp(rng.uniform(math.log(lo), math.log(hi)))
    bpm_at, tempo_kind = tempo_curve(rng, bpm0)
    accent_mode, loop_bars, entries = 'down', 0, {}
    if generator >= 2:
        rng2 = np.random.default_rng([seed, 2])
        accent_mode = str(rng2.choice(list(ACCENTS), p=list(ACCENTS.values())))
        if rng2.random() < LOOPS:
            loop_bars = int(rng2.choice([1, 2, 4]))
            bpm_at, tempo_kind = (lambda t: bpm0), 'steady'  # loops run on a clock
            for part in ('drums', 'bass', 'chords', 'lead'):  # layers come and go on bar lines
                first = int(rng2.choice([0, 0, 2, 4, 8]))
                last = first + int(rng2.choice([4, 8])) if rng2.random() < 0.25 else 10 ** 6
                entries[part] = (first, last)
            keep = str(rng2.choice(['drums', 'bass', 'chords']))  # one layer plays throughout
            entries[keep] = (0, 10 ** 6)
    if subdiv == 2:
        names, weights = STYLES_BY_METER[beats_per_bar]
        style = str(rng.choice(names, p=weights))
    else:
        style = str(rng.choice(['hats', 'ride']))
    swing = subdiv == 2 and (style in ('swing', 'shuffle', 'jazz_waltz') or rng.random() < 0.15)
    swing_ratio = rng.uniform(0.6, 0.69) if swing else 0.5
    jitter = rng.choice([0.0, 0.005, 0.012], p=[0.35, 0.45, 0.2])
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
    has_drums = rng.random() < 0.8
    n_bars = sum(1 for b in beats if b[1] == 1) + 1
    phrase_bars = int(rng.choice([4, 8])) if rng.random() < 0.85 else 2
    no_drum_bars = set()
    if has_drums and rng.random() < 0.35:  # an intro or a break without drums, whole phrases
        a = phrase_bars * int(rng.integers(0, max(1, n_bars // phrase_bars)))
        no_drum_bars = set(range(a, a + phrase_bars))
    key = int(rng.integers(0, 12))
    scale = KEYS_MINOR if rng.random() < 0.35 else KEYS_MAJOR
    prog = progression(rng, int(rng.choice([2, 4, 4, 8])))
    split_bars = beats_per_bar == 4 and rng.random() < 0.2  # a second chord on beat 3, some bars
    programs = {0: int(rng.choice(BASS_PROGRAMS)), 1: int(rng.choice(CHORD_PROGRAMS)),
                2: int(rng.choice(LEAD_PROGRAMS)), 9: int(rng.choice(DRUM_KITS))}
    if not has_drums:  # piano, guitar or strings alone carry it: bass in the left hand
        programs[0] = programs[1] if rng.random() < 0.5 else programs[0]
    has_bass, has_chords, has_lead = rng.random() < 0.88, rng.random() < 0.92, rng.random() < 0.75
    bass_style = str(rng.choice(['roots', 'root_fifth', 'pedal', 'syncopated', 'walking'],
                                p=[0.3, 0.25, 0.15, 0.15, 0.15]))
    if style in ('swing', 'jazz_waltz'):
        bass_style = 'walking'
    if style in ('march', 'polka', 'waltz'):
        bass_style = 'root_fifth'
    chord_style = str(rng.choice(['block', 'pad', 'arpeggio', 'offbeat', 'strum', 'oompah', 'comp']))
    down_accent = float(rng.uniform(0, 22))
    if loop_bars:
        jitter = 0.0  # loops are quantised
    even = accent_mode != 'down'
    song_accent = 0.0 if accent_mode == 'flat' else down_accent

    def strong(pos):
        """Whether beat pos carries the song's accent."""
        if accent_mode == 'down':
            return pos == 1
        return accent_mode == 'half' and beats_per_bar == 4 and pos in (1, 3)

    def playing(part, bar):
        first, last = entries.get(part, (0, 10 ** 6))
        return first <= bar < last
    crash_on_phrase = rng.random() < 0.75
    fill_prob = rng.uniform(0.3, 0.9)
    lead_density = rng.uniform(0.35, 0.85)
    harmony_only = generator >= 3 and accent_mode == 'flat' and \
        np.random.default_rng([seed, 4]).random() < HARMONY_ONLY
    if harmony_only:  # every part struck alike on every beat: the bar is in the pitches alone
        if beats_per_bar == 4 and subdiv == 2 and style in ('pop', 'funk', 'ballad'):
            style = 'rock'  # with even=True its kick on 3 is its kick on 1
        if bass_style not in ('roots', 'walking'):
            bass_style = 'roots'
        if chord_style not in ('block', 'strum', 'arpeggio'):
            chord_style = 'block'
        crash_on_phrase, fill_prob = False, 0.0

    cur = [rng]  # the random stream of the beat at hand (a loop's: the same each time round)

    def add(time, length, channel, pitch, velocity):
        r = cur[0]
        time += r.normal(0.0, jitter) if jitter else 0.0
        notes.append((max(time, 0.0), max(length, 0.03), channel, int(pitch),
                      int(np.clip(velocity + r.normal(0, 6), 15, 127))))

    def chord_of(degree):
        return [48 + key + scale[(degree + i) % 7] + 12 * ((degree + i) // 7) for i in (0, 2, 4)]

    def root_of(degree):
        return 36 + key + scale[degree % 7]

    bar = -1 if pickup != 1 else 0
    phrase_lead = None  # the melody's phrase plan: bar index where it starts, its length
    prev_pitch = 60 + key
    for k, (bt, pos) in enumerate(beats):
        if pos == 1 and k > 0:
            bar += 1
        rng = np.random.default_rng([seed, 3, bar % loop_bars if bar >= 0 else 99, pos]) if loop_bars else rng
        cur[0] = rng
        loud = strong(pos)
        a = down_accent if loud else 0.0

        def lv(loud_velocity, soft_velocity):
            return loud_velocity + a if loud else soft_velocity
        ibi = beat_t[k + 1] - bt
        bar_in_prog = max(bar, 0) % len(prog)
        degree = prog[bar_in_prog]
        if split_bars and bar % 2 == 1 and pos >= 3:
            degree = (degree + 3) % 7
        next_degree = prog[(bar_in_prog + 1) % len(prog)]
        root = root_of(degree)
        chord = chord_of(degree)
        down = pos == 1
        phrase_start = down and bar % phrase_bars == 0
        phrase_end = bar % phrase_bars == phrase_bars - 1 and pos == beats_per_bar
        drums_on = has_drums and bar not in no_drum_bars and bar >= 0 and playing('drums', bar)
        if bar < 0:  # the pickup: a melodic anacrusis and a lead-in on the drums
            if has_lead or not has_drums:
                add(bt, ibi * 0.8, 2, 60 + key + scale[(pos + 3) % 7], 70)
            if has_drums and 0 not in no_drum_bars:
                add(bt, 0.1, 9, SNARE if pos == beats_per_bar else TOM_MID, 70 + 6 * pos)
            continue
        # drums
        if drums_on:
            if phrase_end and rng.random() < fill_prob and bar + 1 not in no_drum_bars:  # a fill
                n_hits = subdiv * 2 if rng.random() < 0.6 else subdiv
                for j in range(n_hits):
                    add(bt + ibi * j / n_hits, 0.1, 9, [TOM_HI, TOM_MID, TOM_LO, SNARE][j % 4],
                        78 + 5 * j)
            else:
                for s, drum, vel in drum_hits(style, pos, beats_per_bar, subdiv, rng, a, loud, even):
                    add(sub_time(k, s), 0.2, 9, drum, vel)
            if phrase_start and crash_on_phrase:
                add(bt, 1.0, 9, CRASH, 92)
        elif has_drums and bar + 1 not in no_drum_bars and phrase_end and bar >= 0:
            add(bt + ibi / 2, 0.1, 9, SNARE, 80)  # a lead-in hit before the drums come back
        # bass: the root on the downbeat
        if has_bass and bar >= 0 and playing('bass', bar):
            if bass_style == 'pedal':
                if down:
                    add(bt, ibi * beats_per_bar * 0.95, 0, root, lv(95, 78))
            elif bass_style == 'roots':
                add(bt, ibi * 0.85, 0, root, lv(96, 78))
            elif bass_style == 'root_fifth':
                if down:
                    add(bt, ibi * 0.8, 0, root, lv(96, 76))
                elif subdiv == 3 or beats_per_bar == 2 or pos == 3 or (beats_per_bar == 3 and style != 'waltz'):
                    add(bt, ibi * 0.7, 0, root + 7 - (12 if rng.random() < 0.3 else 0), 76)
            elif bass_style == 'syncopated':
                if down:
                    add(bt, ibi * 0.6, 0, root, lv(98, 72))
                if subdiv == 2:
                    if rng.random() < 0.5:
                        add(sub_time(k, 1), ibi * 0.3, 0, root + (12 if rng.random() < 0.3 else 0), 72)
                elif rng.random() < 0.5:
                    add(sub_time(k, 2), ibi * 0.3, 0, root, 70)
                if not down and rng.random() < 0.3:
                    add(bt, ibi * 0.4, 0, root, 70)
            else:  # walking: root on 1, scale tones, a step into the next bar's root
                if down:
                    p = root
                elif pos == beats_per_bar:
                    target = root_of(next_degree)
                    p = target + int(rng.choice([-1, 1, -2, 2]))
                else:
                    p = 36 + key + scale[(degree + int(rng.choice([1, 2, 4, 5]))) % 7]
                add(bt, ibi * 0.9, 0, p, lv(92, 80))
        # chords: they change on the bar line
        if has_chords and bar >= 0 and playing('chords', bar):
            if chord_style == 'pad':
                if down or (split_bars and bar % 2 == 1 and pos == 3):
                    span = beats_per_bar if not (split_bars and bar % 2 == 1) else 2
                    for p in chord:
                        add(bt, ibi * span * 0.97, 1, p, 62 + song_accent * 0.5)
            elif chord_style == 'arpeggio':
                for s in range(subdiv):
                    idx = ((pos - 1) * subdiv + s) % 4
                    add(sub_time(k, s), ibi / subdiv, 1, (chord + [chord[0] + 12])[idx], 66 + (10 if loud and s == 0 else 0))
            elif chord_style == 'offbeat' and subdiv == 2:
                for p in chord:
                    add(sub_time(k, 1), ibi * 0.3, 1, p, 70)
                if down:
                    for p in chord:
                        add(bt, ibi * 0.4, 1, p - 12, 76 + song_accent * 0.5)
            elif chord_style == 'oompah':
                if down:
                    add(bt, ibi * 0.8, 1, root + 12, lv(88, 70))
                else:
                    for p in chord:
                        add(bt, ibi * 0.5, 1, p + 12, 64)
            elif chord_style == 'comp':
                if down and rng.random() < 0.7:
                    for p in chord:
                        add(bt, ibi * 1.5, 1, p, 74 + song_accent * 0.5)
                if rng.random() < 0.35:
                    s = int(rng.integers(0, subdiv))
                    for p in chord:
                        add(sub_time(k, s), ibi * 0.4, 1, p + 12 * (s > 0), 62)
            elif chord_style == 'strum':
                for s in range(subdiv):
                    if s == 0 or rng.random() < 0.5:
                        for j, p in enumerate(chord if s == 0 else chord[::-1]):
                            add(sub_time(k, s) + 0.012 * j, ibi / subdiv * 0.9, 1, p,
                                (80 + a) if (loud and s == 0) else (68 if s == 0 else 56))
            else:  # block chords on beats, the downbeat's longer and louder
                if beats_per_bar != 3 or down or rng.random() < 0.5:
                    for p in chord:
                        add(bt, ibi * (0.9 if not loud else 1.6), 1, p, (80 + a) if loud else 66)
        # melody: phrases that start at a bar line and end on a long note
        if has_lead and bar >= 0 and playing('lead', bar):
            if phrase_lead is None and down and bar % 2 == 0 and rng.random() < 0.8:
                phrase_lead = (bar, int(rng.choice([2, 4])))
            if phrase_lead is not None:
                first, length = phrase_lead
                last_beat = bar == first + length - 1 and pos == beats_per_bar - (1 if beats_per_bar > 2 else 0)
                if bar >= first + length - 1 and pos >= beats_per_bar - (1 if beats_per_bar > 2 else 0):
                    if last_beat:
                        pitch = 60 + key + scale[(degree + int(rng.choice([0, 2, 4]))) % 7]
                        add(bt, ibi * 1.8, 2, pitch, 72)
                    if pos == beats_per_bar:
                        phrase_lead = None
                else:
                    for s in range(subdiv):
                        start_note = down and s == 0 and bar == first
                        if start_note or rng.random() < (lead_density if s == 0 else lead_density * 0.5):
                            if down and s == 0:  # a chord tone on the downbeat
                                pitch = 60 + key + scale[(degree + int(rng.choice([0, 2, 4]))) % 7]
                            else:
                                step = int(rng.choice([-2, -1, -1, 1, 1, 2, 3, -3]))
                                deg = int(np.clip((prev_pitch - 60 - key) // 2 + step, 0, 11))
                                pitch = 60 + key + scale[deg % 7] + 12 * (deg // 7)
                            prev_pitch = pitch
                            add(sub_time(k, s), ibi / subdiv * rng.uniform(0.7, 1.6), 2, pitch,
                                70 + (a * 0.5 + 8 if loud and s == 0 else 0))
    desc = dict(seed=seed, meter=meter, beats_per_bar=beats_per_bar, bpm=round(bpm0, 1),
                tempo=str(tempo_kind), style=style, swing=bool(swing), pickup=pickup,
                drums=bool(has_drums), drumless_bars=len(no_drum_bars), bass=bass_style,
                chords=chord_style, programs=programs)
    if generator >= 2:
        desc.update(generator=generator, accent=accent_mode, loop_bars=loop_bars, harmony_only=bool(harmony_only))
    if generator >= 4:  # generator 3's song, played with phrase dynamics, pushes and legato
        import beats_mix
        notes, info = beats_mix.perform(notes, np.array(beats), beats_per_bar, subdiv, seed)
        desc.update(info)
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
