"""Service benchmark: its settings and goals, the lists and request bodies, the store and
the server under test."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil
from _harness import ready_after

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
        """Seconds from start until every worker answers /v1/ready with 200."""
        if ready_after(self.url, self.process, timeout, in_a_row) is None:
            raise SystemExit(f"server exited:\n{self.log_tail()}")
        return time.perf_counter() - self.started

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
