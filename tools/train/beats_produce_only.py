#!/usr/bin/env python3
"""Diagnosis data for doc/beats.md's run 17: generator 3's songs, not played
(no phrase dynamics, pushes or legato) but produced as generator 4 produces
them (beats_mix.produce: parts rendered alone, strata's own instruments, the
mix and the mastering bus), saved as make_beats_data.py saves its songs.

    /usr/bin/python3 tools/train/beats_produce_only.py OUT N SEED
    (run 17: build/train-beats/data_prod 120 20321205)

It separates the two halves of generator 4: which of them moves a tracker
trained on it. Not part of `make train-beats`.
"""
import json
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import beats_mix  # noqa: E402
import beats_songs as songs  # noqa: E402
import make_beats_data as mbd  # noqa: E402


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: beats_produce_only.py OUT N SEED")
    out, n, seed0 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(seed0)
    index = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(n):
            notes, programs, beats, desc = songs.make_song(
                seed0 + k, duration_s=float(rng.uniform(22, 34)), generator=3)
            rng.random()  # the draws make_beats_data.py spends here, so the
            rng.random()  # augmentation stream matches its songs'
            x, mix = beats_mix.produce(notes, programs, seed0 + k, mbd.SOUNDFONT, tmp,
                                       songs.write_midi, mbd.read_wav)
            desc.update(mix)
            mbd.save(out, k, x, beats, desc, rng, index)
            print(k, flush=True)
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump(index, f, indent=1)


if __name__ == "__main__":
    main()
