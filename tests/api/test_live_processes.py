"""Real `hashguard serve` processes on PostgreSQL: every change made through either of two
is answered by every worker within a second; acknowledged verdicts survive kill -9."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hashguard.lists.rows import ListRow
from hashguard.store.store import Store
from tests.helpers import free_port, wait_ready

# The promise is 1 s (measured by bench/bench_follow.py); a shared CI machine gets 3x.
FRESHNESS = 3.0  # seconds
MD5S = [f"{i:032x}" for i in range(1, 4)]


class Server:
    def __init__(self, db: str, index_dir: Path, workers: int) -> None:
        self.index_dir = index_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "HASHGUARD_INDEX_DIR": str(index_dir)}
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hashguard.cli", "--db", db, "serve",
             "--port", str(self.port), "--workers", str(workers)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip

    def wait_ready(self, timeout: float = 60) -> float:
        def output() -> str:
            assert self.process.stderr is not None
            return self.process.stderr.read().decode()

        return wait_ready(self.process, self.url, output, timeout)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture
def cluster(pg_url: str, tmp_path: Path) -> Iterator[tuple[Store, dict[str, str], list[Server]]]:
    store = Store(pg_url)
    store.create_bank("iwf")
    keys = {s: store.keys.create(f"k-{s}", [s], actor="test")[1] for s in ("match", "curate")}
    servers = [Server(pg_url, tmp_path / "a", 1), Server(pg_url, tmp_path / "b", 2)]
    try:
        for server in servers:
            server.wait_ready()
        yield store, keys, servers
    finally:
        for server in servers:
            server.stop()
        store.close()


def _matched(server: Server, key: str, md5: str) -> bool:
    body = {"signals": [{"type": "md5", "value": md5}]}
    r = httpx.post(f"{server.url}/v1/match", json=body, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.text
    return bool(r.json()["matches"])


def _everywhere(servers: list[Server], key: str, md5: str, expect: bool) -> float:
    """Seconds until every server answers ``expect`` on 8 requests in a row (so each of a
    server's workers has answered), failing after FRESHNESS."""
    started = time.monotonic()
    for server in servers:
        while not all(_matched(server, key, md5) == expect for _ in range(8)):
            assert time.monotonic() - started < FRESHNESS, f"{server.url} stale after {FRESHNESS}s"
            time.sleep(0.02)
    return time.monotonic() - started


def test_changes_reach_every_worker_within_a_second(cluster) -> None:  # type: ignore[no-untyped-def]
    store, keys, (a, b) = cluster
    curate = {"Authorization": f"Bearer {keys['curate']}"}
    rows = "signal_type,signal,id\n" + "".join(f"md5,{m},e{i}\n" for i, m in enumerate(MD5S))
    imported = httpx.post(
        f"{a.url}/v1/banks/iwf/import?format=csv", content=rows.encode(), headers=curate
    )
    assert imported.status_code == 200, imported.text
    _everywhere([a, b], keys["match"], MD5S[0], True)

    retracted = httpx.delete(f"{b.url}/v1/banks/iwf/entries/e0", headers=curate)
    assert retracted.json()["status"] == "retracted"
    _everywhere([a, b], keys["match"], MD5S[0], False)

    added = httpx.post(
        f"{b.url}/v1/banks/iwf/entries", headers=curate,
        json={"id": "e9", "signals": [{"type": "md5", "value": "f" * 32}]},
    )  # fmt: skip
    assert added.status_code == 201
    _everywhere([a, b], keys["match"], "f" * 32, True)

    disabled = httpx.patch(f"{a.url}/v1/banks/iwf", json={"enabled": False}, headers=curate)
    assert disabled.json()["enabled"] is False
    _everywhere([a, b], keys["match"], MD5S[1], False)

    store.keys.revoke("k-match", actor="test")
    started = time.monotonic()
    for server in (a, b):
        revoked = {"Authorization": f"Bearer {keys['match']}"}
        while any(
            httpx.get(f"{server.url}/v1/index", headers=revoked).status_code != 401
            for _ in range(8)
        ):
            assert time.monotonic() - started < FRESHNESS
            time.sleep(0.02)


def test_restart_is_ready_from_snapshot_and_log_tail(cluster) -> None:  # type: ignore[no-untyped-def]
    store, keys, servers = cluster
    a, b = servers
    a.stop()
    curate = {"Authorization": f"Bearer {keys['curate']}"}
    rows = "signal_type,signal,id\n" + "".join(f"md5,{m},e{i}\n" for i, m in enumerate(MD5S))
    url = f"{b.url}/v1/banks/iwf/import?format=csv"
    assert httpx.post(url, content=rows.encode(), headers=curate).status_code == 200
    again = Server(store.url, a.index_dir, 1)
    servers.append(again)  # stopped by the fixture
    again.wait_ready()
    matcher = {"Authorization": f"Bearer {keys['match']}"}
    index = httpx.get(f"{again.url}/v1/index", headers=matcher).json()
    assert index["loaded_from"] == "snapshot" and index["lag"] == 0
    assert _matched(again, keys["match"], MD5S[2])


def test_acknowledged_verdicts_survive_kill_9(pg_url: str, tmp_path: Path) -> None:
    """Blocks answered by a real server are in the match log after it is killed outright."""
    store = Store(pg_url)
    store.create_bank("iwf")
    store.import_rows("iwf", [ListRow(1, "add", "x1", "md5", MD5S[0])], [], "test")
    key = store.keys.create("k-match", ["match"], actor="test")[1]
    server = Server(pg_url, tmp_path / "k", 2)
    try:
        server.wait_ready()
        body = {"signals": [{"type": "md5", "value": MD5S[0]}]}
        headers = {"Authorization": f"Bearer {key}"}
        acknowledged = []
        with httpx.Client(base_url=server.url, headers=headers) as client:
            for i in range(30):
                answer = client.post("/v1/match", json={**body, "content_id": f"c{i}"}).json()
                assert answer["verdict"] == "block"
                acknowledged.append((answer["match_id"], answer["event_id"]))
        _kill_9(server.process.pid)
        kept = {r["id"] for r in store.match_log.records()}
        events = {e["event"]["event_id"] for e in store.match_log.events()}
        assert {m for m, _ in acknowledged} <= kept
        assert {e for _, e in acknowledged} <= events
    finally:
        server.stop()
        store.close()


def _kill_9(pid: int) -> None:
    """SIGKILL a process and its children (the workers), no chance to flush anything."""
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    for p in [pid, *map(int, children.split())]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, signal.SIGKILL)
