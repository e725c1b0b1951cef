"""Webhook delivery from the outbox, against a real HTTP receiver on loopback, on SQLite and
PostgreSQL: signed, filtered by event, retried with backoff in order per item, timeouts,
dropped and refused connections, dead letters and replays, secret rotation, address checks,
a deliverer killed mid-batch, and the service delivering a block it answered."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hashguard.actions import signing
from hashguard.actions.deliver import Deliverer
from hashguard.actions.model import Checked, Logged
from hashguard.actions.webhooks import MAX_ATTEMPTS, check_url
from hashguard.api.server import ServeOptions
from hashguard.errors import InvalidValue
from hashguard.policy import Verdict
from hashguard.store.store import Store
from tests.actions.receiver import Receiver
from tests.api.conftest import make_service
from tests.helpers import import_text

SECRET = "s3cret-s3cret-s3cret"
T0 = 1_800_000_000.0


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver([SECRET])
    yield r
    r.close()


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def verdict(store: Store, content_id: str, kind: Verdict = Verdict.BLOCK) -> Logged:
    item = Checked(kind, policy_version=0, list_seq=1, content_key=f"id:{content_id}",
                   matches=({"bank": "iwf", "entry": "x1", "signal_type": "md5", "distance": 0},),
                   reasons=(), context={"content_id": content_id})  # fmt: skip
    return store.match_log.submit(item).result(timeout=30)


def deliverer(store: Store, clock: Clock, timeout: float = 5.0) -> Deliverer:
    return Deliverer(store.webhooks, allow_private=True, clock=clock,
                     client=httpx.Client(timeout=timeout))  # fmt: skip


def test_events_are_signed_filtered_and_delivered_once(store: Store, receiver: Receiver) -> None:
    store.webhooks.add("all", receiver.url, ("review", "block", "report"), SECRET, actor="t")
    reports = Receiver([SECRET])
    try:
        store.webhooks.add("reports", reports.url, ("report",), SECRET, actor="t")
        sent = [verdict(store, "c1"), verdict(store, "c2", Verdict.REVIEW),
                verdict(store, "c3", Verdict.REPORT)]  # fmt: skip
        d = deliverer(store, Clock())
        done = d.run_once()
        assert (done.queued, done.delivered, done.failed) == (4, 4, 0)
        assert list(receiver.applied) == [s.event_id for s in sent]  # in outbox order
        assert list(reports.applied) == [sent[2].event_id]
        assert receiver.bad_signatures == 0
        first = receiver.requests[0]
        assert first["headers"]["Hashguard-Event-Id"] == sent[0].event_id
        assert first["headers"]["Content-Type"] == "application/json"
        assert receiver.applied[sent[0].event_id]["context"] == {"content_id": "c1"}
        again = d.run_once()
        assert (again.queued, again.delivered) == (0, 0) and len(receiver.requests) == 3
        assert store.webhooks.counts() == {"delivered": 4}
    finally:
        reports.close()


def test_a_failure_is_retried_later_and_holds_back_that_item_only(
    store: Store, receiver: Receiver
) -> None:
    store.webhooks.add("h", receiver.url, ("block",), SECRET, actor="t")
    a1, a2, b1 = verdict(store, "a"), verdict(store, "a"), verdict(store, "b")
    receiver.plan = ["500"]
    clock = Clock()
    d = deliverer(store, clock)
    done = d.run_once()
    assert (done.delivered, done.failed, done.held) == (1, 1, 1)
    assert list(receiver.applied) == [b1.event_id]  # a2 waits behind a1
    assert d.run_once().delivered == 0  # a1's retry is not due yet (2 s, jittered)
    clock.now += 10
    assert d.run_once().delivered == 2
    assert list(receiver.applied) == [b1.event_id, a1.event_id, a2.event_id]
    [failed] = store.webhooks.deliveries(failed=True)
    assert (failed["event_id"], failed["attempts"], failed["status"]) == (
        a1.event_id,
        1,
        "delivered",
    )
    assert failed["last_error"] is None  # cleared once delivered


def test_timeouts_drops_and_refusals_end_dead_lettered_and_replay(
    store: Store, receiver: Receiver
) -> None:
    store.webhooks.add("h", receiver.url, ("block",), SECRET, actor="t")
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/hook"
    store.webhooks.add("gone", closed, ("block",), SECRET, actor="t")
    event = verdict(store, "c")
    receiver.plan = ["slow", "drop"] + ["500"] * (MAX_ATTEMPTS - 2)
    clock = Clock()
    d = deliverer(store, clock, timeout=0.5)
    for _ in range(MAX_ATTEMPTS):
        d.run_once()
        clock.now += 7200  # past any retry delay
    assert store.webhooks.counts() == {"dead": 2}
    assert receiver.applied == {}
    errors = {r["webhook"]: r["last_error"] for r in store.webhooks.deliveries(failed=True)}
    assert errors["h"] == "HTTP 500" and errors["gone"].startswith("ConnectError")
    kinds = [r for r in store.webhooks.deliveries() if r["status"] == "dead"]
    assert all(r["attempts"] == MAX_ATTEMPTS for r in kinds)
    assert d.run_once().delivered == 0  # dead stays dead
    assert store.webhooks.replay("h", actor="t") == 1
    assert d.run_once().delivered == 1
    assert list(receiver.applied) == [event.event_id]
    # the receiver saw the slow and dropped attempts as well: at least once, applied once
    assert len(receiver.requests) == MAX_ATTEMPTS + 1


def test_rotating_a_secret_signs_with_both_until_the_old_one_is_retired(
    store: Store, receiver: Receiver
) -> None:
    store.webhooks.add("h", receiver.url, ("block",), SECRET, actor="t")
    new = "n3w-s3cret-n3w-s3cret"
    assert store.webhooks.rotate("h", new, actor="t").as_dict()["secrets"] == 2
    receiver.secrets = [new]  # a receiver that switched already
    verdict(store, "c1")
    d = deliverer(store, Clock())
    assert d.run_once().delivered == 1
    header = receiver.requests[-1]["headers"][signing.HEADER]
    assert header.count("v1=") == 2
    body = receiver.requests[-1]["body"]
    assert signing.verify(header, body, [SECRET])  # and one that did not
    store.webhooks.rotate("h", None, actor="t")
    verdict(store, "c2")
    d.run_once()
    header = receiver.requests[-1]["headers"][signing.HEADER]
    assert header.count("v1=") == 1
    assert not signing.verify(header, receiver.requests[-1]["body"], [SECRET])
    # a replayed request outside the window is refused by the verifier
    assert not signing.verify(header, receiver.requests[-1]["body"], [new], now=time.time() + 301)
    audit = [a["action"] for a in store.audit.read()]
    assert audit[-2:] == ["webhook.rotate", "webhook.retire"]


def test_addresses_are_checked_when_added_and_before_each_delivery(
    store: Store, receiver: Receiver
) -> None:
    for url in (receiver.url, "http://10.0.0.7/hook", "http://[::1]:9/x", "http://localhost/x"):
        with pytest.raises(InvalidValue, match="private, loopback or reserved"):
            check_url(url, allow_private=False)
    for url in ("ftp://example.com/x", "http:///x", "https://user:pw@example.com/x"):
        with pytest.raises(InvalidValue):
            check_url(url, allow_private=True)
    assert check_url(receiver.url, allow_private=True) == receiver.url
    # added while allowed, then delivered by a deliverer that is not allowed: refused there
    store.webhooks.add("h", receiver.url, ("block",), SECRET, actor="t")
    verdict(store, "c1")
    strict = Deliverer(store.webhooks, allow_private=False, clock=Clock())
    done = strict.run_once()
    assert done.failed == 1 and receiver.requests == []
    assert (
        "private, loopback or reserved" in store.webhooks.deliveries(failed=True)[0]["last_error"]
    )


def test_a_worker_killed_mid_batch_loses_nothing(
    store: Store, receiver: Receiver, tmp_path: Path
) -> None:
    store.webhooks.add("h", receiver.url, ("block",), SECRET, actor="t")
    sent = {verdict(store, f"c{i}").event_id for i in range(60)}
    receiver.plan = ["slow"] + ["ok"] * 200  # the first request holds the worker a while
    env = {**os.environ, "HASHGUARD_WEBHOOK_ALLOW_PRIVATE": "1",
           "HASHGUARD_CONFIG": str(tmp_path / "none.toml")}  # fmt: skip
    (tmp_path / "none.toml").write_text("")
    cmd = [sys.executable, "-m", "hashguard.cli", "--db", store.url, "worker", "--every", "0.05"]
    worker = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while len(receiver.requests) < 10 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(worker.pid, signal.SIGKILL)  # mid-batch: sent, some not yet marked
    worker.wait(10)
    assert 0 < len(receiver.applied) < len(sent)
    # A new deliverer takes over once the dead one's lease runs out; this one is run
    # directly (the lease is the worker loop's business, tested with the service below).
    d = deliverer(store, Clock())
    while d.run_once().delivered:
        pass
    assert set(receiver.applied) == sent  # everything, each applied once
    assert len(receiver.requests) >= len(sent)  # some twice: at least once
    assert store.webhooks.counts() == {"delivered": len(sent)}


def test_the_service_delivers_the_block_it_answered(
    tmp_path: Path, db_url: str, receiver: Receiver, testdata: Path
) -> None:
    store = Store(db_url)
    md5 = "b5b0b2c1b9fd4b0a3b1d6cc3d7c4b8a1"
    store.create_bank("iwf")
    import_text(store, "iwf", f"signal_type,signal,id\nmd5,{md5},x1\n")
    store.webhooks.add("platform", receiver.url, ("block",), SECRET, actor="t")
    options = ServeOptions(deliver_every=0.05, webhook_allow_private=True)
    try:
        for service in make_service(store, tmp_path, options):
            body = {"signals": [{"type": "md5", "value": md5}], "content_id": "m-1"}
            answer = service.call("POST", "/v1/match", "match", json=body).json()
            assert answer["verdict"] == "block"
            deadline = time.monotonic() + 10
            while answer["event_id"] not in receiver.applied and time.monotonic() < deadline:
                time.sleep(0.02)
            event = receiver.applied[answer["event_id"]]
            assert (event["match_id"], event["type"]) == (answer["match_id"], "verdict.block")
            assert event["context"] == {"content_id": "m-1"}
    finally:
        store.close()


def test_webhooks_over_http(tmp_path: Path, db_url: str, receiver: Receiver) -> None:
    store = Store(db_url)
    options = ServeOptions(deliver_every=0, webhook_allow_private=False)
    try:
        for service in make_service(store, tmp_path, options):
            new = {"name": "p", "url": receiver.url, "events": ["block"], "secret": SECRET}
            refused = service.call("POST", "/v1/webhooks", "admin", json=new)
            assert refused.status_code == 422 and "private" in refused.json()["error"]["message"]
            public = {**new, "url": "https://203.0.113.9/hook"}  # TEST-NET-3: is_global False
            assert service.call("POST", "/v1/webhooks", "admin", json=public).status_code == 422
            for scope in ("match", "curate"):
                assert service.call("GET", "/v1/webhooks", scope).status_code == 403
                assert service.call("POST", "/v1/webhooks", scope, json=new).status_code == 403
            short = {**new, "secret": "short"}
            assert service.call("POST", "/v1/webhooks", "admin", json=short).status_code == 422
            bad = {**new, "events": ["delete"]}
            store.webhooks.add("p", receiver.url, ("block",), SECRET, actor="t")  # as allowed
            listed = service.call("GET", "/v1/webhooks", "admin").json()
            assert listed["webhooks"] == [
                {
                    "name": "p",
                    "url": receiver.url,
                    "events": ["block"],
                    "secrets": 1,
                    "enabled": True,
                }
            ]
            assert SECRET not in str(listed)
            assert service.call("POST", "/v1/webhooks", "admin", json=bad).status_code == 422
            rotated = service.call("POST", "/v1/webhooks/p/secrets", "admin",
                                   json={"secret": "another-secret-123"})  # fmt: skip
            assert rotated.json()["secrets"] == 2
            retired = service.call("DELETE", "/v1/webhooks/p/secrets/old", "admin")
            assert retired.json()["secrets"] == 1
            got = service.call("GET", "/v1/webhooks/deliveries?failed=true", "admin")
            assert got.json() == {"deliveries": []}
            assert service.call("POST", "/v1/webhooks/p/replay", "admin").json()["requeued"] == 0
            assert service.call("DELETE", "/v1/webhooks/p", "admin").status_code == 200
            assert service.call("DELETE", "/v1/webhooks/p", "admin").status_code == 404
    finally:
        store.close()
