"""The HTTP service under load: hash lookups, image uploads and freshness, on loopback.

A fresh store gets 1M random PDQ and 1M random MD5 entries through the real import path (a
generated CSV list, as in ``bench/bench_import.py``); a ``match`` key without a rate limit
and a ``curate`` key are made; ``hashguard serve --workers 2`` runs as a subprocess on a free
loopback port and is waited for (``/v1/ready`` on 10 fresh connections in a row). Load comes
from ``wrk`` in its own process (``bench/wrk/post.lua``: bodies picked at random, every answer
checked, figures printed as JSON), one wrk thread, each run ``--seconds`` long after a short
warm-up, repeated ``--repeats`` times (medians reported):

1. lookups: ``POST /v1/match`` with ``{"signals": [...]}``, one signal a request: 10% PDQ
   hashes within 0-8 bits of a listed hash (must match), 45% random PDQ, 45% random MD5
   (must not); closed loop at 16 and 64 connections, and paced at the goal rate (3,000
   requests/s over 64 connections). Checked with httpx first (hits and misses answered as
   expected); wrk counts non-200 answers and answers with a match.
2. uploads: the 1080p JPEGs of the photo corpus posted as raw bodies (``image/jpeg``) over 4
   connections; images/s and latency, against ``hashguard hash -j 2`` over the same photos
   (timed as a whole command, the corpus given ``--cli-passes`` times so start-up weighs
   little), measured once at the start of the run on the same cores, nothing else running.
3. freshness: while wrk drives lookups at 16 connections, ``--changes`` times: import a
   one-row list with a new random MD5 (``POST /v1/banks/bench/import``) and, from its 200,
   ask every worker in turn, each on a kept-alive connection it holds (connections are
   opened until each worker has accepted one), until each has answered with the match
   ``--consecutive`` times in a row; the delay is from the acknowledgement to the first of
   those answers from the worker that came last. Then the same for retracting it (``DELETE
   .../entries/ID``). Polling on fresh connections would not show every worker: a new
   connection goes to whichever worker accepts first, under load mostly the same one.

Server variants (``--variants``): "shipped" is ``hashguard serve`` as it is; "nodelay" is the
same command with uvicorn's pending fix for Kludex/uvicorn#3149 applied in the benchmark's
launcher: with ``--workers`` uvicorn binds the listening socket with protocol 0, so asyncio
never sets TCP_NODELAY on accepted connections and on a kept-alive connection every answer
after the first waits for the client's delayed ACK (~40 ms on Linux). Both run on the same
store in the same run.

CPU split: CPU seconds of the server's workers, its supervisor, wrk and this process (the
freshness poller) over each run, as cores (CPU s / wall s); "other" is the rest of the
machine's busy time. On a 2-core machine the load generator competes with the 2 workers.
Each run also records how wrk's connections fell on the workers: the kernel decides, and
with uvicorn's shared listening socket one worker often takes them all.

wrk's latency is that of a closed loop: it is measured from when a request was sent, and a
connection sends nothing while it waits, so at saturation latency is mostly queueing
(connections / throughput) and a stalled server delays requests that are never counted as
late. The paced run is the fairer latency figure; both are reported.

Prerequisites: ``pip install -e '.[test,bench]'``; ``wrk`` (Debian package: ``apt-get
install -y wrk``, run ``apt-get update`` once first); the photo corpus, built with ``python
bench/corpus.py`` (it needs apt-get too; this script builds it when it is missing).

    flock /tmp/hashguard-bench.lock python bench/bench_service.py --json /tmp/bench_service.json
        [--pg postgresql://postgres@127.0.0.1:5432/test] [--variants shipped nodelay]
        [--seconds 20] [--repeats 3] [--rows 1000000]

The list, the SQLite file, the index snapshots and the servers' logs go to a temporary
directory, deleted after (with ``--pg``, a schema made for the run and dropped after).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from _harness import pg_schema
from service_load import (
    Load,
)
from service_measures import (
    check_lookups,
    measure_cli,
    measure_freshness,
    measure_lookups,
    measure_uploads,
)
from service_report import (
    machine,
    report,
)
from service_setup import (
    BODIES,
    CORPUS,
    LAUNCHERS,
    Result,
    Server,
    fill_store,
    log,
    lookup_bodies,
    write_list,
)

# --- one server, one database -----------------------------------------------------------


@dataclass(frozen=True)
class Loads:
    lookups: Load
    uploads: Load
    bodies: list[str]
    hits: list[str]


def make_loads(workdir: Path, listed: np.ndarray, token: str, args: argparse.Namespace) -> Loads:
    bodies, hits = lookup_bodies(listed, BODIES, args.seed)
    (workdir / "bodies.jsonl").write_text("\n".join(bodies) + "\n")
    photos = sorted((args.corpus / "1080p").glob("*.jpg"))
    (workdir / "photos.txt").write_text("\n".join(map(str, photos)) + "\n")
    return Loads(
        lookups=Load(workdir / "bodies.jsonl", "lines", "application/json", token),
        uploads=Load(workdir / "photos.txt", "files", "image/jpeg", token),
        bodies=bodies,
        hits=hits,
    )


def bench_server(
    url: str,
    workdir: Path,
    variant: str,
    keys: dict[str, str],
    loads: Loads,
    args: argparse.Namespace,
) -> Result:
    server = Server(url, workdir, variant)
    try:
        ready_s = server.wait_ready()
        log(f"  {variant}: ready after {ready_s:.1f}s")
        check_lookups(server.url, keys["match"], loads.bodies, loads.hits)
        return {
            "ready_s": ready_s,
            "worker_rss_gb": [p.memory_info().rss / 1e9 for p in server.workers()],
            "lookups": measure_lookups(server, loads.lookups, args),
            "uploads": measure_uploads(server, loads.uploads, args),
            "freshness": measure_freshness(server, loads.lookups, keys, args),
        }
    finally:
        server.stop()


def bench_database(
    url: str, workdir: Path, csv: Path, listed: np.ndarray, args: argparse.Namespace
) -> Result:
    log(f"{workdir.name}: importing {2 * args.rows:,} rows")
    import_s, keys = fill_store(url, csv, args.rows)
    log(f"{workdir.name}: imported in {import_s:.0f}s")
    loads = make_loads(workdir, listed, keys["match"], args)
    servers = {v: bench_server(url, workdir, v, keys, loads, args) for v in args.variants}
    return {"rows_per_type": args.rows, "import_s": import_s, "servers": servers}


def ensure_prerequisites(corpus: Path) -> None:
    if subprocess.run(["which", "wrk"], capture_output=True, check=False).returncode != 0:
        raise SystemExit("wrk is missing: apt-get update && apt-get install -y wrk")
    if not (corpus / "1080p").is_dir():
        log(f"building the photo corpus in {corpus}")
        script = Path(__file__).parent / "corpus.py"
        subprocess.run([sys.executable, str(script), "--out", str(corpus)], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="entries of each type")
    parser.add_argument("--pg", help="also measure on PostgreSQL at this URL")
    parser.add_argument("--no-sqlite", action="store_true", help="only PostgreSQL")
    parser.add_argument("--variants", nargs="+", choices=list(LAUNCHERS), default=list(LAUNCHERS))
    parser.add_argument("--seconds", type=float, default=20, help="per wrk run")
    parser.add_argument("--repeats", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--changes", type=int, default=50, help="imports + retractions timed")
    parser.add_argument(
        "--consecutive", type=int, default=3, help="answers in a row from each worker"
    )
    parser.add_argument("--cli-passes", type=int, default=3, help="corpus passes for the CLI")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    args = parser.parse_args()
    ensure_prerequisites(args.corpus)
    env = machine()
    print(
        f"hashguard service benchmark: {env['cpu']}, {env['cores']} cores, {env['ram_gb']} GiB;"
        f" Python {env['python']}, uvicorn {env['uvicorn']}, {env['wrk']}\n",
        flush=True,
    )
    cli = measure_cli(args.corpus / "1080p", args)
    results: Result = {"cli": cli}
    with tempfile.TemporaryDirectory(prefix="hg-bench-service-") as tmp:
        workdir = Path(tmp)
        started = time.perf_counter()
        csv = workdir / "list.csv"
        listed = write_list(csv, args.rows, args.seed)
        log(f"wrote {2 * args.rows:,} rows in {time.perf_counter() - started:.0f}s")
        databases: list[tuple[str, str, Callable[[], Any]]] = []
        if not args.no_sqlite:
            databases.append(
                ("SQLite", "sqlite", lambda: nullcontext(f"sqlite:///{tmp}/sqlite/db"))
            )
        if args.pg:
            databases.append(("PostgreSQL", "postgresql", lambda: pg_schema(args.pg)))
        for title, name, database in databases:
            (workdir / name).mkdir()
            with database() as url:
                results[name] = bench_database(url, workdir / name, csv, listed, args)
            print("\n".join(report(title, results[name], cli["images_per_s"])), flush=True)
            if args.json:  # after each database, so a failure later loses nothing
                config = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
                out = {"config": config, "machine": env, **results}
                args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
