#!/usr/bin/env python3
"""Per-thread CPU time of every JVM and Redis on this machine, every 100 ms, for finding who took the cores while the
benchmark's slowest images were in flight (slow_windows.py). Rows: wall-clock ms, process (service main class,
'broker', 'registry', 'redis') with its PID, thread name, CPU ms since the previous sample (from
/proc/PID/task/TID/schedstat). Costs a few per cent of a core: not for runs whose figures are reported.

    python3 bench/cpu/thread_sampler.py OUT.csv &    # then bin/bench.sh ...; stop it with SIGTERM
"""
import os
import re
import signal
import sys
import time

running = True


def stop(*_):
    global running
    running = False


def process_name(pid, names):
    if pid not in names:
        try:
            cmd = open(f'/proc/{pid}/cmdline', 'rb').read().split(b'\0')
        except OSError:
            return None
        line = b' '.join(cmd).decode(errors='replace')
        service = re.search(r' org\.cxrtriage\.[\w.]+', line)
        if 'redis-server' in line:
            names[pid] = 'redis'
        elif 'kafka.Kafka' in line:
            names[pid] = 'broker'
        elif service:
            names[pid] = service.group(0).split('.')[-1]
        elif cmd[0].decode(errors='replace').endswith('java'):
            names[pid] = 'registry'
        else:
            names[pid] = None
    return names[pid]


def main(path):
    signal.signal(signal.SIGTERM, stop)
    names, previous = {}, {}
    with open(path, 'w') as out:
        out.write('ms,proc,thread,cpu_ms\n')
        while running:
            now = int(time.time() * 1000)
            for pid in filter(str.isdigit, os.listdir('/proc')):
                name = process_name(pid, names)
                if not name:
                    continue
                try:
                    tids = os.listdir(f'/proc/{pid}/task')
                except OSError:
                    continue
                for tid in tids:
                    try:
                        ns = int(open(f'/proc/{pid}/task/{tid}/schedstat').read().split()[0])
                        key = (pid, tid)
                        if key in previous and ns > previous[key][0]:
                            out.write(f'{now},{name}:{pid},{previous[key][1]},{(ns - previous[key][0]) / 1e6:.2f}\n')
                        comm = previous[key][1] if key in previous else \
                            open(f'/proc/{pid}/task/{tid}/comm').read().strip().replace(',', ';')
                        previous[key] = (ns, comm)
                    except (OSError, ValueError, IndexError):
                        pass
            out.flush()
            time.sleep(max(0.0, 0.1 - (time.time() * 1000 - now) / 1000))


if __name__ == '__main__':
    main(sys.argv[1])
