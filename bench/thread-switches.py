#!/usr/bin/env python3
"""Context switches of each thread of the servers under test, once a second, beside a benchmark run.

    bench/thread-switches.py OUT [PATTERN]   # PATTERN: a word of the server's command line, default BenchServer

Every second it reads /proc/<pid>/task/<tid>/status (voluntary_ctxt_switches,
nonvoluntary_ctxt_switches), comm (the thread's name) and stat (CPU ticks) of every thread of every
process whose command line holds PATTERN, and writes one line per process: the switches and ticks
of that second, summed over the threads of one name (the kernel keeps 15 characters of it; digits
folded to N), busiest first:

    20:39:14 3699 TOTAL v1927 n894 c26 :: grizzly-nio-ker x2 v1355 n37 c5 | Grizzly-worker( x2 v495 n847 c19 | ...

v: voluntary switches (the thread blocked: a park, a wait, epoll), n: nonvoluntary ones (it was
preempted), c: CPU ticks, xK: K threads of that name. Stop it with Ctrl-C or kill.
"""
import os
import re
import sys
import time


def servers(pattern):
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if pattern.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def threads(pid):
    counts = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                status = f.read()
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the thread ended meanwhile
        voluntary = int(re.search(r"^voluntary_ctxt_switches:\s+(\d+)", status, re.M).group(1))
        preempted = int(re.search(r"^nonvoluntary_ctxt_switches:\s+(\d+)", status, re.M).group(1))
        counts[tid] = (name, voluntary, preempted, int(fields[11]) + int(fields[12]))
    return counts


def main():
    out = open(sys.argv[1], "w", buffering=1)
    pattern = sys.argv[2] if len(sys.argv) > 2 else "BenchServer"
    previous = {}
    while True:
        started = time.time()
        for pid in servers(pattern):
            try:
                now = threads(pid)
            except OSError:
                continue  # the process ended meanwhile
            before = previous.get(pid, {})
            groups = {}
            for tid, (name, voluntary, preempted, ticks) in now.items():
                _, v0, n0, c0 = before.get(tid, (name, voluntary, preempted, ticks))
                group = groups.setdefault(re.sub(r"\d+", "N", name), [0, 0, 0, 0])
                group[0] += 1
                group[1] += voluntary - v0
                group[2] += preempted - n0
                group[3] += ticks - c0
            previous[pid] = now
            busy = sorted((g for g in groups.items() if sum(g[1][1:]) > 0), key=lambda g: -(g[1][1] + g[1][2]))
            if busy:
                total = [sum(g[i] for _, g in busy) for i in (1, 2, 3)]
                parts = " | ".join(f"{name} x{g[0]} v{g[1]} n{g[2]} c{g[3]}" for name, g in busy)
                out.write(f"{time.strftime('%H:%M:%S', time.gmtime(started))} {pid} TOTAL v{total[0]} n{total[1]} c{total[2]} :: {parts}\n")
        time.sleep(max(0.0, 1.0 - (time.time() - started)))


if __name__ == "__main__":
    main()
