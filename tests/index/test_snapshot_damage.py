"""A damaged index snapshot is never served: every kind of file, overwritten in place, cut
short or missing, leads to a rebuild from the store (and a fresh snapshot), not a crash."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from hashguard.api.server import create_app
from hashguard.cli import main
from hashguard.engine import Engine
from hashguard.errors import RowError, SnapshotDamaged
from hashguard.index import integrity, snapshot
from hashguard.lists import formats
from hashguard.signals.base import Signal
from hashguard.signals.registry import default_registry
from hashguard.store.store import Store

PDQ_ROWS = 20_001  # over hamming.SCAN_BELOW: the snapshot holds the chunk tables too
rng = np.random.default_rng(11)
PDQ = [c.tobytes().hex() for c in rng.integers(0, 256, (PDQ_ROWS, 32), dtype=np.uint8)]
MD5 = [c.tobytes().hex() for c in rng.integers(0, 256, (50, 16), dtype=np.uint8)]
URLS = [f"example{i}.test/path" for i in range(20)]
KEYWORDS = [f"forbiddenword{i}" for i in range(5)]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path_factory.mktemp('db') / 'hg.db'}")
    s.create_bank("iwf", pdq_threshold=0)  # exact PDQ lookups: every hash is asked, quickly
    lines = ["signal_type,signal,id"]
    lines += [f"pdq,{h},p{i}" for i, h in enumerate(PDQ)]
    lines += [f"md5,{h},m{i}" for i, h in enumerate(MD5)]
    lines += [f"url,{u},u{i}" for i, u in enumerate(URLS)]
    lines += [f"keyword,{k},k{i}" for i, k in enumerate(KEYWORDS)]
    errors: list[RowError] = []
    rows = formats.get("csv").read(
        io.BytesIO("\n".join(lines).encode()), default_registry(), errors
    )
    s.import_rows("iwf", rows, errors, "test.csv")
    yield s
    s.close()


def assert_everything_matches(engine: Engine) -> None:
    """Every listed hash is found, each once (rows are not in list order: all are asked)."""
    for name, values in (("pdq", PDQ), ("md5", MD5)):
        hits = engine.indexes.search(name, values)
        assert sorted(h.query for h in hits) == list(range(len(values))), name
    signals = [Signal("pdq", PDQ[-1]), Signal("md5", MD5[-1])]  # and reported as entries
    found = {(m.signal_type, m.entry) for m in engine.match_signals(signals)}
    assert found == {("pdq", f"p{PDQ_ROWS - 1}"), ("md5", f"m{len(MD5) - 1}")}
    text = " ".join(f"http://{u}" for u in URLS) + " " + " ".join(KEYWORDS)
    in_text = {(m.signal_type, m.entry) for m in engine.match_text(text).matches}
    assert in_text == {("url", f"u{i}") for i in range(len(URLS))} | {
        ("keyword", f"k{i}") for i in range(len(KEYWORDS))
    }


def overwrite(path: Path) -> None:
    """Overwrite bytes in place, size unchanged: the end of the file (its last rows)."""
    if path.name == "manifest.json":  # a number the loader trusts: the PDQ chunk count
        text = path.read_text()
        m = int(re.search(r'"chunks": (\d+)', text).group(1))  # type: ignore[union-attr]
        changed = text.replace(f'"chunks": {m}', f'"chunks": {m + 1 if m < 64 else m - 1}')
        assert len(changed) == len(text)
        with open(path, "r+") as f:
            f.write(changed)
        return
    size = path.stat().st_size
    span = min(64, size // 4)
    with open(path, "r+b") as f:
        f.seek(size - span)
        old = f.read(span)
        f.seek(size - span)
        f.write(bytes(0 if b else 0xFF for b in old))  # zero what was set, set the rest


def cut_short(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def garbage(path: Path) -> None:
    path.write_bytes(b"\x00\xffnot a snapshot file\n" * 3)


FILES = [
    "md5.keys.npy", "md5.filter.npy", "md5.pks.npy", "md5.banks.npy", "md5.alive.npy",
    "pdq.words.npy", "pdq.offsets.npy", "pdq.order.npy", "pdq.pks.npy", "pdq.banks.npy",
    "pdq.alive.npy", "url.keys.npy", "url.filter.npy", "keyword.values.json",
    "keyword.alive.npy", "manifest.json",
]  # fmt: skip
DAMAGE = {"overwritten": overwrite, "cut short": cut_short, "missing": Path.unlink}


@pytest.mark.parametrize("how", DAMAGE)
@pytest.mark.parametrize("name", FILES)
def test_a_damaged_snapshot_is_rebuilt_from_the_store(
    store: Store, tmp_path: Path, name: str, how: str, caplog: pytest.LogCaptureFixture
) -> None:
    index_dir = tmp_path / "idx"
    assert Engine(store, index_dir=index_dir).indexes.loaded_from == "store"
    whole = Engine(store, index_dir=index_dir)  # loaded and (its stamp) checked once
    assert whole.indexes.loaded_from == "snapshot"
    DAMAGE[how](index_dir / name)
    with caplog.at_level(logging.WARNING, logger="hashguard.index"):
        engine = Engine(store, index_dir=index_dir)
    assert engine.indexes.loaded_from == "store"  # not the damaged snapshot
    assert engine.ready()
    assert_everything_matches(engine)
    if name != "manifest.json" or how != "missing":  # no manifest: no snapshot, no warning
        assert f"index snapshot {index_dir} is damaged ({name}" in caplog.text
    # the rebuild replaced the damaged snapshot with a whole one
    again = Engine(store, index_dir=index_dir)
    assert again.indexes.loaded_from == "snapshot"
    assert_everything_matches(again)


def test_the_service_is_ready_only_on_indexes_rebuilt_from_the_store(
    store: Store, tmp_path: Path
) -> None:
    Engine(store, index_dir=tmp_path / "idx")
    overwrite(tmp_path / "idx" / "pdq.words.npy")
    key = store.keys.create(f"m-{tmp_path.name}", ["match"], actor="test")[1]
    auth = {"Authorization": f"Bearer {key}"}
    engine = Engine(store, index_dir=tmp_path / "idx", load=False)
    with TestClient(create_app(engine)) as client:  # the app loads in the background
        deadline = time.monotonic() + 30
        while client.get("/v1/ready").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert client.get("/v1/index", headers=auth).json()["loaded_from"] == "store"
        body = {"signals": [{"type": "pdq", "value": h} for h in PDQ[-3:]]}
        found = client.post("/v1/match", json=body, headers=auth).json()["matches"]
        assert sorted(m["entry"] for m in found) == [f"p{i}" for i in range(PDQ_ROWS - 3, PDQ_ROWS)]
    assert_everything_matches(engine)


@pytest.mark.parametrize(
    "text",
    ["[" * 100_000, "[]", '{"format": 3}', '{"format": 3, "sha256": "00"}', "\udcff", "null"],
)
def test_a_manifest_that_is_not_one_is_rebuilt(store: Store, tmp_path: Path, text: str) -> None:
    Engine(store, index_dir=tmp_path / "idx")
    (tmp_path / "idx" / "manifest.json").write_text(text, errors="surrogateescape")
    with pytest.raises(SnapshotDamaged, match=r"^manifest\.json: "):
        snapshot.load(tmp_path / "idx")
    engine = Engine(store, index_dir=tmp_path / "idx")
    assert engine.indexes.loaded_from == "store"
    assert_everything_matches(engine)


@pytest.mark.parametrize("damage", [cut_short, overwrite, garbage])
def test_index_rebuild_replaces_a_damaged_snapshot(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: object
) -> None:
    monkeypatch.setenv("HASHGUARD_DB", store.url)
    monkeypatch.setenv("HASHGUARD_INDEX_DIR", str(tmp_path / "idx"))
    monkeypatch.setenv("HASHGUARD_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("")
    Engine(store, index_dir=tmp_path / "idx")
    for name in ("pdq.words.npy", "manifest.json"):
        damage(tmp_path / "idx" / name)  # type: ignore[operator]
        out = io.StringIO()
        monkeypatch.setattr(sys, "stdout", out)
        assert main(["index", "rebuild"]) == 0
        assert json.loads(out.getvalue())["loaded_from"] == "store"
        out.truncate(0)
        out.seek(0)
        assert main(["index", "status"]) == 0
        status = json.loads(out.getvalue())
        assert status["loaded_from"] == "snapshot"
        assert status["types"]["pdq"]["size"] == PDQ_ROWS
    assert_everything_matches(Engine(store, index_dir=tmp_path / "idx"))


def test_a_damaged_record_of_the_last_check_only_costs_a_hash(store: Store, tmp_path: Path) -> None:
    Engine(store, index_dir=tmp_path / "idx")
    garbage(tmp_path / "idx" / integrity.STAMP)
    engine = Engine(store, index_dir=tmp_path / "idx")
    assert engine.indexes.loaded_from == "snapshot"  # the files are whole: served
    assert_everything_matches(engine)


def test_an_in_place_write_is_seen_even_with_its_mtime_put_back(
    store: Store, tmp_path: Path
) -> None:
    directory = tmp_path / "idx"
    Engine(store, index_dir=directory)
    time.sleep(0.05)  # past the clock tick of the write: the record made now is trusted
    found = snapshot.load(directory)  # hashes (or trusts the writer's record) and records
    assert found is not None
    manifest = found[0]
    assert integrity.stamped(directory, manifest.sha256, manifest.files)
    words = directory / "pdq.words.npy"
    before = os.stat(words)
    overwrite(words)
    os.utime(words, ns=(before.st_atime_ns, before.st_mtime_ns))  # size and mtime as they were
    assert not integrity.stamped(directory, manifest.sha256, manifest.files)
    with pytest.raises(SnapshotDamaged, match=r"pdq\.words\.npy: its content"):
        snapshot.load(directory)
