"""Text benchmarks: the indexes built and loaded in fresh processes, functions timed side
by side, recall and false positives tallied (used by bench_text)."""

from __future__ import annotations

import gc
import json
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from _harness import rss_mb
from text_messages import Message

from hashguard.engine import Engine
from hashguard.errors import RowError
from hashguard.lists import formats
from hashguard.signals.registry import default_registry
from hashguard.store.store import Store
from hashguard.text.urls import extract_urls

# --- processes: build and load -----------------------------------------------------------


def child(mode: str, db: str, index_dir: Path) -> dict[str, Any]:
    """Run in a fresh interpreter: build the indexes from the store, or load the snapshot."""
    store = Store(db, create=False)
    gc.collect()
    before, _ = rss_mb()
    started = time.perf_counter()
    engine = Engine(store, index_dir=None if mode == "build" else index_dir)
    seconds = time.perf_counter() - started
    after, peak = rss_mb()
    out = {
        "seconds": seconds,
        "rss_before_mb": before,
        "rss_after_mb": after,
        "peak_mb": peak,
        "loaded_from": engine.indexes.loaded_from,
        "stats": engine.indexes.stats(),
    }
    if mode == "build":
        started = time.perf_counter()
        engine.indexes.save(index_dir)
        out["save_seconds"] = time.perf_counter() - started
    started = time.perf_counter()
    engine.match_text("first message after start: see http://example.com/x")
    out["first_match_s"] = time.perf_counter() - started
    if mode == "load":  # read every page of the memory-mapped arrays, as lookups will
        for index in engine.indexes.indexes.values():
            rows = index.rows
            for array in (getattr(index, "keys", None), rows.base_pks, rows.base_banks):
                if array is not None and array.size:
                    int(np.frombuffer(array, np.uint8)[::4096].sum())
        out["rss_touched_mb"] = rss_mb()[0]
    store.close()
    return out


def run_child(mode: str, db: str, index_dir: Path) -> dict[str, Any]:
    command = [
        sys.executable,
        str(BENCH_TEXT),
        "--child",
        mode,
        "--db",
        db,
        "--index-dir",
        str(index_dir),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode:
        hint = ""
        if "statement timeout" in result.stderr:
            hint = (
                "\nThe query reading the store's active signals timed out: PostgreSQL has no "
                "statistics on the freshly imported entry tables and picks a nested-loop join "
                "(quadratic). Rerun with --pg-analyze."
            )
        raise SystemExit(f"{mode} failed:\n{result.stderr[-3000:]}{hint}")
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def timed_import(store: Store, bank: str, path: Path) -> float:
    errors: list[RowError] = []
    started = time.perf_counter()
    with open(path, "rb") as raw:
        rows = formats.get("csv").read(raw, default_registry(), errors)
        report = store.import_rows(bank, rows, errors, path.name)
    seconds = time.perf_counter() - started
    print(
        f"  imported {path.name}: {report.signals_added:,} signals in {seconds:.1f} s", flush=True
    )
    return seconds


# --- measuring ---------------------------------------------------------------------------


BENCH_TEXT = Path(__file__).with_name("bench_text.py")  # its children run it
Measured = dict[str, tuple[Callable[[str], object], list[str]]]


def measure(functions: Measured, repeats: int, chunk: int = 250) -> dict[str, dict[str, float]]:
    """Messages/s and latencies of each function over its messages, measured side by side.

    The speed of these shared machines drifts by tens of percent within seconds, so the
    functions are not timed one after the other: each pass takes slices of ``chunk``
    messages of every function in turn, spread evenly over the pass, so that a slow spell
    slows all of them alike. Rates are medians over ``repeats`` passes (CPU and wall time);
    p50/p99/max come from one more pass timing each message (``perf_counter_ns``).
    """
    for function, texts in functions.values():
        for text in texts[:500]:
            function(text)
    plan = sorted(
        (start / len(texts), name, start)
        for name, (_, texts) in functions.items()
        for start in range(0, len(texts), chunk)
    )
    cpu_rates: dict[str, list[float]] = {name: [] for name in functions}
    wall_rates: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(repeats):
        cpu = dict.fromkeys(functions, 0.0)
        wall = dict.fromkeys(functions, 0.0)
        for _, name, start in plan:
            function, texts = functions[name]
            part = texts[start : start + chunk]
            started_cpu, started_wall = time.process_time(), time.perf_counter()
            for text in part:
                function(text)
            cpu[name] += time.process_time() - started_cpu
            wall[name] += time.perf_counter() - started_wall
        for name, (_, texts) in functions.items():
            cpu_rates[name].append(len(texts) / cpu[name])
            wall_rates[name].append(len(texts) / wall[name])
    spent: dict[str, list[int]] = {name: [] for name in functions}
    clock = time.perf_counter_ns
    for _, name, start in plan:
        function, texts = functions[name]
        for text in texts[start : start + chunk]:
            started = clock()
            function(text)
            spent[name].append(clock() - started)
    out = {}
    for name, times in spent.items():
        times.sort()
        out[name] = {
            "msgs_per_cpu_s": statistics.median(cpu_rates[name]),
            "msgs_per_wall_s": statistics.median(wall_rates[name]),
            "p50_us": times[len(times) // 2] / 1e3,
            "p99_us": times[min(len(times) - 1, int(len(times) * 0.99))] / 1e3,
            "max_us": times[-1] / 1e3,
        }
    return out


@dataclass
class Tally:
    planted: Counter[str] = field(default_factory=Counter)
    found: Counter[str] = field(default_factory=Counter)
    exact: Counter[str] = field(default_factory=Counter)
    goal: dict[str, bool] = field(default_factory=dict)
    misses: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    clean: int = 0
    false_positives: list[dict[str, Any]] = field(default_factory=list)
    benign_kinds: Counter[str] = field(default_factory=Counter)
    benign_fp: Counter[str] = field(default_factory=Counter)
    extra: list[dict[str, Any]] = field(default_factory=list)


def evaluate(engine: Engine, messages: list[Message], tally: Tally) -> None:
    for message in messages:
        matches = engine.match_text(message.text).matches
        spans = [(m.entry, *(m.found or {}).get("span", (0, 0))) for m in matches]
        if not message.plants:
            tally.clean += 1
            for kind in message.benign:
                tally.benign_kinds[kind] += 1
            if matches:
                for kind in message.benign or ("(no near miss)",):
                    tally.benign_fp[kind] += 1
                tally.false_positives.append(
                    {
                        "text": message.text,
                        "near_misses": list(message.benign),
                        "matches": [m.as_dict() for m in matches],
                    }
                )
            continue
        for plant in message.plants:
            tally.planted[plant.kind] += 1
            tally.goal[plant.kind] = plant.goal
            hit = [
                s
                for s in spans
                if s[0] == plant.entry and s[1] <= plant.start and s[2] >= plant.end
            ]
            if hit:
                tally.found[plant.kind] += 1
                if any(s[1] == plant.start and s[2] == plant.end for s in hit):
                    tally.exact[plant.kind] += 1
            elif len(tally.misses[plant.kind]) < 5:
                found = extract_urls(message.text)
                tally.misses[plant.kind].append(
                    {
                        "planted": message.text[plant.start : plant.end],
                        "entry": plant.entry,
                        "text": message.text,
                        "matches": spans,
                        "urls": [(u.raw, u.canonical) for u in found],
                    }
                )
        wanted = {p.entry for p in message.plants}
        for m in matches:
            if m.entry not in wanted:
                tally.extra.append({"text": message.text, "match": m.as_dict()})
