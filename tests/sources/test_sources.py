"""Banks following upstream lists: a hashguard feed and python-threatexchange's local file
exchange, through the CLI and the service's schedule; checkpointed, resumable, and
refusing tampered feeds without changing anything."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest
from fastapi.testclient import TestClient

from hashguard.api.server import ServeOptions, create_app
from hashguard.cli import main
from hashguard.engine import Engine
from hashguard.signals.base import Signal
from hashguard.store.store import Store
from tests.helpers import import_text, serve_files

RNG = np.random.default_rng(7)


def md5() -> str:
    return hashlib.md5(RNG.bytes(32)).hexdigest()


def pdq() -> str:
    return RNG.integers(0, 256, 32, dtype=np.uint8).tobytes().hex()


def cli(
    db: str, *args: str, capsys: pytest.CaptureFixture[str]
) -> tuple[int, list[dict[str, Any]]]:
    capsys.readouterr()
    code = main(["--db", db, *[str(a) for a in args]])
    lines = capsys.readouterr().out.splitlines()
    return code, [json.loads(line) for line in lines if line.startswith("{")]


class Publisher(NamedTuple):
    """A publishing hashguard's store, its feed's private and public key files."""

    db: str
    key: Path
    pub: Path

    def publish_one(
        self, feed_dir: Path, capsys: pytest.CaptureFixture[str], entry: str = "x"
    ) -> str:
        """List one new MD5 as ``entry`` and publish to ``feed_dir``; returns the MD5."""
        h = md5()
        import_text(Store(self.db), "hotline", f"signal_type,signal,id\nmd5,{h},{entry}\n")
        publish(self.db, self.key, feed_dir, capsys)
        return h


def active(store: Store, bank: str) -> set[str]:
    return {r["signal"] for r in store.export_rows(bank)}


def publish(
    db: str, key: Path, feed_dir: Path, capsys: pytest.CaptureFixture[str]
) -> dict[str, Any]:
    """The publisher writes the next version of its bank 'hotline' as a feed."""
    code, [report] = cli(
        db, "feed", "publish", "--bank", "hotline", "--dir", feed_dir, "--private-key", key,
        capsys=capsys,
    )  # fmt: skip
    assert code == 0, report
    return report


def follow(
    store: Store, where: object, pub: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, list[dict[str, Any]]]:
    """The subscriber's bank 'mirror' follows the feed at ``where`` as source 'iwf'."""
    if "mirror" not in {b.name for b in store.banks()}:
        store.create_bank("mirror")
    return cli(
        store.url, "sources", "add", "iwf", "--bank", "mirror", "--feed", str(where),
        "--public-key", str(pub), *extra, capsys=capsys,
    )  # fmt: skip


@pytest.fixture
def publisher(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Publisher:
    """A publishing hashguard with a bank 'hotline', a key pair and a feed directory."""
    db = f"sqlite:///{tmp_path / 'publisher.db'}"
    Store(db).create_bank("hotline")
    key, pub = tmp_path / "feed.key", tmp_path / "feed.pub"
    code, [made] = cli(
        db, "feed", "keygen", "--private-key", key, "--public-key", pub, capsys=capsys
    )
    assert code == 0 and len(made["key_id"]) == 16
    return Publisher(db, key, pub)


def test_feed_source_follows_the_publisher(
    publisher: Publisher, store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, key, pub = publisher
    up = Store(db)
    hashes = [md5() for _ in range(5)]
    import_text(
        up,
        "hotline",
        "signal_type,signal,id,category\n"
        + "".join(f"md5,{h},h{i},A\n" for i, h in enumerate(hashes)),
    )
    feed_dir = tmp_path / "feed"
    assert publish(db, key, feed_dir, capsys)["version"] == 1

    code, [added] = follow(store, feed_dir, pub, capsys)
    assert code == 0 and added["kind"] == "feed" and added["checkpoint"] is None
    code, [synced] = cli(store.url, "sources", "sync", capsys=capsys)
    assert code == 0, synced
    assert synced["status"] == "ok" and synced["entries_added"] == 5
    assert active(store, "mirror") == set(hashes)
    entry = store.entry("mirror", "h0")
    assert entry.category == "A"

    # the publisher retracts one entry and adds another: one delta
    extra = md5()
    import_text(
        up,
        "hotline",
        f"signal_type,signal,id,action\nmd5,{hashes[0]},h0,retract\nmd5,{extra},h9,add\n",
    )
    assert publish(db, key, feed_dir, capsys)["version"] == 2
    code, [synced] = cli(store.url, "sources", "sync", "iwf", capsys=capsys)
    assert code == 0 and synced["retracted"] == 1 and synced["entries_added"] == 1
    assert active(store, "mirror") == set(hashes[1:]) | {extra}
    assert json.loads(store.sources.get("iwf").checkpoint or "{}")["version"] == 2
    # nothing new: nothing written to the change log
    before = store.last_seq()
    assert cli(store.url, "sources", "sync", "iwf", capsys=capsys)[1][0]["batches"] == 0
    assert store.last_seq() == before
    with store.engine.connect() as conn:
        audit = (
            conn.exec_driver_sql("SELECT actor FROM hg_audit WHERE action = 'source.sync'")
            .scalars()
            .all()
        )
    assert audit and set(audit) == {"source:iwf"}
    # reset: the next sync starts over from the snapshot (version 1) and its delta, and ends
    # where it was
    code, [reset] = cli(store.url, "sources", "reset", "iwf", capsys=capsys)
    assert code == 0 and reset["checkpoint"] is None
    code, [synced] = cli(store.url, "sources", "sync", "iwf", capsys=capsys)
    assert code == 0 and synced["batches"] == 2 and synced["entries_added"] == 0
    assert active(store, "mirror") == set(hashes[1:]) | {extra}
    assert json.loads(store.sources.get("iwf").checkpoint or "{}")["version"] == 2


def test_tampered_feed_changes_nothing_and_exits_8(
    publisher: Publisher, store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pub, feed_dir = publisher.pub, tmp_path / "feed"
    publisher.publish_one(feed_dir, capsys, entry="a")
    snapshot = next(feed_dir.glob("snapshot-*.jsonl"))
    snapshot.write_text(snapshot.read_text().replace('"a"', '"b"'))  # same size, other content
    follow(store, feed_dir, pub, capsys)
    before = store.last_seq()
    code, [outcome] = cli(store.url, "sources", "sync", capsys=capsys)
    assert code == 8
    assert outcome["status"] == "rejected" and outcome["reason"] == "digest"
    assert "nothing was applied" in outcome["message"]
    assert store.last_seq() == before and active(store, "mirror") == set()
    source = store.sources.get("iwf")
    assert source.checkpoint is None and "nothing was applied" in (source.last_error or "")


def test_crash_mid_sync_resumes_without_loss_or_duplicates(
    publisher: Publisher,
    store: Store,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db, key, pub = publisher
    up = Store(db)
    feed_dir = tmp_path / "feed"
    versions = []
    for v in range(3):  # three versions: a snapshot, then two deltas
        h = md5()
        versions.append(h)
        import_text(up, "hotline", f"signal_type,signal,id\nmd5,{h},v{v}\n")
        publish(db, key, feed_dir, capsys)
    follow(store, feed_dir, pub, capsys)

    real = Store.import_rows
    calls = {"n": 0}

    def crash_on_second(self: Store, *args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # the process dies in the middle of the second version
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Store, "import_rows", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        from hashguard.signals.registry import default_registry
        from hashguard.sources.runner import sync_source

        sync_source(store, store.sources.get("iwf"), default_registry())
    monkeypatch.setattr(Store, "import_rows", real)
    # the first version committed with its checkpoint; nothing of the second
    assert json.loads(store.sources.get("iwf").checkpoint or "{}")["version"] == 1
    assert active(store, "mirror") == {versions[0]}
    code, [outcome] = cli(store.url, "sources", "sync", capsys=capsys)
    assert code == 0 and outcome["batches"] == 2
    assert active(store, "mirror") == set(versions)
    adds = [c for c in store.changes_after(0) if c.kind == "add"]
    assert sorted(c.value for c in adds) == sorted(versions)  # each added exactly once


def test_threatexchange_local_file_exchange(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listed = tmp_path / "hashes.txt"
    p, m = pdq(), md5()
    # python-threatexchange's serialized vPDQ (vpdq_util.vpdq_to_json): kept, not dropped
    v = json.dumps([f"{pdq()},100,0.0", f"{pdq()},87,1.03"], separators=(",", ":"))
    listed.write_text(f"pdq {p}\nvideo_md5 {m}\nvpdq {v}\nraw_text some words\n")
    store.create_bank("shared")
    code, [added] = cli(
        store.url,
        "sources",
        "add",
        "tx",
        "--bank",
        "shared",
        "--exchange",
        "local_file",
        "--file",
        listed,
        capsys=capsys,
    )
    assert code == 0 and added["settings"]["api"] == "local_file"
    code, [outcome] = cli(store.url, "sources", "sync", "tx", capsys=capsys)
    assert code == 0 and outcome["signals_added"] == 3  # raw_text is not a type hashguard lists
    assert active(store, "shared") == {p, m, store.registry.parse("vpdq", v).value}
    engine = Engine(store, index_dir=tmp_path / "idx")
    assert [x.entry for x in engine.match_signals([Signal("md5", m)])] == [f"md5:{m}"]
    assert store.sources.get("tx").checkpoint is not None

    listed.write_text(f"pdq {p}\nvideo_md5 {m}\npdq {'zz' * 32}\n")  # a bad hash: all refused
    code, [outcome] = cli(store.url, "sources", "sync", "tx", capsys=capsys)
    assert code == 8 and outcome["reason"] == "rows" and "line 3" in outcome["message"]
    listed.unlink()
    code, [outcome] = cli(store.url, "sources", "sync", "tx", capsys=capsys)
    assert code == 9 and outcome["status"] == "unavailable"
    assert len(active(store, "shared")) == 3
    code, _ = cli(
        store.url, "sources", "add", "bad", "--bank", "shared", "--exchange", "nope", capsys=capsys
    )
    assert code == 2
    code, _ = cli(
        store.url, "sources", "add", "bad", "--bank", "nobank", "--exchange", "local_file",
        "--file", listed, capsys=capsys,
    )  # fmt: skip
    assert code == 5  # no such bank: nothing added
    assert [s.name for s in store.sources.list()] == ["tx"]


def test_service_syncs_due_sources_on_its_own(
    publisher: Publisher, store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pub, feed_dir = publisher.pub, tmp_path / "feed"
    h = publisher.publish_one(feed_dir, capsys)
    follow(store, feed_dir, pub, capsys)
    engine = Engine(store, index_dir=tmp_path / "idx")
    with TestClient(create_app(engine, ServeOptions(auth=False, sync_every=0.2))) as client:
        deadline = time.monotonic() + 10
        body = {"signals": [{"type": "md5", "value": h}]}
        while not client.post("/v1/match", json=body).json()["matches"]:
            assert time.monotonic() < deadline, "the service did not sync the due source"
            time.sleep(0.1)
        assert "hashguard_source_syncs_total" in client.get("/metrics").text


def test_feed_source_over_http_with_a_secret_from_the_environment(
    publisher: Publisher,
    store: Store,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pub, root = publisher.pub, tmp_path / "www"
    h = publisher.publish_one(root / "iwf", capsys)

    with serve_files(root, "Bearer benign-token") as base:
        follow(store, f"{base}/iwf/", pub, capsys, "--header-env", "Authorization=IWF_TOKEN")
        assert "benign-token" not in json.dumps(store.sources.get("iwf").as_dict())
        code, [outcome] = cli(store.url, "sources", "sync", capsys=capsys)
        assert code == 9 and "IWF_TOKEN" in outcome["message"]  # not set: nothing fetched
        monkeypatch.setenv("IWF_TOKEN", "Bearer wrong")
        code, [outcome] = cli(store.url, "sources", "sync", capsys=capsys)
        assert code == 9 and "HTTP 401" in outcome["message"]
        monkeypatch.setenv("IWF_TOKEN", "Bearer benign-token")
        code, [outcome] = cli(store.url, "sources", "sync", capsys=capsys)
        assert code == 0 and outcome["entries_added"] == 1
    assert active(store, "mirror") == {h}


def test_sources_over_http(
    publisher: Publisher, store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.api.conftest import make_service

    pub, feed_dir = publisher.pub, tmp_path / "feed"
    publisher.publish_one(feed_dir, capsys)
    follow(store, feed_dir, pub, capsys)
    for service in make_service(store, tmp_path):
        assert service.call("GET", "/v1/sources", "match").status_code == 403
        synced = service.call("POST", "/v1/sources/iwf/sync")
        assert synced.json()["status"] == "ok" and synced.json()["entries_added"] == 1
        [listed] = service.call("GET", "/v1/sources").json()["sources"]
        assert listed["checkpoint"]["version"] == 1 and listed["last_error"] is None
        assert "public_keys" not in listed["settings"]
        assert service.call("POST", "/v1/sources/nope/sync").status_code == 404
