"""Decompression bombs: seconds and peak RSS of ``hashguard hash FILE`` on each bomb of
``tests/media/bombs.py`` (12000x12000 claimed, a few KB to 2.5 MB each), and on a small PNG
as the interpreter's baseline; optionally the same with another source tree (``--peer``,
e.g. an export of the code before the budget) in the same run, for a ratio.

Each run is a grandchild: its parent reads its peak RSS from ``RUSAGE_CHILDREN``.

    flock /tmp/hashguard-bench.lock python bench/bench_bombs.py [--peer /tmp/old/src]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.media import bombs

MEASURE = """
import json, resource, subprocess, sys, time
t = time.perf_counter()
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(json.dumps({"s": time.perf_counter() - t, "out": proc.stdout.strip(),
                  "peak": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024}))
"""


def measure(src: str, path: Path) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": src}
    command = [sys.executable, "-c", MEASURE, sys.executable, "-m", "hashguard.cli", "hash"]
    done = subprocess.run([*command, str(path)], capture_output=True, text=True, env=env)
    result: dict[str, object] = json.loads(done.stdout)
    return result


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--src", default=str(Path(__file__).resolve().parents[1] / "src"))
    p.add_argument("--peer", help="another src directory, measured in the same run")
    args = p.parse_args()
    trees = {"ours": args.src} | ({"peer": args.peer} if args.peer else {})
    with tempfile.TemporaryDirectory() as tmp:
        files = {"small png (baseline)": Path(tmp) / "small.png"}
        files["small png (baseline)"].write_bytes(bombs.png(64, 64))
        for name, make in bombs.BOMBS.items():
            files[name] = Path(tmp) / name
            files[name].write_bytes(make())
        heads = " ".join(f"{t + ' s':>8} {t + ' MiB':>9}" for t in trees)
        print(f"{'file':22} {'bytes':>9} {heads}")
        for name, path in files.items():
            runs = {t: measure(src, path) for t, src in trees.items()}
            cells = " ".join(
                f"{float(r['s']):8.2f} {int(r['peak']) >> 20:9d}"
                for r in runs.values()  # type: ignore[call-overload]
            )
            print(f"{name:22} {path.stat().st_size:9d} {cells}")
            answer = json.loads(str(runs["ours"]["out"]).splitlines()[0])
            print(f"{'':22} ours: {answer.get('error') or 'pdq ' + str(answer.get('pdq'))[:16]}")


if __name__ == "__main__":
    main()
