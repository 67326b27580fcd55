#!/usr/bin/env python3
"""Packs the trainer's preprocessed planes for a GPU recipe sweep (bench/gpu/recipe_sweep.py).

Reads the trainer's image cache (ImageCache's binary file: the streaming service's 256-px CXR and U-Net lung planes
for every manifest image), the manifest and a split file, and writes one .npz with the planes resized to --size
(bilinear, half-pixel centres: InputEncoder's resize) and stored as JPEG (quality --quality; the device machines take
at most 64 MiB, and raw 192-px planes are 125 MB), with labels, sources and split parts. The output is derived
from the shared X-rays: keep it in an ignored folder, never commit it.

usage: export_planes.py CACHE.bin MANIFEST.csv SPLIT.csv OUT.npz [--size 192] [--quality 95]
"""
import csv
import struct
import sys

import io

import numpy as np
from PIL import Image


def resize_bilinear(planes, size):
    """InputEncoder.resizeBilinear for a stack of square uint8 planes, rounded back to uint8."""
    src = planes.shape[-1]
    scale = src / size
    s = np.maximum((np.arange(size) + 0.5) * scale - 0.5, 0)
    lo = np.minimum(s.astype(np.int64), src - 1)
    hi = np.minimum(lo + 1, src - 1)
    w = (s - lo).astype(np.float32)
    p = planes.astype(np.float32)
    rows = p[:, lo, :] * (1 - w)[None, :, None] + p[:, hi, :] * w[None, :, None]
    out = rows[:, :, lo] * (1 - w)[None, None, :] + rows[:, :, hi] * w[None, None, :]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def jpegs(planes, quality):
    """Concatenated JPEG files of the planes and their start offsets (one more than planes: the end)."""
    blobs = []
    for p in planes:
        b = io.BytesIO()
        Image.fromarray(p).save(b, "JPEG", quality=quality)
        blobs.append(np.frombuffer(b.getvalue(), np.uint8))
    return np.concatenate(blobs), np.cumsum([0] + [len(b) for b in blobs])


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    size = int(sys.argv[sys.argv.index("--size") + 1]) if "--size" in sys.argv else 192
    quality = int(sys.argv[sys.argv.index("--quality") + 1]) if "--quality" in sys.argv else 95
    args = [a for a in args if a not in (str(size), str(quality))]
    cache, manifest, split, out = args
    with open(manifest, newline="") as f:
        rows = list(csv.DictReader(f))
    with open(split, newline="") as f:
        part_of = {r["file"]: r["split"] for r in csv.DictReader(f)}
    with open(cache, "rb") as f:
        magic, n, plane = struct.unpack(">iii", f.read(12))
        assert magic == 0x43585243 and n == len(rows), (hex(magic), n, len(rows))
        cxr = np.zeros((n, plane, plane), np.uint8)
        lung = np.zeros((n, plane, plane), np.uint8)
        keep = np.zeros(n, bool)
        for i in range(n):
            if f.read(1)[0]:
                cxr[i] = np.frombuffer(f.read(plane * plane), np.uint8).reshape(plane, plane)
                lung[i] = np.frombuffer(f.read(plane * plane), np.uint8).reshape(plane, plane)
                keep[i] = True
            else:
                f.read(struct.unpack(">H", f.read(2))[0])  # writeUTF: rejection reason
    sources = sorted({r["source"] for r in rows})
    parts = ["train", "val", "test"]
    idx = np.flatnonzero(keep)
    cxr_jpeg, cxr_offsets = jpegs(resize_bilinear(cxr[idx], size), quality)
    lung_jpeg, lung_offsets = jpegs(resize_bilinear(lung[idx], size), quality)
    np.savez(
        out,
        cxr_jpeg=cxr_jpeg, cxr_offsets=cxr_offsets, lung_jpeg=lung_jpeg, lung_offsets=lung_offsets,
        label=np.array([rows[i]["label"] == "covid" for i in idx], np.int64),
        source=np.array([sources.index(rows[i]["source"]) for i in idx], np.int64),
        part=np.array([parts.index(part_of[rows[i]["file"]]) for i in idx], np.int64),
        sources=np.array(sources),
    )
    print(f"wrote {len(idx)} images at {size} px to {out}")


if __name__ == "__main__":
    main()
