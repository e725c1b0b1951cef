"""List readers (CSV, JSONL) of one source tree: seconds to read 200,000 rows, median of 5.

Compare two trees in one run (the other tree's ``src`` first on sys.path)::

    flock /tmp/hashguard-bench.lock sh -c \\
        "python bench/bench_list_reading.py BASE/src; python bench/bench_list_reading.py src"
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import statistics
import sys
import time

ROWS = 200_000


def listing(fmt: str) -> bytes:
    out = ["signal_type,signal,id,category,note\n"] if fmt == "csv" else []
    for i in range(ROWS):
        h = hashlib.md5(str(i).encode()).hexdigest()
        if fmt == "csv":
            out.append(f"md5,{h},id{i},A,note {i}\n")
        else:
            record = {"signal_type": "md5", "signal": h, "id": f"id{i}", "category": "A"}
            out.append(json.dumps({**record, "note": f"note {i}"}) + "\n")
    return "".join(out).encode()


def main(src: str) -> None:
    sys.path.insert(0, src)
    formats = importlib.import_module("hashguard.lists.formats")
    readers = getattr(formats, "READERS", None)  # before issue 11: a dict of functions
    if readers is None:
        readers = {name: fmt.read for name, fmt in formats.formats().items()}
    registry = importlib.import_module("hashguard.signals.registry").default_registry()
    for fmt in ("csv", "jsonl"):
        data = listing(fmt)
        times = []
        for _ in range(5):
            errors: list[object] = []
            start = time.perf_counter()
            n = sum(1 for _ in readers[fmt](io.BytesIO(data), registry, errors))
            times.append(time.perf_counter() - start)
            assert n == ROWS and not errors, errors[:3]
        print(f"{src} {fmt}: median {statistics.median(times):.3f} s for {ROWS} rows")


if __name__ == "__main__":
    main(sys.argv[1])
