#!/usr/bin/python3
"""Held-out generated songs for measuring the beat tracker (never trained on): songs of
beats_songs.py from seeds no training set uses, rendered by FluidSynth with one or more
soundfonts, augmented as the training songs are (make_beats_data.augment).

    beats_testset.py --out DIR [--songs N] [--seed S] [--soundfont SF2 ...] [--generator G]

Writes DIR/NAME_NNN.wav (16-bit, 44.1 kHz, mono), DIR/NAME_NNN.beats (time<TAB>position, the
corpus's format) for each soundfont NAME, and DIR/index.json. tools/beats-heldout.lua scores a
model on it. FluidR3_GM is the training soundfont (held-out songs); TimGM6mb and OPL-3 (an FM
chip, as in tracker and game music) are never used in training (held-out sound as well).
"""
import argparse
import json
import os
import sys
import tempfile
import wave

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import beats_songs as songs  # noqa: E402
import make_beats_data as mbd  # noqa: E402

SOUNDFONTS = ['/usr/share/sounds/sf2/FluidR3_GM.sf2', '/usr/share/sounds/sf2/TimGM6mb.sf2',
              '/usr/share/sounds/sf2/OPL-3_FM_128M.sf2']


def write_wav(path, x):
    with wave.open(path, 'wb') as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(44100)
        w.writeframes((np.clip(x, -1, 1) * 32767).astype('<i2').tobytes())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', required=True)
    ap.add_argument('--songs', type=int, default=12)
    ap.add_argument('--seed', type=int, default=90261205)
    ap.add_argument('--soundfont', nargs='+', default=SOUNDFONTS)
    ap.add_argument('--generator', type=int, default=1, help='beats_songs.make_song\'s generator (1, 2, 3 or 4)')
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    index = []
    with tempfile.TemporaryDirectory() as tmp:
        for sf in args.soundfont:
            name = os.path.splitext(os.path.basename(sf))[0]
            rng = np.random.default_rng(args.seed)
            for k in range(args.songs):
                notes, programs, beats, desc = songs.make_song(args.seed + k, duration_s=float(rng.uniform(22, 34)),
                                                               generator=args.generator)
                reverb, chorus = rng.random() < 0.5, rng.random() < 0.3
                x = mbd.augment(mbd.render_song(notes, programs, desc, sf, reverb, chorus, tmp), rng)
                base = '%s_%03d' % (name, k)
                write_wav(os.path.join(args.out, base + '.wav'), x)
                with open(os.path.join(args.out, base + '.beats'), 'w') as f:
                    for t, pos in beats:
                        f.write('%.3f\t%d\n' % (t, pos))
                index.append(dict(file=base, soundfont=name, **desc))
                print('%s %s %.0f BPM' % (base, desc['meter'], desc['bpm']), flush=True)
    with open(os.path.join(args.out, 'index.json'), 'w') as f:
        json.dump(index, f, indent=1)


if __name__ == '__main__':
    main()
