#!/usr/bin/env python3
"""Who used the CPU while the benchmark's slowest images were in flight: the windows where the slowest 3 % of the
half-load phase's images were (bench-logs/half-load-images.csv, from bin/bench.sh), and per process and thread group
the CPU ms per second in those windows against the whole phase (from thread_sampler.py's CSV).

    python3 bench/cpu/slow_windows.py BENCH_LOGS/half-load-images.csv SAMPLER.csv
"""
import collections
import csv
import re
import sys


def main(images_csv, threads_csv):
    rows = sorted([list(map(int, r.values())) for r in csv.DictReader(open(images_csv))])
    start, end = rows[0][0], max(r[5] for r in rows)
    totals = sorted(r[5] - r[0] for r in rows)
    threshold = totals[int(len(totals) * 0.97)]
    windows = []
    for a, b in sorted((r[0], r[5]) for r in rows if r[5] - r[0] >= threshold):
        if windows and a <= windows[-1][1] + 50:
            windows[-1][1] = max(windows[-1][1], b)
        else:
            windows.append([a, b])
    print(f'phase {(end - start) / 1000:.1f} s; slowest 3 % from {threshold} ms; windows (s into the phase, ms):',
          [(round((a - start) / 1000, 2), b - a) for a, b in windows])
    phase, slow = collections.Counter(), collections.Counter()
    for r in csv.DictReader(open(threads_csv)):
        ms, cpu = int(r['ms']), float(r['cpu_ms'])
        key = (r['proc'].split(':')[0], re.sub(r'\d+', '#', r['thread']))
        if start <= ms <= end:
            phase[key] += cpu
        if any(a <= ms <= b + 100 for a, b in windows):
            slow[key] += cpu
    phase_s = (end - start) / 1000
    slow_s = sum(b - a + 100 for a, b in windows) / 1000
    print(f"{'process':16} {'thread':32} {'phase ms/s':>10} {'slow ms/s':>10} {'excess':>8}")
    for key in sorted(set(phase) | set(slow), key=lambda k: -(slow[k] / slow_s - phase[k] / phase_s))[:20]:
        print(f'{key[0][:16]:16} {key[1][:32]:32} {phase[key] / phase_s:10.1f} {slow[key] / slow_s:10.1f} '
              f'{slow[key] / slow_s - phase[key] / phase_s:8.1f}')


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
