"""A gap in the change log's sequence numbers is no backlog: the indexes catch up on the rows
logged, they do not rebuild. On PostgreSQL a transaction that rolls back (an import that
fails or is killed before its commit) keeps the sequence numbers it took."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Connection

from hashguard.engine import Engine
from hashguard.errors import RowError
from hashguard.index import live
from hashguard.lists import formats
from hashguard.signals.base import Signal
from hashguard.signals.registry import default_registry
from hashguard.store.sources import Sources
from hashguard.store.store import Store
from tests.helpers import import_text

BACKLOG = 1_000  # stands for the 200,000 of the default: the gap below is 3x either
GAP_ROWS = 3 * BACKLOG


class Killed(Exception):
    pass


def killed(self: object, conn: Connection, name: str, checkpoint: str) -> None:
    raise Killed("the import's process died before its commit")


def md5s(n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return [c.tobytes().hex() for c in rng.integers(0, 256, (n, 16), dtype=np.uint8)]


def test_a_gap_left_by_a_rolled_back_import_is_caught_up_not_rebuilt(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "REBUILD_BACKLOG", BACKLOG)
    store.create_bank("iwf")
    import_text(store, "iwf", f"signal_type,signal,id\nmd5,{md5s(1, 0)[0]},before\n")
    Engine(store, index_dir=tmp_path / "idx")  # builds and saves the snapshot
    engine = Engine(store, index_dir=tmp_path / "idx")
    assert engine.indexes.loaded_from == "snapshot"
    at = store.last_seq()

    big = "signal_type,signal,id\n" + "".join(
        f"md5,{h},big{i}\n" for i, h in enumerate(md5s(GAP_ROWS, 1))
    )
    errors: list[RowError] = []
    rows = formats.get("csv").read(io.BytesIO(big.encode()), default_registry(), errors)
    # The last thing before the commit: saving a sync's checkpoint.
    monkeypatch.setattr(Sources, "save_checkpoint", killed)
    with pytest.raises(Killed):
        store.import_rows("iwf", rows, errors, "big.csv", checkpoint=("none", "{}"))
    assert store.last_seq() == at  # nothing of it was committed
    one = md5s(1, 2)[0]
    report = import_text(store, "iwf", f"signal_type,signal,id\nmd5,{one},after\n")
    if store.dialect == "postgresql":  # the rolled-back rows' numbers are gone for good
        assert report.first_seq is not None and report.first_seq - at > GAP_ROWS

    assert engine.refresh() == 1  # one row applied ...
    assert engine.indexes.loaded_from == "snapshot"  # ... and no rebuild
    assert engine.indexes.seq == store.last_seq()
    assert [m.entry for m in engine.match_signals([Signal("md5", one)])] == ["after"]
    # a process starting now loads the snapshot and applies the one row, likewise
    fresh = Engine(store, index_dir=tmp_path / "idx")
    assert fresh.indexes.loaded_from == "snapshot"
    assert [m.entry for m in fresh.match_signals([Signal("md5", one)])] == ["after"]
    assert store.count_changes_after(at, BACKLOG + 1) == 1


def test_a_real_backlog_is_still_rebuilt(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "REBUILD_BACKLOG", BACKLOG)
    store.create_bank("iwf")
    import_text(store, "iwf", f"signal_type,signal,id\nmd5,{md5s(1, 0)[0]},before\n")
    engine = Engine(store, index_dir=tmp_path / "idx")
    engine = Engine(store, index_dir=tmp_path / "idx")
    assert engine.indexes.loaded_from == "snapshot"
    listed = md5s(GAP_ROWS, 1)
    import_text(
        store,
        "iwf",
        "signal_type,signal,id\n" + "".join(f"md5,{h},big{i}\n" for i, h in enumerate(listed)),
    )
    engine.refresh()
    assert engine.indexes.loaded_from == "store"  # rebuilt: faster than replaying
    assert len(engine.match_signals([Signal("md5", listed[-1])])) == 1
