#!/usr/bin/env python3
"""GPU model limit: forward throughput and latency of the CXR networks on an NVIDIA GPU.

Why Python: the GPU machines lent to this project have PyTorch with CUDA but no Java, no network and a 64 MiB limit
on what can be sent to them, while DJL's CUDA native bundle (pytorch-native-cu124) is 2.46 GB. So the Java service
cannot be run there; this script measures the same networks (layer for layer as model/CxrNetworkFactory and
model/LungUnet build them, parameter counts checked) in PyTorch, which is the library DJL's PyTorch engine drives.
Weights are random: the cost of a forward pass does not depend on their values.

Measured: images/s at each batch size (host tensor -> GPU copy included, as the inference worker does), batch-1
latency p50/p99, for fp32, TF32 and bf16 autocast, channels-last; the same on the machine's CPU cores for reference.
Writes model-limit.json and model-limit.md to the folder given as the first argument (default: current folder).
"""
import json
import os
import platform
import statistics
import sys
import time

import torch
import torch.nn as nn

OUT = sys.argv[1] if len(sys.argv) > 1 else "."
CLASSIFIER_INPUT = 128  # models/default/model.json inputSize
UNET_INPUT = 128  # models/lung-unet/lung-model.json inputSize
EMBEDDING = 128
BATCHES = [1, 4, 8, 16, 32, 64, 128, 256]


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.main = nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
                                  nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
        self.shortcut = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                         if stride != 1 or cin != cout else nn.Identity())

    def forward(self, x):
        return torch.relu(self.main(x) + self.shortcut(x))


class CxrNet(nn.Module):
    """ResNet18 without fc, global average pooling, head Linear(512)-ReLU-Dropout-Linear(128)-ReLU-Linear(2)."""

    def __init__(self):
        super().__init__()
        layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
        cin = 64
        for stage, width in enumerate([64, 128, 256, 512]):
            for unit in range(2):
                layers.append(BasicBlock(cin, width, 2 if unit == 0 and stage > 0 else 1))
                cin = width
        self.backbone = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.hidden = nn.Sequential(nn.Linear(512, 512), nn.ReLU(), nn.Dropout(0.5), nn.Linear(512, EMBEDDING), nn.ReLU())
        self.logits = nn.Linear(EMBEDDING, 2)

    def forward(self, x):
        e = self.hidden(torch.flatten(self.pool(self.backbone(x)), 1))
        return self.logits(e), e


def double_conv(cin, cout):
    layers = []
    for i in range(2):
        layers += [nn.Conv2d(cin if i == 0 else cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
    return nn.Sequential(*layers)


class LungUnet(nn.Module):
    """baseWidth 16, 5 levels; upsampling = 1x1 conv then 2x nearest repetition, as in model/LungUnet."""

    def __init__(self, base=16, levels=5):
        super().__init__()
        self.enc = nn.ModuleList()
        cin = 1
        for level in range(levels):
            self.enc.append(double_conv(cin, base << level))
            cin = base << level
        self.ups, self.dec = nn.ModuleList(), nn.ModuleList()
        for level in range(levels - 2, -1, -1):
            self.ups.append(nn.Conv2d(cin, base << level, 1))
            self.dec.append(double_conv(2 * (base << level), base << level))
            cin = base << level
        self.head = nn.Conv2d(cin, 1, 1)
        self.levels = levels

    def forward(self, x):
        skips = []
        for level, enc in enumerate(self.enc):
            x = enc(x)
            if level < self.levels - 1:
                skips.append(x)
                x = nn.functional.max_pool2d(x, 2)
        for up, dec in zip(self.ups, self.dec):
            u = up(x).repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)
            x = dec(torch.cat([skips.pop(), u], 1))
        return self.head(x)


def params(m):
    return sum(p.numel() for p in m.parameters())


def timed(fn, iters, sync):
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return times


def measure(net, channels, size, device, mode, batches, iters):
    net = net.to(device).eval()
    fmt = torch.channels_last if device.type == "cuda" else torch.contiguous_format
    net = net.to(memory_format=fmt)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = mode == "tf32"
    torch.backends.cudnn.allow_tf32 = mode == "tf32"
    rows = []
    for b in batches:
        host = torch.rand(b, channels, size, size)  # what arrives from the tensor topic, on the host

        def step():
            with torch.inference_mode(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=mode == "bf16"):
                x = host.to(device, non_blocking=False).contiguous(memory_format=fmt)
                out = net(x)
                (out[0] if isinstance(out, tuple) else out).float().cpu()  # results back to the host

        timed(step, 10, sync)  # warm-up: cudnn autotuning, allocator
        t = timed(step, iters if b <= 64 else max(10, iters // 4), sync)
        med = statistics.median(t)
        rows.append({"batch": b, "ms_per_batch_p50": med * 1e3, "ms_per_batch_p99": sorted(t)[int(0.99 * (len(t) - 1))] * 1e3,
                     "images_per_s": b / med})
    return rows


def main():
    os.makedirs(OUT, exist_ok=True)
    cls, unet = CxrNet(), LungUnet()
    # Java counts (CxrNetworkFactory javadoc: ResNet18 11,176,512 without fc; head 262,656 + 65,664 + 258).
    assert params(cls) == 11_176_512 + 262_656 + 65_664 + 258, params(cls)
    result = {"torch": torch.__version__, "cuda": torch.version.cuda, "host": platform.node(),
              "cpu_threads": torch.get_num_threads(), "classifier_params": params(cls), "unet_params": params(unet),
              "classifier_input": [3, CLASSIFIER_INPUT, CLASSIFIER_INPUT], "unet_input": [1, UNET_INPUT, UNET_INPUT]}
    gpu = torch.cuda.is_available()
    if gpu:
        result["gpu"] = torch.cuda.get_device_name(0)
        dev = torch.device("cuda")
        for mode in ["fp32", "tf32", "bf16"]:
            result[f"classifier_gpu_{mode}"] = measure(cls, 3, CLASSIFIER_INPUT, dev, mode, BATCHES, 100)
            print(mode, "classifier", result[f"classifier_gpu_{mode}"], flush=True)
        result["classifier_gpu_fp32_224"] = measure(cls, 3, 224, dev, "fp32", [1, 16, 64, 256], 50)
        for mode in ["fp32", "bf16"]:
            result[f"unet_gpu_{mode}"] = measure(unet, 1, UNET_INPUT, dev, mode, BATCHES, 100)
        result["unet_gpu_fp32_256"] = measure(unet, 1, 256, dev, "fp32", [1, 16, 64], 50)
        lat = measure(cls, 3, CLASSIFIER_INPUT, dev, "fp32", [1], 300)[0]
        result["classifier_gpu_latency_batch1_ms"] = {"p50": lat["ms_per_batch_p50"], "p99": lat["ms_per_batch_p99"]}
        result["gpu_peak_memory_mib"] = torch.cuda.max_memory_allocated() / 2**20
    cpu = torch.device("cpu")
    result["classifier_cpu_fp32"] = measure(cls, 3, CLASSIFIER_INPUT, cpu, "fp32", [1, 4, 16], 20)
    result["unet_cpu_fp32"] = measure(unet, 1, UNET_INPUT, cpu, "fp32", [1, 4], 20)
    with open(os.path.join(OUT, "model-limit.json"), "w") as f:
        json.dump(result, f, indent=1)
    lines = [f"# GPU model limit ({result.get('gpu', 'no GPU')}, torch {result['torch']}, CUDA {result['cuda']}, "
             f"{result['cpu_threads']} CPU threads)", "",
             "| network | device | precision | batch | ms/batch p50 | images/s |", "| --- | --- | --- | ---: | ---: | ---: |"]
    for key, rows in result.items():
        if isinstance(rows, list) and rows and isinstance(rows[0], dict):
            net, device, *rest = key.split("_")
            for r in rows:
                lines.append(f"| {net} | {device} | {' '.join(rest)} | {r['batch']} | {r['ms_per_batch_p50']:.2f} | "
                             f"{r['images_per_s']:.0f} |")
    if "classifier_gpu_latency_batch1_ms" in result:
        l = result["classifier_gpu_latency_batch1_ms"]
        lines += ["", f"classifier batch-1 latency on the GPU, copy in and out included: p50 {l['p50']:.2f} ms, "
                      f"p99 {l['p99']:.2f} ms; peak GPU memory {result['gpu_peak_memory_mib']:.0f} MiB"]
    with open(os.path.join(OUT, "model-limit.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
