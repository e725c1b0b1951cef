"""Following the change log on PostgreSQL: a serving worker's CPU while idle, and how soon an
add answered by one worker matches on the other (freshness).

A fresh schema gets a bank of ``--rows`` random MD5 entries; ``hashguard serve --workers 2``
runs from this tree and, with ``--before-src``, a second server from another source tree
(say the commit before LISTEN/NOTIFY, from ``git archive``) on the same store, both at once.

1. idle: nothing is sent for ``--idle-seconds``; each worker's CPU time over that window
   (utime + stime, from /proc through psutil), as a share of one core. Both servers are
   measured over the same window.
2. freshness: ``--changes`` times, one worker adds a new MD5 (``POST .../entries``) and,
   from its 201, the other worker is asked on a kept-alive connection of its own until it
   answers with the match; the delay is reported (median, p90, max), the workers taking turns.

    flock /tmp/hashguard-bench.lock python bench/bench_follow.py \\
        --pg postgresql://postgres@127.0.0.1:5432/test [--before-src /tmp/before/src]
        [--rows 100000] [--idle-seconds 30] [--changes 40]
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import tempfile
import time
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import psutil
from _harness import pg_schema
from bench_adds import Server, log

from hashguard.lists.rows import ListRow
from hashguard.store.store import Store

BANK = "bench"


def fill(url: str, rows: int) -> dict[str, str]:
    store = Store(url)
    store.create_bank(BANK)
    listed = (ListRow(i + 1, "add", None, "md5", secrets.token_hex(16)) for i in range(rows))
    store.import_rows(BANK, listed, [], "bench")
    keys = {
        scope: store.keys.create(f"bench-{scope}", [scope], rate_limit=0, actor="bench")[1]
        for scope in ("match", "curate")
    }
    store.close()
    return keys


def workers(server: Server) -> list[psutil.Process]:
    children = psutil.Process(server.process.pid).children(recursive=True)
    return [p for p in children if "resource_tracker" not in " ".join(p.cmdline())]


def cpu(process: psutil.Process) -> float:
    t = process.cpu_times()
    return float(t.user + t.system)


def per_worker(server: Server, attempts: int = 200) -> dict[int, HTTPConnection]:
    """A kept-alive connection to each worker, by the worker's pid (the kernel picks the
    worker of a new connection: open them until each has one)."""
    pids = {p.pid for p in workers(server)}
    found: dict[int, HTTPConnection] = {}
    for _ in range(attempts):
        conn = HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.connect()
        local = conn.sock.getsockname()[1]
        owner = next(
            (
                pid
                for pid in pids
                for c in psutil.Process(pid).net_connections("tcp")
                if c.raddr and c.raddr.port == local
            ),
            None,
        )
        if owner is not None and owner not in found:
            found[owner] = conn
        else:
            conn.close()
        if len(found) == len(pids):
            return found
    raise SystemExit(f"could not reach every worker: {sorted(found)} of {sorted(pids)}")


def call(conn: HTTPConnection, method: str, path: str, token: str, body: Any) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    conn.request(method, path, json.dumps(body), headers)
    r = conn.getresponse()
    return r.status, json.loads(r.read())


def freshness(server: Server, keys: dict[str, str], changes: int) -> list[float]:
    conns = list(per_worker(server).values())
    delays = []
    for i in range(changes):
        writer, reader = conns[i % 2], conns[(i + 1) % 2]
        md5 = secrets.token_hex(16)
        entry = {"id": f"fresh-{md5}", "signals": [{"type": "md5", "value": md5}]}
        status, _ = call(writer, "POST", f"/v1/banks/{BANK}/entries", keys["curate"], entry)
        acked = time.perf_counter()
        assert status == 201, status
        query = {"signals": [{"type": "md5", "value": md5}]}
        while True:
            status, body = call(reader, "POST", "/v1/match", keys["match"], query)
            if status == 200 and body["matches"]:
                break
            if time.perf_counter() - acked > 30:
                raise SystemExit("an add did not match on the other worker within 30 s")
        delays.append(time.perf_counter() - acked)
        time.sleep(0.3)  # not in step with any poll interval
    return delays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", required=True)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--idle-seconds", type=float, default=30)
    parser.add_argument("--changes", type=int, default=40)
    parser.add_argument("--before-src", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    out: dict[str, Any] = {}
    with pg_schema(args.pg) as url, tempfile.TemporaryDirectory() as tmp:
        log(f"filling the bank with {args.rows:,} entries")
        keys = fill(url, args.rows)
        servers = {"hashguard": Server(url, Path(tmp), "hashguard")}
        if args.before_src:
            servers["before"] = Server(url, Path(tmp), "before", args.before_src)
        try:
            for server in servers.values():
                server.wait_ready()
            time.sleep(3)  # start-up work (snapshot saves, first rounds) done
            log(f"idle for {args.idle_seconds:g} s")
            start = {n: {p.pid: cpu(p) for p in workers(s)} for n, s in servers.items()}
            began = time.monotonic()
            time.sleep(args.idle_seconds)
            wall = time.monotonic() - began
            for name, server in servers.items():
                shares = [
                    (cpu(p) - start[name][p.pid]) / wall
                    for p in workers(server)
                    if p.pid in start[name]
                ]
                out[name] = {"idle_core_share": shares}
            for name, server in servers.items():
                log(f"{name}: freshness over {args.changes} adds")
                d = sorted(freshness(server, keys, args.changes))
                out[name]["fresh_s"] = {
                    "p50": statistics.median(d),
                    "p90": d[int(0.9 * (len(d) - 1))],
                    "max": d[-1],
                }
        finally:
            for server in servers.values():
                server.stop()
    print(f"\nPostgreSQL, {args.rows:,} entries, 2 workers each")
    print(f"{'server':<10} {'idle CPU per worker (% of a core)':<36} fresh p50 / p90 / max (ms)")
    for name, r in out.items():
        idle = " ".join(f"{100 * s:.2f}%" for s in r["idle_core_share"])
        f = r["fresh_s"]
        print(f"{name:<10} {idle:<36} {1000 * f['p50']:.0f} / {1000 * f['p90']:.0f} / "
              f"{1000 * f['max']:.0f}")  # fmt: skip
    if "before" in out:
        ours = statistics.mean(out["hashguard"]["idle_core_share"])
        theirs = statistics.mean(out["before"]["idle_core_share"])
        fresh = out["before"]["fresh_s"]["p50"] / out["hashguard"]["fresh_s"]["p50"]
        print(f"idle CPU {theirs / max(ours, 1e-9):.1f}x lower; freshness p50 {fresh:.1f}x sooner")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
