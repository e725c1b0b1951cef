"""PDQ index benchmark: the systems measured, ours (snapshot, in memory, shared by processes)
and the peers (faiss brute force and MultiHash, python-threatexchange's PDQ index)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import psutil
from index_workload import (
    BATCH,
    BITS,
    FAISS_RADIUS,
    GB,
    MS,
    REPEATS,
    SPAWN,
    THRESHOLD,
    Result,
    Search,
    Workload,
    hex_rows,
    latency,
    make_workload,
    median_seconds,
    metered,
    time_each,
)

from hashguard.index import snapshot
from hashguard.index.hamming import HammingIndex, Tables
from hashguard.index.rows import Rows

# --- ours -------------------------------------------------------------------------------


def open_snapshot(directory: Path, probe: np.ndarray, *, copy: bool) -> HammingIndex:
    """Load the snapshot (memory-mapped, or every array copied in) and run one query."""
    found = snapshot.load(directory)
    assert found is not None
    index = found[1]["pdq"]
    assert isinstance(index, HammingIndex)
    if copy:
        index = in_memory(index)
    index.within(probe, THRESHOLD)
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
        index.within(queries[start : start + BATCH], THRESHOLD)


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
            lambda i, idx=idx: idx.within(w.queries[i : i + 1], THRESHOLD)[1], count, budget, n
        )
        result[f"latency_{name}"] = latency(ns, w.near)
        result[f"keys_{name}"] = keys

    ns, _ = time_each(
        lambda i: index.within(w.variants[i], THRESHOLD)[1], len(w.variants), budget, n
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
