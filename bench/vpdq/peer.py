"""Benchmark peer: Meta's vpdq 0.2.5 (video PDQ), measured beside hashguard's
own video hashing in bench/bench_video.py.

Run with the interpreter of the venv made by bench/vpdq/setup.sh:

    /tmp/vpdqenv/bin/python bench/vpdq/peer.py --seconds-per-hash 0 [--repeats 3] VIDEO...

For each video it prints one JSON line:
    {"video", "seconds_per_hash", "cpu_seconds", "wall_seconds", "frames"}
where the times are medians over the repeats of one vpdq.computeHash call
(cpu_seconds is process CPU time, so it counts all of vpdq's decode and hash
threads) and frames is [[frame_number, quality, pdq_hex, timestamp], ...]
from the last repeat. seconds_per_hash 0 hashes every frame. Every other
computeHash argument is left at vpdq's default (no downsampling,
thread_count=0, meaning vpdq chooses).
"""

import argparse
import json
import os
import statistics
import time

import vpdq


def measure(path, seconds_per_hash, repeats):
    cpu, wall = [], []
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        features = vpdq.computeHash(path, seconds_per_hash=seconds_per_hash)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return {
        "video": os.path.basename(path),
        "seconds_per_hash": seconds_per_hash,
        "cpu_seconds": statistics.median(cpu),
        "wall_seconds": statistics.median(wall),
        "frames": [[f.frame_number, f.quality, f.hex, f.timestamp] for f in features],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds-per-hash", type=float, required=True)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("videos", nargs="+", metavar="VIDEO")
    args = ap.parse_args()
    for path in args.videos:
        print(json.dumps(measure(path, args.seconds_per_hash, args.repeats)), flush=True)


if __name__ == "__main__":
    main()
