#!/usr/bin/env python3
"""Wall-clock time from `vmm run` to a line of the guest's console, median of N boots, and the
process's peak resident memory (VmHWM) by then.

usage: bench/linux-boot-time.py [-n 5] [--marker TEXT] -- VMM-RUN-ARGS...
The console is read as it arrives (--serial stdio), so the time is the host's, not the guest's.
"""
import argparse
import statistics
import subprocess
import sys
import threading
import time


def peak_rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def boot(cmd, marker, limit):
    start = time.monotonic()
    rss = None
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    seen = None
    # A guest that prints nothing more would block the read below past the limit.
    timer = threading.Timer(limit, p.kill)
    timer.start()
    try:
        for line in p.stdout:
            if seen is None and marker.encode() in line:
                seen = time.monotonic() - start
                rss = peak_rss_kib(p.pid)
                # What comes after /init is not measured, and a machine without a way to power
                # off (QEMU's microvm has no ACPI) would hold the run until the limit.
                p.kill()
                break
            if time.monotonic() - start > limit:
                p.kill()
                break
        p.wait(timeout=limit)
    finally:
        timer.cancel()
        if p.poll() is None:
            p.kill()
    stats = [l for l in p.stderr.read().decode(errors="replace").splitlines() if "exits" in l]
    return seen, time.monotonic() - start, p.returncode, stats[-1] if stats else "", rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=5)
    ap.add_argument("--marker", default="VMM-INIT-MARKER: init started")
    ap.add_argument("--limit", type=float, default=600)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    times, rsss = [], []
    for i in range(a.n):
        seen, total, rc, stats, rss = boot(cmd, a.marker, a.limit)
        print(f"run {i + 1}: marker at {seen if seen is None else f'{seen:.2f}'} s, "
              f"peak RSS {rss} KiB, exit {rc} at {total:.2f} s; {stats}", flush=True)
        if seen is not None:
            times.append(seen)
        if rss is not None:
            rsss.append(rss)
        elif i == 0:
            break	# the first boot did not get there: the others would not either
    if len(times) == a.n:
        print(f"median time to '{a.marker}': {statistics.median(times):.2f} s "
              f"(min {min(times):.2f}, max {max(times):.2f}, n={a.n})")
        if rsss:
            print(f"median peak RSS: {statistics.median(rsss) / 1024:.1f} MiB "
                  f"(min {min(rsss) / 1024:.1f}, max {max(rsss) / 1024:.1f})")
    else:
        print(f"marker reached in {len(times)} of {a.n} runs")
        sys.exit(1)


if __name__ == "__main__":
    main()
