"""Lookups with the seen log on against a version without it, same run: does writing every
check off the request path keep ≥ 0.85 of the lookup throughput (issue 12)?

Two ``hashguard serve --workers 2`` servers, one from this tree (seen log on) and one from
``--before-src`` (a tree without it, e.g. ``git archive 99d7acc src``), each on its own copy
of one SQLite store holding a bank of ``--rows`` random PDQ hashes (the copy for the older
tree taken down to its schema, ``_harness.store_for``). ``wrk`` (``bench/wrk/post.lua``, one
thread, ``--connections``) posts ``/v1/match`` bodies with one signal each: ``--hits`` listed PDQ
hashes (10% by default: blocks, match-log writes on both sides), the rest random MD5 and
PDQ, half each.
Runs of ``--seconds`` alternate between the two, ``--repeats`` each; medians.

    flock /tmp/hashguard-bench.lock python bench/bench_seen.py --before-src /tmp/ab2/src \\
        [--rows 100000] [--seconds 8] [--repeats 3] [--connections 16]
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import shutil
import statistics
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from _harness import machine, store_for
from bench_adds import Server, log
from service_load import Load, start_wrk, wrk_result

from hashguard.lists.rows import ListRow
from hashguard.store.store import Store


def fill(url: str, rows: int) -> tuple[str, list[str]]:
    store = Store(url)
    store.create_bank("bench")
    listed = [secrets.token_hex(32) for _ in range(rows)]
    store.import_rows(
        "bench", (ListRow(i + 1, "add", f"e{i}", "pdq", h) for i, h in enumerate(listed)), [], "b"
    )
    key = store.keys.create("bench-match", ["match"], rate_limit=0, actor="bench")[1]
    store.close()
    return key, listed[:1000]


def bodies(path: Path, listed: list[str], hits: float, n: int = 5000) -> None:
    rng = random.Random(7)
    with path.open("w") as f:
        for _ in range(n):
            r = rng.random()
            if r < hits:
                signal = {"type": "pdq", "value": rng.choice(listed)}
            elif r < (1 + hits) / 2:
                signal = {"type": "md5", "value": f"{rng.getrandbits(128):032x}"}
            else:
                signal = {"type": "pdq", "value": f"{rng.getrandbits(256):064x}"}
            body = {"signals": [signal], "chat_id": f"g{rng.randrange(1000)}"}
            f.write(json.dumps(body) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before-src", type=Path, required=True)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--hits", type=float, default=0.1, help="share of listed hashes")
    args = parser.parse_args()
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        base = work / "base.db"
        key, listed = fill(f"sqlite:///{base}", args.rows)
        listing = work / "bodies.jsonl"
        bodies(listing, listed, args.hits)
        load = Load(listing, "lines", "application/json", key)
        shutil.copyfile(base, work / "on.db")
        urls = {
            "seen log": f"sqlite:///{work / 'on.db'}",
            "before": store_for(args.before_src, base),
        }  # its schema, the same rows
        servers = {}
        for name, src in (("seen log", None), ("before", args.before_src)):
            server = Server(urls[name], work, name.replace(" ", "_"), src)
            stack.callback(server.stop)
            try:
                server.wait_ready()
            except SystemExit:
                print(Path(server.log.name).read_text()[-3000:], file=sys.stderr)
                raise
            servers[name] = server
        runs: dict[str, list[float]] = {name: [] for name in servers}
        for i in range(args.repeats):
            for name, server in servers.items():
                result = wrk_result(start_wrk(server.url, load, args.connections, args.seconds))
                if result.get("bad"):
                    raise SystemExit(f"{name}: bad answers {result}")
                runs[name].append(result["rps"])
                log(f"{name} run {i + 1}: {result['rps']:.0f} req/s")
    on, off = statistics.median(runs["seen log"]), statistics.median(runs["before"])
    db = "SQLite"
    print(f"/v1/match, {db}, {args.rows:,} PDQ entries, {args.connections} connections, 2 workers,"
          f" median of {args.repeats} x {args.seconds:.0f} s; {machine()['cpu']}")  # fmt: skip
    print(f"seen log on  {on:7.0f} req/s  runs {runs['seen log']}")
    print(f"before       {off:7.0f} req/s  runs {runs['before']}")
    print(f"ratio {on / off:.2f} (goal >= 0.85)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
