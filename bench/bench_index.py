"""Benchmark hashguard's PDQ near-duplicate index against its peers, measured in the same run.

Usage::

    python bench/bench_index.py --sizes 1000000 10000000 [--queries 2000] [--json out.json]
        [--skip-pytx] [--budget 300] [--build-timeout 600] [--seed 7]

For each size ``n`` the data are ``n`` random 256-bit hashes (numpy ``default_rng(seed)``, so
every process regenerates the same set). The queries are ``--queries`` hashes of the set, each
with k distinct random bits flipped (k uniform in 0..31, so each has a match within 31), plus
as many purely random hashes (no match expected), shuffled together. Latency is reported for
near, random and all queries, as the median (p50) and 99th percentile of single calls, each
searching one query at threshold 31 (inclusive).

Systems, each measured in its own fresh process (spawned) so that RSS growth is its own:

* ours: ``hashguard.index.hamming.HammingIndex``. Build time, ``nbytes`` and RSS growth over
  the build; snapshot save, load (open + first query, arrays memory-mapped) and warm load
  (every array copied into memory + first query); single-query latency for the index built
  in memory and for the one loaded from the snapshot; "dihedral" latency, one call with the
  8 variants of one image (8 random near variants of a target); batch throughput (batches of
  64) in this process, and in 1 and 2 worker processes sharing the snapshot via mmap.
* faiss ``IndexBinaryFlat``: brute force, ``range_search(q, 32)``.
* faiss ``IndexBinaryMultiHash(256, 16, 16)`` with ``nflip=1``, raw (what pytx wraps).
* python-threatexchange ``PDQIndex`` (``--skip-pytx`` leaves it out): built from
  ``(hex, pk)`` pairs, queried with ``query(hex)``.

Recall: a separate process computes the ground truth with faiss ``IndexBinaryFlat``
``range_search`` at radius 32 (faiss keeps distances < radius, i.e. <= 31). Every system's
single-query results are compared with it: misses (true pairs not returned) and extras
(returned pairs not true) should both be 0.

Memory: "RSS +" is resident memory after the build minus before it (inputs prepared before);
"peak +" is the high-water mark during the build (reset just before it) minus the same start.
Times are wall clock; the first 20 queries are run once untimed to warm up. A latency loop
stops after ``--budget`` seconds (the queries are shuffled, so the measured ones are a fair
sample; the table says how many). A build that takes over ``--build-timeout`` seconds, or a
process that dies (e.g. out of memory), is reported as such and the run goes on. faiss keeps
its default OpenMP threads; a single-query range search runs on one of them.

The table goes to stdout, progress to stderr; ``--json`` also writes every figure to a file.
Run it alone on the machine (``flock /tmp/hashguard-bench.lock python bench/...``).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import platform
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import version
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import psutil

from hashguard.index import snapshot
from hashguard.index.hamming import HammingIndex, Tables
from hashguard.index.rows import Rows

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
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


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


# --- ours -------------------------------------------------------------------------------


def open_snapshot(directory: Path, probe: np.ndarray, *, copy: bool) -> HammingIndex:
    """Load the snapshot (memory-mapped, or every array copied in) and run one query."""
    found = snapshot.load(directory)
    assert found is not None
    index = found[1]["pdq"]
    assert isinstance(index, HammingIndex)
    if copy:
        index = in_memory(index)
    index.search(probe, THRESHOLD)
    return index


def in_memory(index: HammingIndex) -> HammingIndex:
    """The same index with every memory-mapped array read into RAM."""
    tables = index.tables
    if tables is not None:
        tables = Tables(tables.m, np.array(tables.offsets), np.array(tables.order))
    rows = Rows(
        np.array(index.rows.base_pks), np.array(index.rows.base_banks), index.rows.base_alive
    )
    return HammingIndex(np.array(index.base), rows, tables, design_threshold=index.design_threshold)


def search_batches(index: HammingIndex, queries: np.ndarray) -> None:
    for start in range(0, len(queries), BATCH):
        index.search(queries[start : start + BATCH], THRESHOLD)


def batch_worker(directory: Path, queries: np.ndarray, barrier: Barrier, conn: Connection) -> None:
    """Search ``queries`` in batches, REPEATS times in step with the other workers."""
    index = open_snapshot(directory, queries[:BATCH], copy=False)
    elapsed = []
    for _ in range(REPEATS):
        barrier.wait()
        start = time.perf_counter()
        search_batches(index, queries)
        elapsed.append(time.perf_counter() - start)
    conn.send((elapsed, psutil.Process().memory_full_info().uss))


def shared_throughput(directory: Path, queries: np.ndarray, processes: int) -> dict[str, float]:
    """Queries/s of ``processes`` workers sharing the snapshot, each doing its share."""
    barrier = SPAWN.Barrier(processes)
    pipes = [SPAWN.Pipe(duplex=False) for _ in range(processes)]
    workers = [
        SPAWN.Process(target=batch_worker, args=(directory, part, barrier, send))
        for part, (_, send) in zip(np.array_split(queries, processes), pipes, strict=True)
    ]
    for worker in workers:
        worker.start()
    reports = [receive.recv() for receive, _ in pipes]
    for worker in workers:
        worker.join()
    rounds = [max(times) for times in zip(*(elapsed for elapsed, _ in reports), strict=True)]
    return {
        "qps": len(queries) / statistics.median(rounds),
        "worker_private_gb": max(uss for _, uss in reports) / GB,
    }


def measure_ours(
    n: int, queries: int, seed: int, budget: float, workdir: Path, conn: Connection
) -> None:
    w = make_workload(n, queries, seed)
    pks = np.arange(n, dtype=np.int64)
    banks = (pks % 8).astype(np.int32)
    with metered() as build:
        index = HammingIndex.build(w.codes, pks, banks)
    conn.send("built")
    result: Result = {
        **build,
        "chunks": index.tables.m if index.tables is not None else None,
        "nbytes_gb": index.nbytes / GB,
    }

    directory = workdir / "snapshot"
    start = time.perf_counter()
    snapshot.save(directory, "bench", 0, {"pdq": index})
    result["save_s"] = time.perf_counter() - start
    result["disk_gb"] = sum(f.stat().st_size for f in directory.iterdir()) / GB
    result["load_s"] = median_seconds(lambda: open_snapshot(directory, w.warmup[:1], copy=False))
    result["warm_load_s"] = median_seconds(
        lambda: open_snapshot(directory, w.warmup[:1], copy=True)
    )
    loaded = open_snapshot(directory, w.warmup[:1], copy=False)

    count = len(w.queries)
    for name, idx in (("memory", index), ("mmap", loaded)):
        ns, keys = time_each(
            lambda i, idx=idx: idx.search(w.queries[i : i + 1], THRESHOLD)[1], count, budget, n
        )
        result[f"latency_{name}"] = latency(ns, w.near)
        result[f"keys_{name}"] = keys

    ns, _ = time_each(
        lambda i: index.search(w.variants[i], THRESHOLD)[1], len(w.variants), budget, n
    )
    result["dihedral"] = {
        "measured": len(ns),
        "p50_ms": float(np.percentile(ns, 50) / MS),
        "p99_ms": float(np.percentile(ns, 99) / MS),
    }

    result["batch_memory_qps"] = count / median_seconds(lambda: search_batches(index, w.queries))
    result["batch_mmap_1"] = shared_throughput(directory, w.queries, 1)
    result["batch_mmap_2"] = shared_throughput(directory, w.queries, 2)
    conn.send(result)


# --- peers ------------------------------------------------------------------------------


@dataclass
class Peer:
    build: dict[str, float]  # from metered()
    search: Search
    nbytes: int | None = None


def faiss_pks(index: Any, query: np.ndarray) -> np.ndarray:
    _, _, ids = index.range_search(query, FAISS_RADIUS)
    return np.asarray(ids)


def build_faiss_flat(w: Workload) -> Peer:
    with metered() as build:
        index = faiss.IndexBinaryFlat(BITS)
        index.add(w.codes)
    nbytes = index.ntotal * index.code_size
    return Peer(build, lambda i: faiss_pks(index, w.queries[i : i + 1]), nbytes)


def build_faiss_mih(w: Workload) -> Peer:
    with metered() as build:
        index = faiss.IndexBinaryMultiHash(BITS, 16, 16)
        index.nflip = 1  # exact at 31: some 16-bit chunk of a match differs in <= 1 bit
        index.add(w.codes)
    return Peer(build, lambda i: faiss_pks(index, w.queries[i : i + 1]))


def build_pytx(w: Workload) -> Peer:
    from threatexchange.signal_type.pdq.pdq_index import PDQIndex

    entries = [(h, pk) for pk, h in enumerate(hex_rows(w.codes))]
    with metered() as build:
        index = PDQIndex.build(entries)
    hexes = hex_rows(w.queries)
    return Peer(build, lambda i: np.array([m.metadata for m in index.query(hexes[i])], np.int64))


PEERS: dict[str, tuple[str, Callable[[Workload], Peer]]] = {
    "faiss_flat": ("faiss IndexBinaryFlat", build_faiss_flat),
    "faiss_mih": ("faiss MultiHash 16x16 nflip=1", build_faiss_mih),
    "pytx": ("pytx PDQIndex", build_pytx),
}


def measure_peer(
    name: str, n: int, queries: int, seed: int, budget: float, conn: Connection
) -> None:
    w = make_workload(n, queries, seed)
    peer = PEERS[name][1](w)
    conn.send("built")
    ns, keys = time_each(peer.search, len(w.queries), budget, n)
    nbytes = None if peer.nbytes is None else peer.nbytes / GB
    conn.send({**peer.build, "nbytes_gb": nbytes, "latency": latency(ns, w.near), "keys": keys})


# --- one size ---------------------------------------------------------------------------


def check_recall(result: Result, name: str, truth: np.ndarray, n: int) -> None:
    """Replace the found keys by misses and extras against the truth (measured queries)."""
    measured = result[f"latency{name}"]["measured"]
    expected = truth[truth // n < measured]
    found = result.pop(f"keys{name}")
    result[f"recall{name}"] = {
        "true_pairs": len(expected),
        "misses": len(np.setdiff1d(expected, found)),
        "extras": len(np.setdiff1d(found, expected)),
    }


def bench_size(n: int, args: argparse.Namespace) -> Result:
    common = (n, args.queries, args.seed)
    log(f"n={n:,}: ground truth")
    truth = run_isolated(ground_truth, common, args.build_timeout)
    if "error" in truth:
        raise SystemExit(f"ground truth failed: {truth['error']}")
    keys = truth.pop("keys")
    truth["pairs"] = len(keys)
    systems: dict[str, Result] = {}
    with tempfile.TemporaryDirectory(prefix="hashguard-bench-") as workdir:
        log(f"n={n:,}: ours")
        ours = run_isolated(measure_ours, (*common, args.budget, Path(workdir)), args.build_timeout)
        for kind in ("memory", "mmap"):
            if "error" not in ours:
                check_recall(ours, f"_{kind}", keys, n)
        systems["ours"] = ours
    for name in PEERS:
        if name == "pytx" and args.skip_pytx:
            continue
        log(f"n={n:,}: {name}")
        peer = run_isolated(measure_peer, (name, *common, args.budget), args.build_timeout)
        if "error" not in peer:
            check_recall(peer, "", keys, n)
        systems[name] = peer
    return {"n": n, "truth": truth, "systems": systems}


# --- report -----------------------------------------------------------------------------


def num(value: float | None, digits: int = 3) -> str:
    if value is None or value != value:
        return "-"
    return f"{value:,.{digits}f}" if abs(value) < 100 else f"{value:,.0f}"


def recall_text(recall: dict[str, int]) -> str:
    true = recall["true_pairs"]
    found = (true - recall["misses"]) / true if true else 1.0
    return f"{found:.4f} (misses {recall['misses']}, extras {recall['extras']}, of {true:,})"


def times_text(ours: float, theirs: float, faster: str, slower: str) -> str:
    return f"{theirs / ours:.1f}x {faster}" if theirs >= ours else f"{ours / theirs:.1f}x {slower}"


def report(size: Result, queries: int) -> list[str]:
    n, truth, systems = size["n"], size["truth"], size["systems"]
    ours = systems["ours"]
    lines = [
        f"=== n = {n:,} hashes; {queries:,} near + {queries:,} random queries; "
        f"threshold {THRESHOLD} ===",
        f"ground truth (faiss IndexBinaryFlat, radius {FAISS_RADIUS}): {truth['pairs']:,} "
        f"pairs; near queries with a match {truth['near_matched']:,}/{queries:,}, "
        f"random {truth['random_matched']:,}/{queries:,}",
        "",
    ]
    labels = {"ours": f"ours HammingIndex (m={ours.get('chunks')})"}
    labels.update({name: label for name, (label, _) in PEERS.items()})

    lines.append(
        f"{'build and memory':34}{'build s':>9}{'nbytes GB':>11}{'RSS+ GB':>9}{'peak+ GB':>10}"
    )
    for name, r in systems.items():
        if "error" in r:
            lines.append(f"{labels[name]:34}{r['error']}")
            continue
        lines.append(
            f"{labels[name]:34}{num(r['build_s'], 2):>9}{num(r['nbytes_gb']):>11}"
            f"{num(r['rss_gb']):>9}{num(r['peak_gb']):>10}"
        )

    lines += ["", "single-query latency, ms (one query per call)"]
    head = "".join(f"{c:>10}" for c in ("near p50", "near p99", "rand p50", "rand p99"))
    head += "".join(f"{c:>10}" for c in ("all p50", "all p99", "queries"))
    lines.append(f"{'':34}{head}  recall within {THRESHOLD}")
    rows = [("ours, built in memory", ours, "_memory"), ("ours, snapshot (mmap)", ours, "_mmap")]
    rows += [(labels[name], r, "") for name, r in systems.items() if name != "ours"]
    for label, r, suffix in rows:
        if "error" in r:
            lines.append(f"{label:34}{r['error']}")
            continue
        lat = r[f"latency{suffix}"]
        cells = [lat[f"{k}_{p}_ms"] for k in ("near", "random", "all") for p in ("p50", "p99")]
        lines.append(
            f"{label:34}{''.join(f'{num(c):>10}' for c in cells)}{lat['measured']:>10,}"
            f"  {recall_text(r[f'recall{suffix}'])}"
        )

    if "error" not in ours:
        one, two = ours["batch_mmap_1"], ours["batch_mmap_2"]
        dihedral = ours["dihedral"]
        lines += [
            "",
            "ours only",
            f"  snapshot: save {num(ours['save_s'])} s ({num(ours['disk_gb'])} GB on disk); "
            f"load (open + first query, mmap) {num(ours['load_s'] * 1e3)} ms; warm load (arrays "
            f"copied into memory + first query) {num(ours['warm_load_s'])} s",
            f"  dihedral: one call with {VARIANTS} near variants: p50 "
            f"{num(dihedral['p50_ms'])} ms, p99 {num(dihedral['p99_ms'])} ms "
            f"({num(dihedral['p50_ms'] / VARIANTS)} ms per hash at p50; "
            f"{dihedral['measured']:,} calls)",
            f"  batches of {BATCH}: in memory, 1 process {num(ours['batch_memory_qps'], 0)} q/s; "
            f"snapshot mmap, 1 process {num(one['qps'], 0)} q/s, 2 processes "
            f"{num(two['qps'], 0)} q/s ({two['qps'] / one['qps']:.2f}x; private memory per "
            f"worker {num(two['worker_private_gb'])} GB)",
        ]

    lines += ["", "ratios (p50 over all queries, in memory; memory = RSS growth over the build)"]
    for name, r in systems.items():
        if name == "ours" or "error" in r or "error" in ours:
            continue
        mine, theirs = ours["latency_memory"]["all_p50_ms"], r["latency"]["all_p50_ms"]
        speed = times_text(mine, theirs, "faster", "slower")
        memory = times_text(ours["rss_gb"], r["rss_gb"], "less memory", "more memory")
        lines.append(
            f"  ours is {speed} than {labels[name]} ({num(mine)} vs {num(theirs)} ms) and uses "
            f"{memory} ({num(ours['rss_gb'])} vs {num(r['rss_gb'])} GB)"
        )
    return [*lines, ""]


def machine() -> dict[str, Any]:
    cpu = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
    return {
        "cpu": cpu.group(1) if cpu else platform.processor(),
        "cores": psutil.cpu_count(),
        "ram_gb": psutil.virtual_memory().total / GB,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "faiss": faiss.__version__,
        "faiss_threads": faiss.omp_get_max_threads(),
        "threatexchange": version("threatexchange"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", required=True)
    parser.add_argument("--queries", type=int, default=2000, help="near queries (as many random)")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument("--skip-pytx", action="store_true", help="leave out pytx PDQIndex")
    parser.add_argument("--budget", type=float, default=300, help="seconds per latency loop")
    parser.add_argument("--build-timeout", type=float, default=600, help="seconds per build")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    started = time.perf_counter()
    env = machine()
    print(
        f"hashguard index benchmark: {env['cpu']}, {env['cores']} cores, "
        f"{env['ram_gb']:.0f} GB; numpy {env['numpy']}, faiss {env['faiss']} "
        f"({env['faiss_threads']} threads), threatexchange {env['threatexchange']}\n",
        flush=True,
    )
    sizes = []
    for n in args.sizes:
        size = bench_size(n, args)
        sizes.append(size)
        print("\n".join(report(size, args.queries)), flush=True)
    total = time.perf_counter() - started
    print(f"total run time {total / 60:.1f} min", flush=True)
    if args.json:
        config = {k: v for k, v in vars(args).items() if k != "json"}
        out = {"config": config, "machine": env, "total_s": total, "sizes": sizes}
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
