#!/usr/bin/python3
"""Score separation methods on the generated validation songs (make_unet_data.py --wav):
`strata compare` on each DIR/NNNN/{mixture,vocals,accompaniment}.wav, then the mean and
median SDR per method and source.

    unet_eval.py --val DIR [--songs A:B] [--methods unet,unet+repet,repet] [--strata ./strata]
"""
import argparse
import json
import os
import subprocess
import tempfile

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--val', required=True)
    ap.add_argument('--songs', default='0:1000', help='A:B, the folders A..B-1')
    ap.add_argument('--methods', default='unet,unet+repet,repet')
    ap.add_argument('--strata', default='./strata')
    args = ap.parse_args()
    a, b = (int(x) for x in args.songs.split(':'))
    folders = sorted(d for d in os.listdir(args.val) if os.path.isdir(os.path.join(args.val, d)))
    folders = [d for d in folders if a <= int(d) < b]
    sdr = {}
    with tempfile.TemporaryDirectory() as tmp:
        for d in folders:
            p = os.path.join(args.val, d)
            out = os.path.join(tmp, d + '.json')
            subprocess.run([args.strata, '--quiet', 'compare', os.path.join(p, 'mixture.wav'), '--ref',
                            os.path.join(p, 'vocals.wav'), os.path.join(p, 'accompaniment.wav'),
                            '--methods', args.methods, '--json', out], check=True,
                           stdout=subprocess.DEVNULL)
            with open(out) as f:
                result = json.load(f)
            for r in result['results'] if isinstance(result, dict) else result:
                for k, s in enumerate(r['sources']):
                    sdr.setdefault(r['method'], [[], []])[k].append(s['sdr'])
    print('%d songs (%s)' % (len(folders), ', '.join(folders)))
    print('%-12s %22s %22s %8s' % ('method', 'vocals mean / median', 'accomp. mean / median', 'mean'))
    for method, (v, acc) in sdr.items():
        print('%-12s %10.2f / %9.2f %10.2f / %9.2f %8.2f' % (
            method, np.mean(v), np.median(v), np.mean(acc), np.median(acc), (np.mean(v) + np.mean(acc)) / 2))


if __name__ == '__main__':
    main()
