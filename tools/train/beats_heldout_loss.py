#!/usr/bin/python3
"""The held-out loss of beat tracker models on train_beats.py's split of the same data (every
tenth song of the folders, in the order given), overall and per folder.

    beats_heldout_loss.py --data DIR[:N] ... --model A.safetensors [B.safetensors ...]

Prints, per model, the three-class loss per frame (what train_beats.py keeps the best epoch by)
and the downbeat-or-beat loss at the beats (train_beats.downbeat_ce), for all held-out songs and
for those of each folder.
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_beats as tb  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', required=True, nargs='+')
    ap.add_argument('--model', required=True, nargs='+')
    ap.add_argument('--threads', type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    songs, folder = [], []
    for spec in args.data:
        part = tb.load([spec])
        songs += part
        folder += [spec] * len(part)
    held = [k for k in range(len(songs)) if k % 10 == 0]
    for path in args.model:
        model = tb.TCN(songs[0][0].shape[0])
        state = tb.read_safetensors(path)
        for k, v in model.state_dict().items():
            if k.endswith('num_batches_tracked') or k.startswith('tempo.'):
                state[k] = v
        model.load_state_dict(state)
        model.eval()
        loss, down = tb.evaluate(model, [songs[k] for k in held])
        print('%s: all %d held out: loss %.4f downbeat %.3f' % (path, len(held), loss, down))
        for spec in args.data:
            sel = [songs[k] for k in held if folder[k] == spec]
            if sel:
                loss, down = tb.evaluate(model, sel)
                print('  %s (%d): loss %.4f downbeat %.3f' % (spec, len(sel), loss, down))


if __name__ == '__main__':
    main()
