"""Adding one entry per API call, on PostgreSQL: adds/s and latency, against peers in the
same run.

A fresh schema gets a bank of ``--rows`` random PDQ entries (the real import path) and a
``curate`` key; ``hashguard serve --workers 2`` runs on a free loopback port. ``wrk`` (one
thread, ``bench/wrk/adds.lua``) posts one new entry per request, a new random PDQ hash and id
each time, closed loop at each of ``--connections`` (1: one client's sequential latency);
every answer is checked (201). Each figure is the median of ``--repeats`` runs of
``--seconds``, the targets' runs interleaved so that noise from the shared machine falls on
all of them alike. Peers, in the same run:

- ``--hma-url``: a running Hasher-Matcher-Actioner (Meta's), given the same wrk load on its
  ``POST /c/bank/NAME/signal`` (``--hma-bank``, which must exist). This script does not
  install or start it: ``bench/hma/setup.sh`` does (see docs/benchmarks.md).
- ``--before-src``: a second hashguard server started from another source tree (say an
  older commit's ``src``, from ``git archive``) on a store of its own, filled alike (on one
  store, each server's followers would wake on the other's adds too).
- the floor: a plain psycopg ``INSERT`` of one row + ``COMMIT`` into a table of its own, in
  a loop on one connection and on ``max(--connections)`` connections at once (threads):
  what any durable single-row add costs on this PostgreSQL.

    flock /tmp/hashguard-bench.lock python bench/bench_adds.py \\
        --pg postgresql://postgres@127.0.0.1:5432/test [--hma-url http://127.0.0.1:5199] \\
        [--rows 1000000] [--seconds 10] [--repeats 3] [--connections 1 16]

Prerequisites: ``wrk`` (Debian package). The schema is dropped after.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
from _harness import pg_schema, ready_after

from hashguard.lists.rows import ListRow
from hashguard.store.store import Store

BANK = "bench"
WORKERS = 2
WARMUP_SECONDS = 2
LUA = Path(__file__).parent / "wrk" / "adds.lua"
HMA_ISSUE_RPS = 328  # issue 10: HMA's adds/s as measured on this machine then

Result = dict[str, Any]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def fill(url: str, rows: int) -> str:
    """The bank with ``rows`` random PDQ entries; returns a curate key."""
    store = Store(url)
    store.create_bank(BANK)
    listed = (ListRow(i + 1, "add", f"seed-{i}", "pdq", secrets.token_hex(32)) for i in range(rows))
    store.import_rows(BANK, listed, [], "bench")
    key = store.keys.create("bench-curate", ["curate"], rate_limit=0, actor="bench")[1]
    store.close()
    return key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, url: str, workdir: Path, name: str, src: Path | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "HASHGUARD_INDEX_DIR": str(workdir / f"index-{name}")}
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        if src is not None:
            env["PYTHONPATH"] = str(src)
        self.log = open(workdir / f"server-{name}.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hashguard.cli", "--db", url, "serve",
             "--port", str(self.port), "--workers", str(WORKERS)],
            env=env, stdout=subprocess.DEVNULL, stderr=self.log,
        )  # fmt: skip

    def wait_ready(self, timeout: float = 600) -> None:
        if ready_after(self.url, self.process, timeout) is None:
            raise SystemExit(f"server exited, see {self.log.name}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def wrk(url: str, api: str, token: str, connections: int, seconds: float) -> Result:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s",
               "--timeout", "10s", "-s", str(LUA), url, "--", api, token]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    found = re.search(r"^WRK_JSON (.*)$", done.stdout, re.MULTILINE)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    result: Result = json.loads(found.group(1))
    if result["bad"] or result["socket_errors"]:
        raise SystemExit(f"{url}: bad answers or socket errors: {result}\n{done.stderr}")
    result["rps"] = round(result["ok"] / result["seconds"], 1)
    return result


def floor(url: str, connections: int, seconds: float) -> Result:
    """INSERT one row + COMMIT in a loop on each of ``connections`` connections."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_floor (id BIGSERIAL PRIMARY KEY, v TEXT)")
    counts = [0] * connections
    latencies: list[float] = []
    stop = time.monotonic() + seconds

    def loop(i: int) -> None:
        with psycopg.connect(url) as conn:
            while time.monotonic() < stop:
                t = time.perf_counter()
                conn.execute("INSERT INTO bench_floor (v) VALUES (%s)", (secrets.token_hex(32),))
                conn.commit()
                latencies.append(time.perf_counter() - t)
                counts[i] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=loop, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    return {
        "rps": round(sum(counts) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 3),
        "requests": sum(counts),
    }


def median_of(runs: list[Result]) -> Result:
    return {
        "rps": statistics.median(r["rps"] for r in runs),
        "p50_ms": statistics.median(r["p50_ms"] for r in runs),
        "p99_ms": statistics.median(r.get("p99_ms", 0) for r in runs),
        "runs_rps": [r["rps"] for r in runs],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", required=True, help="PostgreSQL URL (a schema is made in it)")
    parser.add_argument("--rows", type=int, default=1_000_000, help="entries in the bank")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--hma-url", help="a running HMA, e.g. http://127.0.0.1:5199")
    parser.add_argument("--hma-bank", default="BENCH")
    parser.add_argument("--before-src", type=Path, help="another hashguard src tree to compare")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    out: Result = {"rows": args.rows, "seconds": args.seconds, "repeats": args.repeats}
    # Each server follows a store of its own: on one store, every add would wake the other
    # server's followers too, and each would be measured with the other's costs.
    names = ["hashguard", *(["before"] if args.before_src else [])]
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        urls = {name: stack.enter_context(pg_schema(args.pg)) for name in names}
        servers: dict[str, Server] = {}
        targets: dict[str, tuple[str, str, str]] = {}
        stack.callback(lambda: [server.stop() for server in servers.values()])
        for name, url in urls.items():
            log(f"{name}: filling the bank with {args.rows:,} entries")
            key = fill(url, args.rows)
            src = args.before_src if name == "before" else None
            servers[name] = Server(url, Path(tmp), name, src)
            targets[name] = (f"{servers[name].url}/v1/banks/{BANK}/entries", "hashguard", key)
        for server in servers.values():
            server.wait_ready()
        if args.hma_url:
            targets["hma"] = (f"{args.hma_url}/c/bank/{args.hma_bank}/signal", "hma", "")
        for target, api, token in targets.values():
            wrk(target, api, token, max(args.connections), WARMUP_SECONDS)
        runs: dict[str, dict[int, list[Result]]] = {t: {} for t in [*targets, "floor"]}
        for c in args.connections:
            for i in range(args.repeats):
                for name, (target, api, token) in targets.items():
                    r = wrk(target, api, token, c, args.seconds)
                    runs[name].setdefault(c, []).append(r)
                    log(f"{name} c={c} run {i + 1}: {r['rps']:.0f} adds/s p50 {r['p50_ms']} ms")
                r = floor(urls["hashguard"], c, args.seconds)
                runs["floor"].setdefault(c, []).append(r)
                log(f"floor c={c} run {i + 1}: {r['rps']:.0f}/s p50 {r['p50_ms']} ms")
    out["results"] = {
        name: {c: median_of(rs) for c, rs in by_c.items()} for name, by_c in runs.items()
    }
    res = out["results"]
    print(f"\nOne entry per call, PostgreSQL, {args.rows:,}-entry bank, {WORKERS} workers, "
          f"median of {args.repeats} x {args.seconds:g} s")  # fmt: skip
    print(f"{'target':<10} {'clients':>7} {'adds/s':>9} {'p50 ms':>8} {'p99 ms':>8}  runs")
    for name, by_c in res.items():
        for c, m in by_c.items():
            print(f"{name:<10} {c:>7} {m['rps']:>9.0f} {m['p50_ms']:>8.2f} {m['p99_ms']:>8.2f}"
                  f"  {m['runs_rps']}")  # fmt: skip
    for c in args.connections:
        ours = res["hashguard"][c]["rps"]
        ratios = [f"{ours / by_c[c]['rps']:.2f}x {name}" for name, by_c in res.items()
                  if name != "hashguard"]  # fmt: skip
        ratios.append(f"{ours / HMA_ISSUE_RPS:.2f}x HMA as quoted in issue 10 ({HMA_ISSUE_RPS}/s)")
        print(f"hashguard at {c} clients: " + ", ".join(ratios))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
