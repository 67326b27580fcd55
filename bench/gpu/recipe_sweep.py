#!/usr/bin/env python3
"""GPU recipe sweep for the classifier: which training changes move held-out ROC AUC, before spending the 2-core
machine's 90 minutes on one of them.

Mirrors trainer/ModelTraining + Augmenter in PyTorch (the library DJL drives): the same network (CxrNet from
model_limit.py: ResNet18, head 512-128-2), class-balanced sampling with source mass proportional to sqrt(count),
the paper's augmentations with the trainer's probabilities and ranges (done on the GPU), Adam with coupled L2 1e-4,
gradient values clipped at 5, the learning rate decayed per step by lr_decay per epoch, ImageNet normalisation,
selection on validation ROC AUC. Variants add what the Java trainer does not have yet (weight EMA, flip TTA, larger
input, longer schedules). Every variant runs with several seeds; model selection uses validation only, and the test
part is reported alongside so the sweep's choice can be checked, not made, on it.

usage: recipe_sweep.py PLANES.npz OUT_DIR [--workers 8] [--seeds 3] [--only name,name] [--first-seed K] [--epochs N] [--steps N]
Writes OUT_DIR/sweep.json (one row per run) and OUT_DIR/sweep.md (mean and range per variant).
"""
import io
import json
import math
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.multiprocessing as mp
import torch.nn as nn
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score, roc_curve

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model_limit import BasicBlock, CxrNet  # noqa: E402

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)

BASE = dict(size=128, batch=16, epochs=40, lr=1e-3, decay=0.93, wd=1e-4, patience=10, ema=0.0, tta=False,
            depth=18, aug=1.0, smooth=0.0)
VARIANTS = {
    "base": {},
    "ema": dict(ema=0.998, patience=0),
    "ema_tta": dict(ema=0.998, patience=0, tta=True),
    "ema_80ep": dict(ema=0.999, patience=0, epochs=80, decay=0.96),
    "ema_192": dict(ema=0.998, patience=0, size=192),
    "ema_192_tta": dict(ema=0.998, patience=0, size=192, tta=True),
    "ema_160": dict(ema=0.998, patience=0, size=160),
    "ema_r34": dict(ema=0.998, patience=0, depth=34),
    "ema_aug15": dict(ema=0.998, patience=0, aug=1.5),
    "ema_smooth": dict(ema=0.998, patience=0, smooth=0.1),
    "ema_b32": dict(ema=0.998, patience=0, batch=32, lr=2e-3),
    "ema_wd5e4": dict(ema=0.998, patience=0, wd=5e-4),
    "ema_aug20": dict(ema=0.998, patience=0, aug=2.0),
    "ema_aug15_80ep": dict(ema=0.999, patience=0, aug=1.5, epochs=80, decay=0.96),
    "ema_192_60ep": dict(ema=0.999, patience=0, size=192, epochs=60, decay=0.95),
}


class CxrNet34(CxrNet):
    def __init__(self):
        super().__init__()
        layers = list(self.backbone.children())[:4]
        cin = 64
        for stage, (width, units) in enumerate(zip([64, 128, 256, 512], [3, 4, 6, 3])):
            for unit in range(units):
                layers.append(BasicBlock(cin, width, 2 if unit == 0 and stage > 0 else 1))
                cin = width
        self.backbone = nn.Sequential(*layers)


def sample_weights(label, source):
    """ModelTraining.sampleWeights with balance=source: each label half the mass, its sources by sqrt(count)."""
    w = np.zeros(len(label))
    groups = {}
    for i, (l, s) in enumerate(zip(label, source)):
        groups.setdefault((int(l), int(s)), []).append(i)
    mass = {}
    for (l, _), idx in groups.items():
        mass[l] = mass.get(l, 0) + math.sqrt(len(idx))
    for (l, _), idx in groups.items():
        w[idx] = math.sqrt(len(idx)) / mass[l] / len(idx) / len(mass)
    return w / w.sum()


def augment(cxr, lung, gen, strength):
    """Augmenter.defaults() on a GPU batch of [0,255] planes (B,1,H,W); strength scales the ranges."""
    b = cxr.shape[0]
    dev = cxr.device
    u = lambda: torch.rand(b, device=dev, generator=gen)  # noqa: E731
    sym = lambda m: (u() * 2 - 1) * m * strength  # noqa: E731
    flip = u() < 0.5
    affine = u() < 0.7
    angle = torch.where(affine, sym(math.radians(10)), torch.zeros(b, device=dev))
    zoom = torch.where(affine, 1 + sym(0.10), torch.ones(b, device=dev))
    tx = torch.where(affine, sym(0.06), torch.zeros(b, device=dev)) * 2  # grid units: [-1,1] spans the image
    ty = torch.where(affine, sym(0.06), torch.zeros(b, device=dev)) * 2
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.stack([torch.stack([cos, sin, -(cos * tx + sin * ty)], 1),
                         torch.stack([-sin, cos, -(-sin * tx + cos * ty)], 1)], 1)
    theta[:, 0] *= torch.where(flip, -1.0, 1.0).view(b, 1)
    grid = F.affine_grid(theta, list(cxr.shape), align_corners=True)
    both = F.grid_sample(torch.cat([cxr, lung], 1), grid, mode="bilinear", padding_mode="zeros",
                         align_corners=True)
    cxr, lung = both[:, :1], both[:, 1:]
    x = cxr / 255
    gamma = torch.where(u() < 0.5, 1 + sym(0.25), torch.ones(b, device=dev)).view(b, 1, 1, 1)
    x = x.clamp(0, 1) ** gamma
    contrast = torch.where(u() < 0.5, 1 + sym(0.15), torch.ones(b, device=dev)).view(b, 1, 1, 1)
    x = (x - 128 / 255) * contrast + 128 / 255
    bright = torch.where(u() < 0.5, sym(0.10), torch.zeros(b, device=dev)).view(b, 1, 1, 1)
    return ((x + bright).clamp(0, 1) * 255).round(), lung


def encode(cxr, lung, size):
    """InputEncoder: [CXR, lung, zeros] / 255, ImageNet-normalised, resized (bilinear, half-pixel) to size."""
    x = torch.cat([cxr, lung, torch.zeros_like(cxr)], 1) / 255
    if x.shape[-1] != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=False)
    return (x - MEAN.to(x.device)) / STD.to(x.device)


@torch.no_grad()
def scores(net, cxr, lung, size, tta):
    net.eval()
    out = []
    for i in range(0, len(cxr), 256):
        x = encode(cxr[i:i + 256], lung[i:i + 256], size)
        p = torch.softmax(net(x)[0], 1)[:, 1]
        if tta:
            p = (p + torch.softmax(net(torch.flip(x, [3]))[0], 1)[:, 1]) / 2
        out.append(p)
    return torch.cat(out).cpu().numpy()


def sens_at_spec(y, s, spec=0.90):
    fpr, tpr, _ = roc_curve(y, s)
    ok = fpr <= 1 - spec
    return float(tpr[ok].max()) if ok.any() else 0.0


def decode(blob, offsets):
    """export_planes.py's concatenated JPEGs back to a (N,1,H,W) uint8 stack."""
    from PIL import Image
    planes = [np.asarray(Image.open(io.BytesIO(blob[offsets[i]:offsets[i + 1]].tobytes())))
              for i in range(len(offsets) - 1)]
    return torch.from_numpy(np.stack(planes)).unsqueeze(1)


def run(job):
    name, cfg, seed, data_path = job
    torch.manual_seed(seed)
    np.random.seed(seed)
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    d = np.load(data_path)
    cxr = decode(d["cxr_jpeg"], d["cxr_offsets"]).to(dev).float()
    lung = decode(d["lung_jpeg"], d["lung_offsets"]).to(dev).float()
    label, source, part = d["label"], d["source"], d["part"]
    tr, va, te = (np.flatnonzero(part == k) for k in range(3))
    w = sample_weights(label[tr], source[tr])
    ytr = torch.from_numpy(label).to(dev)
    make_net = lambda: (CxrNet34() if cfg["depth"] == 34 else CxrNet()).to(dev).to(memory_format=torch.channels_last)  # noqa: E731
    net = make_net()
    ema = None
    if cfg["ema"]:
        ema = make_net()
        ema.load_state_dict(net.state_dict())
        for p in ema.parameters():
            p.requires_grad_(False)
        pairs = list(zip(ema.state_dict().values(), net.state_dict().values()))
    opt = torch.optim.Adam(net.parameters(), lr=cfg["lr"], weight_decay=cfg["wd"])
    steps = min(len(tr) // cfg["batch"], cfg.get("max_steps") or 10**9)
    step_factor = cfg["decay"] ** (1 / steps)
    gen = torch.Generator(device=dev.type)
    gen.manual_seed(seed)
    rng = np.random.default_rng(seed)
    best = dict(val_auc=-1)
    bad = 0
    history = []
    t0 = time.time()
    step = 0
    for epoch in range(1, cfg["epochs"] + 1):
        net.train()
        for _ in range(steps):
            idx = torch.from_numpy(tr[rng.choice(len(tr), cfg["batch"], p=w)]).to(dev)
            c, l = augment(cxr[idx], lung[idx], gen, cfg["aug"])
            x = encode(c, l, cfg["size"]).contiguous(memory_format=torch.channels_last)
            for g in opt.param_groups:
                g["lr"] = cfg["lr"] * step_factor ** step
            logits = net(x)[0]
            loss = F.cross_entropy(logits, ytr[idx], label_smoothing=cfg["smooth"])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_value_(net.parameters(), 5.0)
            opt.step()
            step += 1
            if ema is not None:
                with torch.no_grad():
                    dcy = min(cfg["ema"], (1 + step) / (10 + step))
                    for pe, p in pairs:
                        if pe.dtype.is_floating_point:
                            pe.mul_(dcy).add_(p, alpha=1 - dcy)
                        else:
                            pe.copy_(p)
        judged = ema if ema is not None else net
        sv = scores(judged, cxr[va], lung[va], cfg["size"], cfg["tta"])
        auc = roc_auc_score(label[va], sv)
        history.append(round(auc, 4))
        if auc > best["val_auc"]:
            st = scores(judged, cxr[te], lung[te], cfg["size"], cfg["tta"])
            best = dict(val_auc=auc, epoch=epoch, test_auc=roc_auc_score(label[te], st),
                        test_sens_spec90=sens_at_spec(label[te], st), val_sens_spec90=sens_at_spec(label[va], sv))
            bad = 0
        else:
            bad += 1
            if cfg["patience"] and bad >= cfg["patience"]:
                break
    st = scores(judged, cxr[te], lung[te], cfg["size"], cfg["tta"])
    last = dict(val_auc=history[-1], test_auc=roc_auc_score(label[te], st), test_sens_spec90=sens_at_spec(label[te], st))
    return dict(variant=name, seed=seed, config=cfg, best=best, last=last, history=history,
                seconds=round(time.time() - t0, 1))


def main():
    data, out = sys.argv[1], sys.argv[2]
    opt = lambda k, v: type(v)(sys.argv[sys.argv.index(k) + 1]) if k in sys.argv else v  # noqa: E731
    workers, seeds, only = opt("--workers", 8), opt("--seeds", 3), opt("--only", "")
    names = [n for n in VARIANTS if not only or n in only.split(",")]
    first_seed, epochs, max_steps = opt("--first-seed", 0), opt("--epochs", 0), opt("--steps", 0)  # --epochs/--steps cap smoke runs
    jobs = [(n, {**BASE, **VARIANTS[n], **({"epochs": epochs} if epochs else {}), "max_steps": max_steps}, 100 + s, data)
            for s in range(first_seed, first_seed + seeds) for n in names]
    os.makedirs(out, exist_ok=True)
    torch.backends.cudnn.benchmark = True
    rows = []
    ctx = mp.get_context("spawn")
    t0 = time.time()
    with ctx.Pool(workers) as pool:
        for r in pool.imap_unordered(run, jobs):
            rows.append(r)
            print(f"[{time.time() - t0:6.0f}s] {r['variant']:14s} seed {r['seed']} best val {r['best']['val_auc']:.4f}"
                  f" (ep {r['best']['epoch']}) -> test {r['best']['test_auc']:.4f} sens@90 "
                  f"{r['best']['test_sens_spec90']:.3f} | last val {r['last']['val_auc']:.4f} test "
                  f"{r['last']['test_auc']:.4f} sens@90 {r['last']['test_sens_spec90']:.3f} ({r['seconds']}s)",
                  flush=True)
            with open(os.path.join(out, "sweep.json"), "w") as f:
                json.dump(dict(gpu=torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
                               torch=torch.__version__, runs=rows), f, indent=1)
    lines = ["| variant | runs | val AUC (selected) | test AUC at selected | test sens@spec0.90 | last-epoch val AUC |"
             " last-epoch test AUC | last test sens@spec0.90 |", "|" + " --- |" * 8]
    fmt = lambda xs: f"{statistics.mean(xs):.4f} [{min(xs):.4f}, {max(xs):.4f}]"  # noqa: E731
    for n in names:
        rs = [r for r in rows if r["variant"] == n]
        if rs:
            lines.append(f"| {n} | {len(rs)} | {fmt([r['best']['val_auc'] for r in rs])} | "
                         f"{fmt([r['best']['test_auc'] for r in rs])} | "
                         f"{fmt([r['best']['test_sens_spec90'] for r in rs])} | "
                         f"{fmt([r['last']['val_auc'] for r in rs])} | {fmt([r['last']['test_auc'] for r in rs])} | "
                         f"{fmt([r['last']['test_sens_spec90'] for r in rs])} |")
    with open(os.path.join(out, "sweep.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
