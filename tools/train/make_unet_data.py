#!/usr/bin/python3
"""Generate the U-Net's training data: songs whose lead and accompaniment are
rendered separately. Accompaniment (drums, bass, chords) from beats_songs.py's
MIDI songs through FluidSynth and the FluidR3 GM soundfont; the lead is either
a voice-like GM instrument (choir, voice, saxophones, reeds, flute, strings,
brass, synth leads) playing a sung melody, or strata's own sung-like voice
(unet_voice.py: vibrato, formants, breath, consonants). Plus songs of strata's
testsong node (its lead stem against the rest). Nothing here reads any recording.

    make_unet_data.py --out DIR [--songs N] [--testsongs M] [--seed S] [--strata PATH] [--wav]

Writes DIR/NNNN.npz (lead, accompaniment: mono float16 at 44.1 kHz) and
DIR/index.json. With --wav also DIR/NNNN/{mixture,vocals,accompaniment}.wav
(16-bit; mixture = the exact sum) for `strata compare`. Augmentation (gain, EQ,
pitch shift by resampling, remixing stems across songs) happens at training
time in unet.py. Deterministic for a seed.
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import wave

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import beats_songs as songs  # noqa: E402
import unet_voice as voice  # noqa: E402

RATE = 44100
SOUNDFONT = '/usr/share/sounds/sf2/FluidR3_GM.sf2'
# voice-like GM programs: choir aahs, voice oohs, synth voice, lead 6 (voice), soprano/alto/tenor
# sax, oboe, english horn, clarinet, flute, violin, cello, trumpet, harmonica, square and saw leads
VOICE_PROGRAMS = [52, 53, 54, 85, 64, 65, 66, 68, 69, 71, 73, 40, 42, 56, 22, 80, 81]
SUNG_PROGRAMS = [52, 53, 54, 85]  # the GM voices: the lead when an instrument melody accompanies
# sustained pads under the chords: string ensembles, synth strings, organs, pads
PAD_PROGRAMS = [48, 49, 50, 51, 16, 17, 19, 88, 89, 90, 91, 92, 94, 95]
# instruments that play the song's own melody in the vocal range as part of the accompaniment
COUNTER_PROGRAMS = [0, 4, 5, 11, 12, 13, 24, 25, 26, 27, 40, 41, 42, 56, 57, 60, 61, 64, 65, 66,
                    68, 71, 73, 80, 81]


def read_wav(path):
    with wave.open(path, 'rb') as w:
        n, ch, width, rate = w.getnframes(), w.getnchannels(), w.getsampwidth(), w.getframerate()
        raw = w.readframes(n)
    assert width == 2 and rate == RATE, path
    return np.frombuffer(raw, dtype='<i2').astype(np.float32).reshape(-1, ch).mean(axis=1) / 32768.0


def write_wav(path, x16):
    with wave.open(path, 'wb') as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(x16.astype('<i2').tobytes())


def fluidsynth(tmp, notes, programs, reverb, chorus):
    mid, wav = os.path.join(tmp, 'part.mid'), os.path.join(tmp, 'part.wav')
    songs.write_midi(mid, notes, programs)
    subprocess.run(['fluidsynth', '-ni', '-q', '-g', '0.6', '-r', str(RATE), '-o', 'synth.polyphony=64',
                    '-R', '1' if reverb else '0', '-C', '1' if chorus else '0',
                    '-O', 's16', '-T', 'wav', '-F', wav, SOUNDFONT, mid],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return read_wav(wav)


def reverb(rng, x):
    rt60 = rng.uniform(0.3, 1.8)
    t = np.arange(int(rt60 * RATE)) / RATE
    ir = rng.normal(0, 1, len(t)) * np.exp(-6.9 * t / rt60)
    ir[0] = 0.0
    size = 1 << int(np.ceil(np.log2(len(x) + len(ir))))
    wet = np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(ir, size), size)[:len(x)]
    wet *= np.std(x) / (np.std(wet) + 1e-12)
    return (x + rng.uniform(0.1, 0.5) * wet).astype(np.float32)


def pad_notes(rng, notes):
    """A sustained pad (channel 3) under the chord part: each chord (channel 1 notes starting
    together) held until the next, voiced between 57 and 68, repeated chords merged."""
    onsets = {}
    for t, length, channel, pitch, vel in notes:
        if channel == 1:
            onsets.setdefault(round(t, 2), set()).add(pitch % 12)
    times = sorted(onsets)
    out, prev = [], None
    for k, t in enumerate(times):
        if onsets[t] == prev:
            continue
        end = next((u for u in times[k + 1:] if onsets[u] != onsets[t]), times[-1] + 2.0)
        vel = int(rng.integers(45, 80))
        for pc in onsets[t]:
            out.append((t, max(end - t - 0.02, 0.05), 3, 52 + (pc - 52) % 12 + (12 if (pc - 52) % 12 < 5 else 0), vel))
        prev = onsets[t]
    return out


def harmony(tune, scale, degrees):
    """tune moved by `degrees` steps of the song's scale (a backing voice a third or so away)."""
    steps = [p for p in range(24, 108) if p % 12 in scale]
    out = []
    for t, length, pitch, vel in tune:
        i = min(range(len(steps)), key=lambda j: abs(steps[j] - pitch))
        out.append((t, length, steps[min(max(i + degrees, 0), len(steps) - 1)], int(vel * 0.8)))
    return out


def fit(a, n):
    return np.pad(a, (0, max(0, n - len(a))))[:n]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', required=True)
    ap.add_argument('--songs', type=int, default=150)
    ap.add_argument('--testsongs', type=int, default=30)
    ap.add_argument('--seed', type=int, default=20261206)
    ap.add_argument('--strata', default='./strata')
    ap.add_argument('--wav', action='store_true')
    ap.add_argument('--pads', type=float, default=0.0,
                    help='probability of a sustained pad under the chords')
    ap.add_argument('--counter', type=float, default=0.0,
                    help='probability that the song keeps its own instrument melody (in the vocal range) '
                         'in the accompaniment; the lead is then a voice (sung or a GM voice)')
    ap.add_argument('--sung', type=float, default=0.5, help='probability of strata\'s sung lead')
    ap.add_argument('--song-generator', default=None,
                    help='the beats_songs.py to draw the songs from (default: the one beside this '
                         'script; make train-unet gives the version each data folder was made with)')
    ap.add_argument('--backing', type=float, default=0.0,
                    help='probability of a second, quieter voice in harmony in the lead stem')
    args = ap.parse_args()
    global songs
    if args.song_generator:
        spec = importlib.util.spec_from_file_location('beats_songs', args.song_generator)
        songs = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(songs)
    os.makedirs(args.out, exist_ok=True)
    index = []
    rng = np.random.default_rng(args.seed)

    def save(k, lead, acc, desc):
        n = max(len(lead), len(acc))
        lead, acc = fit(lead, n), fit(acc, n)
        peak = max(np.max(np.abs(lead)), np.max(np.abs(acc)), 1e-6)
        lead, acc = lead / peak * 0.45, acc / peak * 0.45
        np.savez(os.path.join(args.out, '%04d.npz' % k), lead=lead.astype(np.float16),
                 accompaniment=acc.astype(np.float16))
        if args.wav:
            d = os.path.join(args.out, '%04d' % k)
            os.makedirs(d, exist_ok=True)
            l16 = np.round(lead * 32767).astype(np.int32)
            a16 = np.round(acc * 32767).astype(np.int32)
            write_wav(os.path.join(d, 'vocals.wav'), l16)
            write_wav(os.path.join(d, 'accompaniment.wav'), a16)
            write_wav(os.path.join(d, 'mixture.wav'), l16 + a16)
        index.append(dict(file='%04d.npz' % k, seconds=round(n / RATE, 2), **desc))
        print('song %d %s' % (k, desc.get('lead')), flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.songs):
            seed = args.seed + k
            duration = float(rng.uniform(20, 32))
            notes, programs, beats, desc = songs.make_song(seed, duration_s=duration)
            # the extras draw from their own generator, so that with --pads 0 --counter 0
            # --backing 0 the songs are the same as before these options existed
            xr = np.random.default_rng([args.seed, k, 7])
            counter = xr.random() < args.counter and any(n[2] == 2 for n in notes)
            acc_notes = [n for n in notes if n[2] != 2 or counter]
            acc_programs = {c: p for c, p in programs.items() if c != 2}
            if counter:
                acc_programs[2] = int(xr.choice(COUNTER_PROGRAMS))
                desc['counter'] = acc_programs[2]
            if xr.random() < args.pads:
                acc_programs[3] = int(xr.choice(PAD_PROGRAMS))
                acc_notes = acc_notes + pad_notes(xr, notes)
                desc['pad'] = acc_programs[3]
            acc = fluidsynth(tmp, acc_notes, acc_programs, rng.random() < 0.5, rng.random() < 0.3)
            n = len(acc)
            tune = voice.melody(rng, beats, [m for m in notes if m[2] != 2], duration)
            sung = rng.random() < args.sung
            if counter and not sung:
                program = int(xr.choice(SUNG_PROGRAMS))
            if sung:
                lead = voice.sing(rng, tune, n)
                if xr.random() < args.backing:
                    scale = voice.scale_of([m for m in notes if m[2] != 2])
                    second = voice.sing(xr, harmony(tune, scale, int(xr.choice([-2, 2, 2, -5]))), n)
                    lead = lead + xr.uniform(0.25, 0.6) * second
                    desc['backing'] = True
                if rng.random() < 0.6:
                    lead = reverb(rng, lead)
                desc['lead'] = 'sung'
            else:
                choice = int(rng.choice(VOICE_PROGRAMS))
                program = program if counter else choice
                lead_notes = [(t, length, 2, p, v) for t, length, p, v in tune]
                lead = fluidsynth(tmp, lead_notes, {2: program}, rng.random() < 0.6, rng.random() < 0.3)
                desc['lead'] = 'gm%d' % program
            desc['source'] = 'fluidsynth'
            save(k, lead, acc, desc)
        if args.testsongs:
            here = os.path.dirname(os.path.abspath(__file__))
            subprocess.run([args.strata, '--quiet', 'run', os.path.join(here, 'testsongs.lua'), tmp,
                            str(args.testsongs), str(args.seed), 'stems'], check=True)
            for j in range(args.testsongs):
                lead = read_wav(os.path.join(tmp, 'testsong%03d_lead.wav' % j))
                acc = read_wav(os.path.join(tmp, 'testsong%03d_rest.wav' % j))
                save(args.songs + j, lead, acc, {'source': 'testsong', 'lead': 'testsong', 'seed': args.seed + j})
    with open(os.path.join(args.out, 'index.json'), 'w') as f:
        json.dump(index, f, indent=1)


if __name__ == '__main__':
    main()
