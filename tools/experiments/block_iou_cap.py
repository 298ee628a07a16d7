#!/usr/bin/env python3
"""The best mean digit IoU a segmentation net can reach on the MNIST-composed VOC set when its
class scores are constant over SxS blocks (vovnet57-seg: scores at stride 4, then two blind 2x
nearest upsamplings, so S = 4). Each block of every validation mask is given its most common
label (the boundary 255 counts as a class, as in `host train --boundary class`); the per-class
IoU of that answer against the mask is printed. Majority is not exactly the IoU-optimal block
answer, but close: it is an estimate of the ceiling, not a bound. Plain Python (zlib, no numpy).
Usage: block_iou_cap.py [--voc data/mnist-voc/VOCdevkit/VOC2012] [--block 4]"""
import argparse
import struct
import zlib
from collections import Counter


def read_indexed_png(path):
    """An 8-bit palette PNG's indices as rows (the dataset writer's masks)."""
    data = open(path, 'rb').read()
    pos, idat = 8, b''
    while pos < len(data):
        n, = struct.unpack('>I', data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b'IHDR':
            w, h, depth, colour = struct.unpack('>IIBB', body[:10])
            assert depth == 8 and colour == 3, f'{path}: not an 8-bit palette PNG'
        elif kind == b'IDAT':
            idat += body
    raw, rows, prev, k = zlib.decompress(idat), [], [0] * w, 0
    for _ in range(h):
        f, row = raw[k], list(raw[k + 1:k + 1 + w])
        k += 1 + w
        for x in range(w):
            a, b, c = (row[x - 1] if x else 0), prev[x], (prev[x - 1] if x else 0)
            if f == 1: row[x] = (row[x] + a) & 255
            elif f == 2: row[x] = (row[x] + b) & 255
            elif f == 3: row[x] = (row[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                row[x] = (row[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(row)
        prev = row
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--voc', default='data/mnist-voc/VOCdevkit/VOC2012')
    ap.add_argument('--block', type=int, default=4)
    args = ap.parse_args()
    s = args.block
    inter, union = Counter(), Counter()
    ids = open(f'{args.voc}/ImageSets/Segmentation/val.txt').read().split()
    for name in ids:
        mask = read_indexed_png(f'{args.voc}/SegmentationClass/{name}.png')
        for by in range(0, len(mask), s):
            for bx in range(0, len(mask[0]), s):
                block = [mask[y][x] for y in range(by, min(by + s, len(mask))) for x in range(bx, min(bx + s, len(mask[0])))]
                guess = Counter(block).most_common(1)[0][0]
                for truth in block:
                    inter[truth] += truth == guess
                    union[truth] += 1
                    union[guess] += truth != guess
    iou = {c: inter[c] / union[c] for c in union if union[c]}
    digits = [iou[c] for c in range(1, 11) if c in iou]
    print(f'{len(ids)} validation masks, scores constant over {s}x{s} blocks (majority label):')
    print(f'  mean digit IoU {100 * sum(digits) / len(digits):.2f} %, background {100 * iou.get(0, 0):.2f} %, boundary {100 * iou.get(255, 0):.2f} %')


if __name__ == '__main__':
    main()
