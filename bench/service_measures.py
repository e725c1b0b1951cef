"""Service benchmark: lookups, uploads and freshness, each measured against a running server."""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from service_load import Load, children_seconds, cpu_split, repeated, run_wrk, start_wrk, wrk_result
from service_setup import (
    BANK,
    GOAL_RPS,
    LOOKUP_CONNECTIONS,
    PACED_CONNECTIONS,
    UPLOAD_CONNECTIONS,
    WARMUP_SECONDS,
    WORKERS,
    Result,
    Server,
    log,
    match_body,
)

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
