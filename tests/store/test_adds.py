"""Adding one entry through the row path (store/adds.py): the same outcome as a one-entry
list through the importer, and a group of adds written in one transaction, each failing
alone. On SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import itertools
from concurrent.futures import Future
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hashguard.errors import InvalidValue, NotFound
from hashguard.lists.rows import ListRow, entry_rows
from hashguard.signals.registry import default_registry
from hashguard.store.adds import Added, EntryAdd
from hashguard.store.store import Store

REGISTRY = default_registry()
VALUES = [
    ("md5", "0123456789abcdef0123456789abcdef", None),
    ("md5", "ffffffffffffffffffffffffffffffff", None),
    ("pdq", "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22", 30),
    ("pdq", "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22", 80),
    ("pdq", "58f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22", None),
]
_banks = itertools.count()


def rows_of(entry_id: str, signals: list[Any], metadata: dict[str, str]) -> list[ListRow]:
    rows, errors = entry_rows(entry_id, signals, metadata, REGISTRY)
    assert not errors
    return rows


def state(store: Store, bank: str) -> tuple[list[Any], list[Any]]:
    """The bank's entries and signals as exported, and its change log with entries and
    signals named (not numbered: the two banks' rows have different ids)."""
    exported = list(store.export_rows(bank, include_retracted=True))
    bank_id = store.bank(bank).id
    pks = {c.entry_pk for c in store.changes_after(0) if c.bank_id == bank_id}
    names = {pk: e.id for pk, e in store.entries([pk for pk in pks if pk]).items()}
    log = [
        (c.kind, names.get(c.entry_pk), c.signal_type, c.value)
        for c in store.changes_after(0)
        if c.bank_id == bank_id and c.kind != "bank"
    ]
    return exported, log


operation = st.one_of(
    st.tuples(
        st.just("add"),
        st.sampled_from(["e1", "e2"]),
        st.lists(st.sampled_from(VALUES), min_size=1, max_size=3),
        st.fixed_dictionaries(
            {}, optional={"category": st.sampled_from(["A", "B"]), "source": st.just("x")}
        ),
    ),
    st.tuples(st.just("retract"), st.sampled_from(["e1", "e2"]), st.none(), st.none()),
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(operation, min_size=1, max_size=6))
def test_row_path_equals_a_one_entry_list(store: Store, ops: list[Any]) -> None:
    n = next(_banks)
    listed, direct = f"listed{n}", f"direct{n}"
    store.create_bank(listed)
    store.create_bank(direct)
    for kind, entry_id, signals, metadata in ops:
        if kind == "retract":
            for bank in (listed, direct):
                with contextlib.suppress(NotFound):
                    store.retract_entry(bank, entry_id)
            continue
        rows = rows_of(entry_id, signals, metadata)
        want = store.import_rows(listed, rows, [], f"entry {entry_id}", action="entry.add")
        got, entry = store.add_entry(direct, rows)
        assert {**got.as_dict(), "bank": listed, "first_seq": 0, "last_seq": 0} == {
            **want.as_dict(), "first_seq": 0, "last_seq": 0,
        }  # fmt: skip
        if want.first_seq is None:
            assert got.first_seq is None
        else:
            assert got.last_seq - got.first_seq == want.last_seq - want.first_seq  # type: ignore[operator]
        stored = store.entry(direct, entry_id)
        assert entry == stored
    assert state(store, listed)[0] == state(store, direct)[0]
    assert state(store, listed)[1] == state(store, direct)[1]


def pending(store: Store, bank: str, entry_id: str, value: str) -> tuple[EntryAdd, Future[Added]]:
    rows = rows_of(entry_id, [("md5", value, None)], {"category": "A"})
    return EntryAdd(bank, tuple(rows), "test"), Future()


def test_a_group_of_adds_is_one_transaction_and_fails_one_by_one(store: Store) -> None:
    store.create_bank("own")
    before = store.last_seq()
    # Validation refuses a NUL before the store sees it; forged past it here, it is a row
    # the database itself refuses (PostgreSQL has no NUL in text), failing inside the group.
    add, future = pending(store, "own", "c", "c" * 32)
    forged = EntryAdd(add.bank, tuple(r._replace(id="c\x00") for r in add.rows), add.actor)
    batch = [
        pending(store, "own", "a", "a" * 32),
        pending(store, "gone", "b", "b" * 32),  # no such bank
        (forged, future),
        pending(store, "own", "d", "d" * 32),
    ]
    store._adds.write(batch)
    a, b, c, d = (future for _, future in batch)
    with pytest.raises(NotFound, match="no bank named 'gone'"):
        b.result(0)
    if store.dialect == "postgresql":
        with pytest.raises(InvalidValue, match="entry 'c\\\\x00' could not be stored"):
            c.result(0)
        landed = [a, d]
    else:
        landed = [a, c, d]
    reports = [f.result(0)[0] for f in landed]
    seqs = [(r.first_seq, r.last_seq) for r in reports]
    # one change each, in order (PostgreSQL's sequence skips the numbers rolled back)
    assert all(first == last for first, last in seqs)
    assert [c.seq for c in store.changes_after(before)] == [s for s, _ in seqs]
    assert store.entry("own", "d").signals[0].value == "d" * 32
    assert store._adds.batches == 1  # the good ones in one transaction, after the retries


def test_adds_submitted_together_share_transactions(store: Store) -> None:
    store.create_bank("own")
    futures = [
        store.submit_entry("own", rows_of(f"e{i}", [("md5", f"{i:032x}", None)], {}))
        for i in range(50)
    ]
    reports = [f.result(30)[0] for f in futures]
    assert sorted(r.first_seq for r in reports) == [c.seq for c in store.changes_after(1)]
    assert store._adds.batches < 50  # queued while the first committed: fewer transactions
    assert store.bank_counts() == {"own": {"active": 50}}


def test_a_group_of_new_and_known_ids_equals_one_entry_lists(store: Store) -> None:
    """New ids (one statement on PostgreSQL), a known id and a second add of a new one (row
    path after it) in one transaction: the same entries, reports and change log as lists."""
    for bank in ("grouped", "listed"):
        store.create_bank(bank)
        store.add_entry(bank, rows_of("known", [VALUES[0]], {}))
    specs = [
        ("n1", [VALUES[1]], {"category": "A"}),
        ("known", [VALUES[2]], {}),
        ("n1", [VALUES[4]], {"category": "A"}),
        ("n2", [VALUES[2], VALUES[3]], {}),
    ]
    before = store.audit.read()[-1]["id"]
    batch = [
        (EntryAdd("grouped", tuple(rows_of(*spec)), "test"), Future[Added]()) for spec in specs
    ]
    store._adds.write(batch)
    got = [future.result(0) for _, future in batch]
    # the last add of each id answers the entry as stored (n1's first add: before its second)
    for i in (1, 2, 3):
        assert got[i][1] == store.entry("grouped", specs[i][0])
    wants = [
        store.import_rows("listed", rows_of(*spec), [], f"entry {spec[0]}", action="entry.add")
        for spec in specs
    ]
    blank = {"bank": "-", "first_seq": 0, "last_seq": 0}
    assert [{**r.as_dict(), **blank} for r, _ in got] == [{**w.as_dict(), **blank} for w in wants]
    assert state(store, "grouped")[0] == state(store, "listed")[0]
    assert sorted(state(store, "grouped")[1]) == sorted(state(store, "listed")[1])
    # each add's audit record holds its own report, sequence numbers included
    records = [r for r in store.audit.read(after=before) if r["target"] == "grouped"]
    by_source = {r["detail"]["source"]: r["detail"] for r in records}
    assert len(records) == 4
    for (report, _), (entry_id, *_) in zip(got, specs, strict=True):
        if entry_id != "n1":
            assert by_source[f"entry {entry_id}"] == {
                "source": f"entry {entry_id}",
                **report.as_dict(),
            }
