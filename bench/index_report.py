"""PDQ index benchmark: the printed table and the machine's description."""

from __future__ import annotations

import platform
import re
from importlib.metadata import version
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import psutil
from index_systems import PEERS
from index_workload import BATCH, FAISS_RADIUS, GB, THRESHOLD, VARIANTS, Result

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
