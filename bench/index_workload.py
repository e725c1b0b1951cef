"""PDQ index benchmark: the workload, timing and memory metering in isolated processes, and
the ground truth."""

from __future__ import annotations

import multiprocessing
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import psutil
from _harness import median_seconds as harness_median_seconds

BITS = 256
THRESHOLD = 31
FAISS_RADIUS = THRESHOLD + 1  # faiss range_search keeps distance < radius
BATCH = 64
VARIANTS = 8  # the rotations and flips of one image
WARMUP = 20
REPEATS = 3  # timed repeats of the cheap whole-set measurements (median reported)
MS = 1e6  # nanoseconds per millisecond
GB = 1e9

Search = Callable[[int], np.ndarray]  # query number -> pks found within THRESHOLD
Result = dict[str, Any]
SPAWN = multiprocessing.get_context("spawn")


# --- data -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    codes: np.ndarray  # (n, 32) uint8, the indexed hashes; pk = row number
    queries: np.ndarray  # (2q, 32) uint8, near and random queries shuffled together
    near: np.ndarray  # (2q,) bool, which queries are near-duplicates of an indexed hash
    variants: np.ndarray  # (q, 8, 32) uint8, 8 near variants of each target
    warmup: np.ndarray  # (WARMUP, 32) uint8, random hashes run untimed first


def flip_bits(rng: np.random.Generator, codes: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Each row of ``codes`` with ``counts[i]`` distinct random bits flipped."""
    rank = np.argsort(rng.random((len(codes), BITS)), axis=1)  # a random permutation per row
    return codes ^ np.packbits(rank < counts[:, None], axis=1)


def make_workload(n: int, queries: int, seed: int) -> Workload:
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    targets = codes[rng.choice(n, queries, replace=False)]
    near = flip_bits(rng, targets, rng.integers(0, THRESHOLD + 1, queries))
    random = rng.integers(0, 256, (queries, 32), dtype=np.uint8)
    order = rng.permutation(2 * queries)
    many = np.repeat(targets, VARIANTS, axis=0)
    variants = flip_bits(rng, many, rng.integers(0, THRESHOLD + 1, len(many)))
    return Workload(
        codes=codes,
        queries=np.concatenate([near, random])[order],
        near=order < queries,
        variants=variants.reshape(queries, VARIANTS, 32),
        warmup=rng.integers(0, 256, (WARMUP, 32), dtype=np.uint8),
    )


def hex_rows(codes: np.ndarray) -> list[str]:
    text = codes.tobytes().hex()
    return [text[i : i + 64] for i in range(0, len(text), 64)]


# --- measuring --------------------------------------------------------------------------


def rss() -> int:
    return int(psutil.Process().memory_info().rss)


def peak_rss() -> int:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) * 1024  # type: ignore[union-attr]


@contextmanager
def metered() -> Iterator[dict[str, float]]:
    """Build time, RSS growth and peak RSS growth of the block."""
    Path("/proc/self/clear_refs").write_text("5")  # reset the RSS high-water mark
    out: dict[str, float] = {}
    start_rss, start = rss(), time.perf_counter()
    yield out
    out["build_s"] = time.perf_counter() - start
    out["rss_gb"] = (rss() - start_rss) / GB
    out["peak_gb"] = (peak_rss() - start_rss) / GB


def median_seconds(action: Callable[[], object]) -> float:
    return harness_median_seconds(action, REPEATS)


def time_each(search: Search, count: int, budget: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Time ``search(i)`` for i = 0, 1, ... until ``count`` calls or ``budget`` seconds.

    Returns the nanoseconds of each call and every (query, pk) found, as ``i * n + pk``.
    """
    for i in range(min(WARMUP, count)):
        search(i)
    times, found = [], []
    deadline = time.perf_counter() + budget
    for i in range(count):
        start = time.perf_counter_ns()
        pks = search(i)
        times.append(time.perf_counter_ns() - start)
        found.append(i * n + np.asarray(pks, np.int64))
        if time.perf_counter() > deadline:
            break
    return np.array(times, np.int64), np.unique(np.concatenate(found))


def latency(ns: np.ndarray, near: np.ndarray) -> dict[str, float]:
    near = near[: len(ns)]
    out: dict[str, float] = {"measured": len(ns)}
    for kind, chosen in (("near", near), ("random", ~near), ("all", np.ones_like(near))):
        ms = ns[chosen] / MS
        out[f"{kind}_p50_ms"] = float(np.percentile(ms, 50)) if len(ms) else float("nan")
        out[f"{kind}_p99_ms"] = float(np.percentile(ms, 99)) if len(ms) else float("nan")
    return out


def run_isolated(
    target: Callable[..., None], args: tuple[Any, ...], build_timeout: float
) -> Result:
    """Run ``target(*args, conn)`` in a fresh process; it sends "built", then its result."""
    receive, send = SPAWN.Pipe(duplex=False)
    process = SPAWN.Process(target=target, args=(*args, send))
    process.start()
    send.close()
    try:
        if not receive.poll(build_timeout):
            process.kill()
            process.join()
            return {"error": f"build did not finish within {build_timeout:.0f} s"}
        receive.recv()
        result: Result = receive.recv()
    except EOFError:
        process.join()
        return {"error": f"process died (exit code {process.exitcode}; -9: out of memory?)"}
    process.join()
    return result


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- ground truth -----------------------------------------------------------------------


def ground_truth(n: int, queries: int, seed: int, conn: Connection) -> None:
    """Every (query, pk) within THRESHOLD, by faiss brute force over the whole batch."""
    w = make_workload(n, queries, seed)
    index = faiss.IndexBinaryFlat(BITS)
    index.add(w.codes)
    conn.send("built")
    lims, _, ids = index.range_search(w.queries, FAISS_RADIUS)
    counts = np.diff(lims).astype(np.int64)
    conn.send(
        {
            "keys": np.unique(np.repeat(np.arange(len(w.queries)), counts) * n + ids),
            "near_matched": int((counts[w.near] > 0).sum()),
            "random_matched": int((counts[~w.near] > 0).sum()),
        }
    )
