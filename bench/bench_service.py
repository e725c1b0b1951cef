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
import os
import platform
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from http.client import HTTPConnection
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psutil
import psycopg

from hashguard.errors import RowError
from hashguard.lists import formats
from hashguard.signals.registry import default_registry
from hashguard.store.store import Store

BANK = "bench"
WORKERS = 2
NEAR_BITS = 8  # near queries differ from a listed PDQ hash in 0..NEAR_BITS bits
HIT_SHARE = 0.10
BODIES = 20_000
LOOKUP_CONNECTIONS = (16, 64)
PACED_CONNECTIONS = 64
UPLOAD_CONNECTIONS = 4
WARMUP_SECONDS = 5
LUA = Path(__file__).parent / "wrk" / "post.lua"
CORPUS = Path.home() / ".cache" / "hashguard-bench" / "corpus"

GOAL_RPS = 3000
GOAL_P99_MS = 20.0
GOAL_UPLOAD_RATIO = 0.8
GOAL_FRESH_S = 1.0
# Meta's Hasher-Matcher-Actioner, as published (not measured here): a target of 1,000
# requests/s and changes live within 10 minutes; a production report of ~450-500
# requests/s across 10 pods.
HMA_TARGET_RPS = 1000
HMA_PRODUCTION_RPS = (450, 500)
HMA_PODS = 10
HMA_FRESH_S = 600

Result = dict[str, Any]

# How each server variant is started (the arguments of ``hashguard`` follow). "nodelay" gives
# the listening socket its protocol, IPPROTO_TCP, which workers inherit, so asyncio sets
# TCP_NODELAY on every connection: uvicorn's fix for Kludex/uvicorn#3149, not yet released.
NODELAY_SERVE = """
import socket, sys
import uvicorn.config
bind = uvicorn.config.Config.bind_socket
def bind_tcp(self):
    sock = bind(self)
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        sock = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
        sock.set_inheritable(True)
    return sock
uvicorn.config.Config.bind_socket = bind_tcp
from hashguard.cli import main
sys.exit(main(sys.argv[1:]))
"""
LAUNCHERS = {
    "shipped": [sys.executable, "-m", "hashguard.cli"],
    "nodelay": [sys.executable, "-c", NODELAY_SERVE],
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- data -------------------------------------------------------------------------------


def write_list(path: Path, rows: int, seed: int) -> np.ndarray:
    """A CSV list of ``rows`` PDQ and ``rows`` MD5 entries, alternating; returns the PDQ
    hashes ((rows, 32) uint8) so queries can be made near them."""
    rng = np.random.default_rng(seed)
    pdq = rng.integers(0, 256, (rows, 32), dtype=np.uint8)
    md5 = rng.integers(0, 256, (rows, 16), dtype=np.uint8)
    with open(path, "w") as f:
        f.write("signal_type,signal,id,category\n")
        for i in range(rows):
            f.write(f"pdq,{pdq[i].tobytes().hex()},p{i},A\nmd5,{md5[i].tobytes().hex()},m{i},B\n")
    return pdq


def near(rng: np.random.Generator, code: np.ndarray) -> np.ndarray:
    """``code`` with 0..NEAR_BITS distinct random bits flipped."""
    flips = rng.choice(256, rng.integers(0, NEAR_BITS + 1), replace=False)
    bits = np.zeros(256, np.uint8)
    bits[flips] = 1
    return code ^ np.packbits(bits)


def match_body(signal_type: str, value: str) -> str:
    return json.dumps({"signals": [{"type": signal_type, "value": value}]})


def lookup_bodies(listed: np.ndarray, count: int, seed: int) -> tuple[list[str], list[str]]:
    """``count`` request bodies (HIT_SHARE near-PDQ hits, the rest random PDQ or MD5), and
    the hits among them."""
    rng = np.random.default_rng(seed + 1)
    hits = [
        match_body("pdq", near(rng, listed[i]).tobytes().hex())
        for i in rng.choice(len(listed), int(count * HIT_SHARE), replace=False)
    ]
    misses = [
        match_body(kind, rng.integers(0, 256, size, dtype=np.uint8).tobytes().hex())
        for kind, size in (("pdq", 32), ("md5", 16)) * ((count - len(hits)) // 2)
    ]
    bodies = hits + misses
    rng.shuffle(bodies)
    return bodies, hits


# --- store and server -------------------------------------------------------------------


def fill_store(url: str, path: Path, rows: int) -> tuple[float, dict[str, str]]:
    """Import the list into a fresh bank; returns the seconds taken and API keys by scope."""
    store = Store(url)
    store.create_bank(BANK)
    errors: list[RowError] = []
    started = time.perf_counter()
    with open(path, "rb") as raw:
        report = store.import_rows(
            BANK, formats.get("csv").read(raw, default_registry(), errors), errors, "bench"
        )
    seconds = time.perf_counter() - started
    assert report.signals_added == 2 * rows, report
    keys = {
        scope: store.keys.create(f"bench-{scope}", [scope], rate_limit=0, actor="bench")[1]
        for scope in ("match", "curate")
    }
    store.close()
    return seconds, keys


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``hashguard serve --workers N`` as a subprocess on a free loopback port."""

    def __init__(self, db: str, workdir: Path, variant: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "HASHGUARD_INDEX_DIR": str(workdir / "index")}
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.log = open(workdir / f"server-{variant}.log", "wb")  # noqa: SIM115 - see stop()
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [*LAUNCHERS[variant], "--db", db, "serve",
             "--port", str(self.port), "--workers", str(WORKERS)],
            env=env, stdout=subprocess.DEVNULL, stderr=self.log,
        )  # fmt: skip

    def wait_ready(self, timeout: float = 600, in_a_row: int = 10) -> float:
        """Seconds from start until ``in_a_row`` fresh connections in a row answer
        /v1/ready with 200 (so every worker has loaded)."""
        streak = 0
        while time.perf_counter() - self.started < timeout:
            if self.process.poll() is not None:
                raise SystemExit(f"server exited:\n{self.log_tail()}")
            try:
                ok = httpx.get(f"{self.url}/v1/ready", timeout=2).status_code == 200
            except httpx.TransportError:
                ok = False
            streak = streak + 1 if ok else 0
            if streak == in_a_row:
                return time.perf_counter() - self.started
            time.sleep(0.02 if ok else 0.2)
        raise SystemExit(f"server not ready after {timeout}s:\n{self.log_tail()}")

    def log_tail(self) -> str:
        self.log.flush()
        return "\n".join(Path(self.log.name).read_text().splitlines()[-20:])

    def workers(self) -> list[psutil.Process]:
        """The worker processes (the supervisor's children but multiprocessing's tracker)."""
        children = psutil.Process(self.process.pid).children(recursive=True)
        return [p for p in children if "resource_tracker" not in " ".join(p.cmdline())]

    def connections(self) -> dict[int, list[int]]:
        """Client ports of the established connections each worker holds, by worker pid."""
        return {
            w.pid: [
                c.raddr.port
                for c in w.net_connections("tcp")
                if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == self.port
            ]
            for w in self.workers()
        }

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


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


# --- 1. lookups -------------------------------------------------------------------------


def post_match(client: httpx.Client, url: str, token: str, body: str) -> list[Any]:
    r = client.post(
        f"{url}/v1/match",
        content=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert r.status_code == 200, r.text
    return list(r.json()["matches"])


def check_lookups(url: str, token: str, bodies: list[str], hits: list[str]) -> None:
    """Every sampled hit matches and every sampled miss does not, before load is applied."""
    hit_set = set(hits)
    with httpx.Client(timeout=10) as client:
        for body in hits[:50] + [b for b in bodies if b not in hit_set][:200]:
            matched = bool(post_match(client, url, token, body))
            assert matched == (body in hit_set), f"unexpected answer for {body}"


def measure_lookups(server: Server, load: Load, args: argparse.Namespace) -> Result:
    run_wrk(server, load, LOOKUP_CONNECTIONS[0], WARMUP_SECONDS)
    out: Result = {}
    for c in LOOKUP_CONNECTIONS:
        out[f"closed_{c}"] = repeated(
            f"lookups, {c} connections",
            args.repeats,
            lambda c=c: run_wrk(server, load, c, args.seconds),
        )
    out["paced"] = repeated(
        f"lookups paced at {GOAL_RPS}/s",
        args.repeats,
        lambda: run_wrk(server, load, PACED_CONNECTIONS, args.seconds, GOAL_RPS),
    )
    return out


# --- 2. uploads -------------------------------------------------------------------------


def cli_hashing(photos: Path, passes: int) -> Result:
    """``hashguard hash -j 2`` over the photos (given ``passes`` times), as a whole command."""
    count = len(list(photos.glob("*.jpg"))) * passes
    command = [sys.executable, "-m", "hashguard.cli", "hash", "-j", str(WORKERS)]
    started, cpu = time.perf_counter(), children_seconds()
    subprocess.run([*command, *[str(photos)] * passes], stdout=subprocess.DEVNULL, check=True)
    seconds = time.perf_counter() - started
    return {
        "images": count,
        "seconds": round(seconds, 2),
        "images_per_s": count / seconds,
        "cores": round((children_seconds() - cpu) / seconds, 2),
    }


def measure_cli(photos: Path, args: argparse.Namespace) -> Result:
    runs = [cli_hashing(photos, args.cli_passes) for _ in range(args.repeats)]
    log(f"cli: {[round(r['images_per_s'], 1) for r in runs]} images/s")
    return {"images_per_s": statistics.median(r["images_per_s"] for r in runs), "runs": runs}


def measure_uploads(server: Server, load: Load, args: argparse.Namespace) -> Result:
    first = Path(load.listing.read_text().split("\n")[0])
    headers = {"Authorization": f"Bearer {load.token}", "Content-Type": load.content_type}
    r = httpx.post(f"{server.url}/v1/match", content=first.read_bytes(), headers=headers)
    assert r.status_code == 200 and "pdq" in r.json()["signals"], r.text
    run_wrk(server, load, UPLOAD_CONNECTIONS, WARMUP_SECONDS)
    return repeated(
        f"uploads, {UPLOAD_CONNECTIONS} connections",
        args.repeats,
        lambda: run_wrk(server, load, UPLOAD_CONNECTIONS, args.seconds),
    )


# --- 3. freshness -----------------------------------------------------------------------


def worker_connections(server: Server, attempts: int = 500) -> dict[int, HTTPConnection]:
    """A kept-alive connection to each worker: connections are opened until every worker
    holds one (the kernel, not the client, decides which worker accepts a connection)."""
    found: dict[int, HTTPConnection] = {}
    for _ in range(attempts):
        conn = HTTPConnection("127.0.0.1", server.port, timeout=30)
        conn.request("GET", "/v1/health")
        conn.getresponse().read()
        port = conn.sock.getsockname()[1]
        owner = next((pid for pid, ports in server.connections().items() if port in ports), None)
        if owner is None or owner in found:
            conn.close()
        else:
            found[owner] = conn
        if len(found) == WORKERS:
            return found
    raise SystemExit(f"only {len(found)} of {WORKERS} workers took a connection")


def matched(conn: HTTPConnection, token: str, md5: str) -> bool:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    conn.request("POST", "/v1/match", body=match_body("md5", md5).encode(), headers=headers)
    response = conn.getresponse()
    body = response.read()
    assert response.status == 200, body
    return bool(json.loads(body)["matches"])


def until_everywhere(
    conns: dict[int, HTTPConnection], token: str, md5: str, expect: bool, in_a_row: int
) -> tuple[float, int]:
    """From now: seconds until every worker answers ``expect`` (asked in turn, each on its
    own connection; the time of the first answer of each worker's last run of ``in_a_row``
    such answers, the latest over the workers), and how many requests that took."""
    acked = time.perf_counter()
    since: dict[int, float | None] = dict.fromkeys(conns)
    streak = dict.fromkeys(conns, 0)
    polls = 0
    while min(streak.values()) < in_a_row:
        for pid, conn in conns.items():
            ok = matched(conn, token, md5) == expect
            polls += 1
            since[pid] = (since[pid] or time.perf_counter()) if ok else None
            streak[pid] = streak[pid] + 1 if ok else 0
        if time.perf_counter() - acked > 30:
            raise SystemExit(f"md5 {md5} still not {'un' * (not expect)}matched after 30 s")
    return max(t for t in since.values() if t is not None) - acked, polls


def one_change(
    client: httpx.Client,
    conns: dict[int, HTTPConnection],
    keys: dict[str, str],
    args: argparse.Namespace,
) -> Result:
    """Import one new MD5, wait until every worker matches it; retract it, wait until none."""
    for conn in conns.values():  # untimed: keeps each connection alive and checks it
        conn.request("GET", "/v1/health")
        conn.getresponse().read()
    md5, entry = os.urandom(16).hex(), f"fresh-{uuid.uuid4().hex[:12]}"
    curate = {"Authorization": f"Bearer {keys['curate']}"}
    started = time.perf_counter()
    r = client.post(
        f"/v1/banks/{BANK}/import?format=csv",
        content=f"signal_type,signal,id\nmd5,{md5},{entry}\n".encode(),
        headers={**curate, "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    import_ack = time.perf_counter() - started
    added, added_polls = until_everywhere(conns, keys["match"], md5, True, args.consecutive)
    started = time.perf_counter()
    r = client.delete(f"/v1/banks/{BANK}/entries/{entry}", headers=curate)
    assert r.status_code == 200 and r.json()["status"] == "retracted", r.text
    retract_ack = time.perf_counter() - started
    gone, gone_polls = until_everywhere(conns, keys["match"], md5, False, args.consecutive)
    return {
        "import_ack_s": import_ack,
        "added_s": added,
        "added_polls": added_polls,
        "retract_ack_s": retract_ack,
        "retracted_s": gone,
        "retracted_polls": gone_polls,
    }


def spread(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(np.ceil(0.99 * len(ordered))) - 1)]  # nearest rank
    return {"p50": statistics.median(ordered), "p99": p99, "max": ordered[-1]}


def measure_freshness(
    server: Server, load: Load, keys: dict[str, str], args: argparse.Namespace
) -> Result:
    """Changes made and polled for while wrk drives lookups (stopped with SIGINT after)."""
    # Found before the load starts: under load the idle worker accepts every new connection.
    conns = worker_connections(server)
    with cpu_split(server) as split, httpx.Client(base_url=server.url, timeout=30) as client:
        wrk = start_wrk(server.url, load, LOOKUP_CONNECTIONS[0], 3600)
        time.sleep(1)  # let the load settle (uvicorn closes idle connections after 5 s)
        changes = [one_change(client, conns, keys, args) for _ in range(args.changes)]
        wrk.send_signal(signal.SIGINT)
        background = wrk_result(wrk)
    for conn in conns.values():
        conn.close()
    log(f"  freshness: background load {background['rps']:,.0f}/s, cpu {split}")
    out: Result = {
        name: spread([c[name] for c in changes])
        for name in ("import_ack_s", "added_s", "retract_ack_s", "retracted_s")
    }
    return {**out, "load": background, "cpu_cores": split, "changes": changes}


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


@contextmanager
def pg_schema(url: str) -> Iterator[str]:
    """A PostgreSQL URL whose search path is a schema made for this run (dropped after)."""
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
        try:
            yield f"{url}?options=-csearch_path%3D{schema}"
        finally:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


# --- report -----------------------------------------------------------------------------


def splits_text(r: Result) -> str:
    """How the connections fell on the workers, run by run: "15/1 16/0 8/8"."""
    return " ".join("/".join(map(str, split)) for split in r["connections_per_worker"])


def cores_text(cpu: dict[str, float]) -> str:
    return (
        f"workers {cpu['workers']:.2f} / wrk {cpu['load']:.2f} / poller "
        f"{cpu['this_process']:.2f} / other {cpu['other']:.2f}"
    )


def lookup_row(label: str, r: Result) -> str:
    """One load's figures; CPU/req is the workers' CPU time per request (median runs)."""
    cpu_us = r["cpu_cores"]["workers"] / r["rps"] * 1e6
    return (
        f"{label:<26}{r['rps']:>9,.0f}{r['p50_ms']:>8.2f}{r['p99_ms']:>8.2f}"
        f"{r['p999_ms']:>8.2f}{r['non_200']:>8}{r['match_share']:>7.1%}{cpu_us:>8.0f}  "
        f"{cores_text(r['cpu_cores'])}; connections per worker {splits_text(r)}"
    )


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def report_server(variant: str, r: Result, cli: float) -> list[str]:
    lk, up, fr = r["lookups"], r["uploads"], r["freshness"]
    best = max(lk[f"closed_{c}"]["rps"] for c in LOOKUP_CONNECTIONS)
    paced = lk["paced"]
    fresh = max(fr["added_s"]["p99"], fr["retracted_s"]["p99"])
    hma_low, hma_high = HMA_PRODUCTION_RPS
    return [
        f"--- server {variant!r}: ready in {r['ready_s']:.1f} s ---",
        f"hash lookups ({HIT_SHARE:.0%} near-PDQ hits, rest random PDQ/MD5); medians of runs",
        f"{'load':<26}{'req/s':>9}{'p50 ms':>8}{'p99 ms':>8}{'p99.9':>8}{'errors':>8}"
        f"{'match':>7}{'CPU/req':>8}  cores: workers / wrk / poller / other",
        *(lookup_row(f"{c} connections", lk[f"closed_{c}"]) for c in LOOKUP_CONNECTIONS),
        lookup_row(f"paced {GOAL_RPS:,}/s, {PACED_CONNECTIONS} conn", paced),
        "",
        f"image uploads (1080p JPEG, {UPLOAD_CONNECTIONS} connections): {up['rps']:.1f} images/s, "
        f"p50 {up['p50_ms']:.0f} ms, p99 {up['p99_ms']:.0f} ms, errors {up['non_200']}; "
        f"{cores_text(up['cpu_cores'])}; connections per worker {splits_text(up)}",
        f"  `hashguard hash -j {WORKERS}`: {cli:.1f} images/s -> service / CLI = "
        f"{up['rps'] / cli:.2f}",
        "",
        f"freshness under lookup load ({fr['load']['rps']:,.0f} req/s in the background, "
        f"{len(fr['changes'])} changes): acknowledged -> every worker answers accordingly",
        f"  import (1 row): ack p50 {ms(fr['import_ack_s']['p50'])}; live p50 "
        f"{ms(fr['added_s']['p50'])}, p99 {ms(fr['added_s']['p99'])}, max "
        f"{ms(fr['added_s']['max'])}",
        f"  retraction:     ack p50 {ms(fr['retract_ack_s']['p50'])}; live p50 "
        f"{ms(fr['retracted_s']['p50'])}, p99 {ms(fr['retracted_s']['p99'])}, max "
        f"{ms(fr['retracted_s']['max'])}",
        "",
        "against the goals:",
        f"  lookups >= {GOAL_RPS:,} req/s: {best:,.0f} closed loop ({best / GOAL_RPS:.2f}x); paced "
        f"at {GOAL_RPS:,}/s got {paced['rps']:,.0f}/s with p99 {paced['p99_ms']:.1f} ms "
        f"(goal <= {GOAL_P99_MS:.0f} ms)",
        f"  uploads >= {GOAL_UPLOAD_RATIO:.0%} of the CLI: {up['rps'] / cli:.0%}",
        f"  freshness p99 <= {GOAL_FRESH_S:.0f} s: import {fr['added_s']['p99']:.2f} s, "
        f"retraction {fr['retracted_s']['p99']:.2f} s",
        "against HMA's published figures (not measured here, other hardware):",
        f"  {best / HMA_TARGET_RPS:.1f}x its target of {HMA_TARGET_RPS:,} req/s; its production "
        f"report is {hma_low}-{hma_high} req/s over {HMA_PODS} pods: this 2-core machine does "
        f"{best / hma_high:.1f}-{best / hma_low:.1f}x that",
        f"  freshness: its 10 min vs our p99 {fresh:.2f} s ({HMA_FRESH_S / fresh:,.0f}x sooner)",
        "",
    ]


def report(name: str, r: Result, cli: float) -> list[str]:
    lines = [
        f"=== {name}: {r['rows_per_type']:,} PDQ + {r['rows_per_type']:,} MD5 entries "
        f"(imported in {r['import_s']:.0f} s), {WORKERS} workers ===",
        "",
    ]
    for variant, server in r["servers"].items():
        lines += report_server(variant, server, cli)
    return lines


def machine() -> Result:
    cpu = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False).stdout
    return {
        "cpu": cpu.group(1) if cpu else platform.processor(),
        "cores": psutil.cpu_count(),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "wrk": wrk.split(" [")[0],
        **{p: version(p) for p in ("uvicorn", "fastapi", "starlette", "pydantic", "httpx")},
    }


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
