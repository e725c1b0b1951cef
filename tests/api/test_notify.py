"""On PostgreSQL a serving process is woken by NOTIFY when another process changes the
store: with the fallback poll set to 30 s, a change still shows within 2 s (the bound is
generous: this proves the notification path, not its speed)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from fastapi.testclient import TestClient

from hashguard.api.server import ServeOptions, create_app
from hashguard.engine import Engine
from hashguard.store import notify
from hashguard.store.store import Store
from tests.helpers import import_text

MD5 = "0123456789abcdef0123456789abcdef"
WITHIN = 2.0
POLL = 30.0


def wait_for(condition, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_notification_comes_with_the_commit(pg_url: str) -> None:
    writer = Store(pg_url)
    woken = threading.Event()
    listener = notify.Listener(writer.engine, woken.set)
    try:
        assert wait_for(lambda: listener.listening, 10)
        woken.clear()
        with writer.engine.begin() as conn:
            notify.changed(conn)
            time.sleep(0.3)
            assert not woken.is_set()  # not before the commit
        assert woken.wait(WITHIN)
    finally:
        listener.close()
        writer.close()


def test_another_process_change_wakes_the_follower(pg_url: str, tmp_path: Path) -> None:
    served, other = Store(pg_url), Store(pg_url)
    try:
        other.create_bank("own")
        match_key = other.keys.create("m", ["match"], actor="test")[1]
        engine = Engine(served, index_dir=tmp_path / "idx")
        options = ServeOptions(listen_poll=POLL, sync_every=0)
        with TestClient(create_app(engine, options)) as client:
            app = client.app
            assert wait_for(lambda: app.state.listener.listening, 10)  # type: ignore[attr-defined]

            auth = {"Authorization": f"Bearer {match_key}"}

            def matches() -> bool:
                body = {"signals": [{"type": "md5", "value": MD5}]}
                r = client.post("/v1/match", json=body, headers=auth)
                return r.status_code == 200 and bool(r.json()["matches"])

            time.sleep(0.5)  # the follower's first rounds are done: it now waits on the poll
            assert not matches()
            key_changes = app.state.listener.key_changes  # type: ignore[attr-defined]
            import_text(other, "own", f"signal_type,signal,id\nmd5,{MD5},x\n")
            assert wait_for(matches, WITHIN)
            # a list change is no key change: the keys are not reloaded for it
            assert app.state.listener.key_changes == key_changes  # type: ignore[attr-defined]
            # a revoked key is refused promptly too (keys notify as well)
            other.keys.revoke("m", actor="test")

            def refused() -> bool:
                answer = client.post("/v1/match", json={"signals": []}, headers=auth)
                return answer.status_code == 401

            assert wait_for(refused, WITHIN)
            assert app.state.listener.key_changes == key_changes + 1  # type: ignore[attr-defined]
    finally:
        served.close()
        other.close()
