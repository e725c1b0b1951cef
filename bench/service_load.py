"""Service benchmark: load generation with wrk, and the CPU time each process spent."""

from __future__ import annotations

import json
import os
import re
import resource
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
from service_setup import LUA, Result, Server, log

# --- measuring CPU ----------------------------------------------------------------------


def cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for p in processes:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def busy_seconds() -> float:
    t = psutil.cpu_times()
    return sum(t) - t.idle - t.iowait


def children_seconds() -> float:
    """CPU seconds of this process's children that have been waited for (wrk, the CLI)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


@contextmanager
def cpu_split(server: Server) -> Iterator[dict[str, Any]]:
    """Cores used by each party over the block: fills the dict it yields when it ends.
    "load" counts children of this process reaped during the block (the wrk run); "other"
    is the rest of the machine's busy time (/proc/stat, rough when the machine idles)."""
    workers, supervisor, me = server.workers(), psutil.Process(server.process.pid), psutil.Process()

    def sample() -> dict[str, float]:
        return {
            **{f"worker{i}": cpu_seconds([w]) for i, w in enumerate(workers)},
            "supervisor": cpu_seconds([supervisor]),
            "load": children_seconds(),
            "this_process": cpu_seconds([me]),
            "busy": busy_seconds(),
            "wall": time.perf_counter(),
        }

    before = sample()
    split: dict[str, Any] = {}
    yield split
    after = sample()
    cores = {k: (after[k] - before[k]) / (after["wall"] - before["wall"]) for k in before}
    per_worker = [cores[f"worker{i}"] for i in range(len(workers))]
    mine = sum(per_worker) + cores["supervisor"] + cores["load"] + cores["this_process"]
    split.update(
        workers=round(sum(per_worker), 2),
        per_worker=[round(c, 2) for c in per_worker],
        load=round(cores["load"], 2),
        this_process=round(cores["this_process"], 2),
        other=round(max(0.0, cores["busy"] - mine), 2),
    )


# --- wrk --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    """What wrk sends: a file of bodies (MODE lines) or of file paths (MODE files)."""

    listing: Path
    mode: str
    content_type: str
    token: str


def wrk_command(url: str, load: Load, connections: int, seconds: float) -> list[str]:
    return ["wrk", "-t1", f"-c{connections}", f"-d{round(seconds)}s", "--timeout", "10s",
            "-s", str(LUA), f"{url}/v1/match", "--",
            str(load.listing), load.mode, load.content_type, load.token]  # fmt: skip


def start_wrk(
    url: str, load: Load, connections: int, seconds: float, rate: int | None = None
) -> subprocess.Popen[str]:
    env = {**os.environ, **({"WRK_RATE": str(rate)} if rate else {})}
    return subprocess.Popen(
        wrk_command(url, load, connections, seconds),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wrk_result(process: subprocess.Popen[str]) -> Result:
    output, _ = process.communicate()
    found = re.search(r"^WRK_JSON (.*)$", output, re.MULTILINE)
    if process.returncode != 0 or found is None:
        raise SystemExit(f"wrk failed ({process.returncode}):\n{output}")
    result: Result = json.loads(found.group(1))
    result["rps"] = round(result["requests"] / result["seconds"], 1)
    return result


def run_wrk(
    server: Server, load: Load, connections: int, seconds: float, rate: int | None = None
) -> Result:
    """One wrk run, with the CPU split and how wrk's connections fell on the workers (the
    kernel wakes every worker for a new connection and the first to accept takes all that
    are queued, so the split is uneven; kept-alive connections never move)."""
    with cpu_split(server) as split:
        process = start_wrk(server.url, load, connections, seconds, rate)
        time.sleep(min(1.0, seconds / 4))
        spread = sorted((len(ports) for ports in server.connections().values()), reverse=True)
        result = wrk_result(process)
    return {**result, "connections": connections, "paced_rps": rate, "cpu_cores": split,
            "connections_per_worker": spread}  # fmt: skip


def repeated(label: str, repeats: int, run: Callable[[], Result]) -> Result:
    """``run`` ``repeats`` times; the median of each figure, and every run."""
    runs = []
    for i in range(repeats):
        runs.append(run())
        r = runs[-1]
        log(
            f"  {label} #{i + 1}: {r['rps']:,.0f}/s p50 {r['p50_ms']:.2f} ms p99 "
            f"{r['p99_ms']:.2f} ms non-200 {r['non_200']} connections per worker "
            f"{r['connections_per_worker']} cpu {r['cpu_cores']}"
        )
    keys = ("rps", "p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms")
    median: Result = {k: statistics.median(r[k] for r in runs) for k in keys}
    median["cpu_cores"] = {
        k: round(statistics.median(r["cpu_cores"][k] for r in runs), 2)
        for k in ("workers", "load", "this_process", "other")
    }
    median["connections_per_worker"] = [r["connections_per_worker"] for r in runs]
    median["non_200"] = sum(r["non_200"] + r["socket_errors"] + r["timeouts"] for r in runs)
    median["match_share"] = sum(r["with_match"] for r in runs) / max(1, sum(r["ok"] for r in runs))
    return {**median, "runs": runs}
