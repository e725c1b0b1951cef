"""Importing lists into banks, on SQLite, PostgreSQL and in memory: atomic, idempotent,
logged."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hashguard.errors import Conflict, InvalidValue, ListRejected, NotFound
from hashguard.lists.csv_format import csv_text
from hashguard.lists.rows import KNOWN
from hashguard.store.repositories import Repositories
from hashguard.store.store import _CHANGES_AFTER, RESTAT_AFTER, Store
from tests.helpers import import_text

MD5 = "0123456789abcdef0123456789abcdef"
MD5_B = "ffffffffffffffffffffffffffffffff"
PDQ = "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22"
LIST = (
    "signal_type,signal,id,category,source\n"
    f"md5,{MD5},item-1,A,hotline\n"
    f"pdq,{PDQ},item-1,A,hotline\n"
    f"md5,{MD5_B},item-2,B,\n"
)


def snapshot(repos: Repositories, bank: str = "iwf") -> list[dict[str, object]]:
    return list(repos.export_rows(bank, include_retracted=True))


def test_banks(repos: Repositories) -> None:
    repos.create_bank("iwf", pdq_threshold=20)
    with pytest.raises(Conflict, match="already exists"):
        repos.create_bank("iwf")
    with pytest.raises(InvalidValue, match="bad bank name"):
        repos.create_bank("no spaces please")
    with pytest.raises(InvalidValue, match="from 0 to 63"):
        repos.create_bank("other", pdq_threshold=300)
    with pytest.raises(NotFound, match="no bank named 'nope'"):
        repos.bank("nope")
    assert repos.update_bank("iwf", enabled=False, pdq_threshold=10).as_dict() == {
        "name": "iwf", "pdq_threshold": 10, "thresholds": {"pdq": 10}, "enabled": False,
        "match_fields": ["category", "severity"],
    }  # fmt: skip
    assert [c.kind for c in repos.changes_after(0)] == ["bank", "bank"]
    # what match keys see: kept, and logged as a bank change so every process picks it up
    assert repos.update_bank("iwf", match_fields=["note", "extra.url"]).match_fields == (
        "note",
        "extra.url",
    )
    assert repos.bank("iwf").match_fields == ("note", "extra.url")
    assert [c.kind for c in repos.changes_after(0)] == ["bank", "bank", "bank"]


def test_import_adds_entries_and_logs_each_signal(repos: Repositories) -> None:
    repos.create_bank("iwf")
    report = import_text(repos, "iwf", LIST)
    assert (report.rows, report.entries_added, report.signals_added) == (3, 2, 3)
    changes = repos.changes_after(1)
    assert [(c.kind, c.signal_type) for c in changes] == [
        ("add", "md5"),
        ("add", "pdq"),
        ("add", "md5"),
    ]
    assert [c.seq for c in changes] == sorted(c.seq for c in changes)
    assert (report.first_seq, report.last_seq) == (changes[0].seq, changes[-1].seq)
    entries = repos.entries([changes[0].entry_pk])  # type: ignore[list-item]
    entry = next(iter(entries.values()))
    assert entry.id == "item-1" and entry.category == "A" and entry.extra == {"source": "hotline"}
    assert {s.type for s in entry.signals} == {"md5", "pdq"}


def test_reimport_is_idempotent(repos: Repositories) -> None:
    repos.create_bank("iwf")
    import_text(repos, "iwf", LIST)
    seq = repos.last_seq()
    again = import_text(repos, "iwf", LIST)
    assert (again.entries_added, again.signals_added, again.metadata_updated) == (0, 0, 0)
    assert repos.last_seq() == seq


def test_a_bad_row_in_the_middle_changes_nothing(repos: Repositories) -> None:
    repos.create_bank("iwf")
    import_text(repos, "iwf", LIST)
    before, seq = snapshot(repos), repos.last_seq()
    bad = (
        "signal_type,signal,id,action\n"
        + "".join(f"md5,{i:032x},new-{i},add\n" for i in range(50))
        + "md5,not-hex,broken,add\n"
        + ",,item-1,retract\n"
        + "pdq,abcd,short,add\n"
    )
    with pytest.raises(ListRejected) as info:
        import_text(repos, "iwf", bad)
    assert [e.line for e in info.value.errors] == [52, 54]
    assert "nothing was imported" in info.value.message
    assert snapshot(repos) == before and repos.last_seq() == seq


def test_retract_and_reactivate(repos: Repositories) -> None:
    repos.create_bank("iwf")
    import_text(repos, "iwf", LIST)
    report = import_text(repos, "iwf", "signal_type,signal,id,action\n,,item-1,retract\n")
    assert report.retracted == 1
    kinds = [(c.kind, c.signal_type) for c in repos.changes_after(report.first_seq - 1)]  # type: ignore[operator]
    assert sorted(kinds) == [("retract", "md5"), ("retract", "pdq")]
    # retraction by signal alone reaches an entry that was listed with an id
    by_signal = import_text(repos, "iwf", f"signal_type,signal,action\nmd5,{MD5_B},retract\n")
    assert by_signal.retracted == 1
    assert all(r.get("action") == "retract" for r in snapshot(repos))
    back = import_text(repos, "iwf", LIST)
    assert (back.reactivated, back.entries_added) == (2, 0)
    assert not any("action" in r for r in snapshot(repos))


def test_last_row_for_an_entry_wins(repos: Repositories) -> None:
    repos.create_bank("iwf")
    report = import_text(
        repos, "iwf",
        f"signal_type,signal,id,action\nmd5,{MD5},a,add\n,,a,retract\nmd5,{MD5_B},b,retract\n"
        f"md5,{MD5_B},b,add\n",
    )  # fmt: skip
    assert report.entries_added == 1
    assert [r["id"] for r in snapshot(repos)] == ["b"]


def test_metadata_changes_are_applied_and_logged(repos: Repositories) -> None:
    repos.create_bank("iwf")
    import_text(repos, "iwf", LIST)
    report = import_text(repos, "iwf", LIST.replace("item-1,A", "item-1,C"))
    assert report.metadata_updated == 1 and report.signals_added == 0
    assert repos.changes_after(report.first_seq - 1)[0].kind == "update"  # type: ignore[operator]
    assert {r["category"] for r in snapshot(repos) if r["id"] == "item-1"} == {"C"}


def test_banks_are_separate(repos: Repositories) -> None:
    repos.create_bank("iwf")
    repos.create_bank("ncmec")
    import_text(repos, "iwf", LIST)
    assert snapshot(repos, "ncmec") == []
    assert import_text(repos, "ncmec", LIST).entries_added == 2
    assert repos.bank_counts() == {"iwf": {"active": 2}, "ncmec": {"active": 2}}


def test_low_quality_pdq_entries_are_counted(repos: Repositories) -> None:
    repos.create_bank("iwf")
    report = import_text(repos, "iwf", f"signal_type,signal,quality\npdq,{PDQ},20\n")
    assert report.low_quality == 1


rows_strategy = st.lists(
    st.tuples(
        st.sampled_from(["md5", "sha1", "pdq"]),
        st.binary(min_size=32, max_size=32),
        st.sampled_from(["", "A", "B", "C"]),
        st.text(
            alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12
        ),
    ),
    min_size=1,
    max_size=25,
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=rows_strategy)
def test_export_then_import_round_trips(
    repos: Repositories, rows: list[tuple[str, bytes, str, str]]
) -> None:
    width = {"md5": 16, "sha1": 20, "pdq": 32}
    text = csv_text(
        (
            {
                "signal_type": t,
                "signal": v[: width[t]].hex(),
                "id": f"e{i % 7}",
                "category": c,
                "note": n,
            }
            for i, (t, v, c, n) in enumerate(rows)
        ),
        [],
    )
    name = f"b{repos.last_seq()}"
    repos.create_bank(name)
    import_text(repos, name, text)
    exported = list(repos.export_rows(name))
    copy = f"{name}c"
    repos.create_bank(copy)
    out = io.StringIO()
    extra = sorted({k for r in exported for k in r} - set(KNOWN))
    csv.DictWriter(out, fieldnames=[*KNOWN, *extra], lineterminator="\n").writeheader()
    import_text(repos, copy, csv_text(exported, extra))
    assert list(repos.export_rows(copy)) == exported


def test_bulk_import_rebuilds_the_value_index(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import inspect

    from hashguard.store import importer

    monkeypatch.setattr(importer, "BULK_ROWS", 10)
    store.create_bank("iwf")
    rows = "".join(f"md5,{i:032x},e{i}\n" for i in range(40))
    assert import_text(store, "iwf", "signal_type,signal,id\n" + rows).signals_added == 40
    indexes = {i["name"] for i in inspect(store.engine).get_indexes("hg_entry_signals")}
    assert importer.VALUE_INDEX in indexes
    # the rebuilt index serves retractions by signal
    report = import_text(store, "iwf", f"signal_type,signal,action\nmd5,{7:032x},retract\n")
    assert report.retracted == 1


def _rows_expected(node: dict[str, Any], relation: str) -> float:
    if node.get("Relation Name") == relation:
        return float(node["Plan Rows"])
    return min((_rows_expected(n, relation) for n in node.get("Plans", [])), default=1e18)


def test_a_large_import_refreshes_the_planner_statistics(pg_url: str) -> None:
    """Without fresh statistics PostgreSQL guesses a third of the log follows any sequence
    number, and at 20,000 entries hash-joins both whole tables on every follower round."""
    store = Store(pg_url)
    try:
        store.create_bank("big")
        rows = "".join(f"md5,{i:032x},e{i}\n" for i in range(RESTAT_AFTER))
        report = import_text(store, "big", "signal_type,signal,id\n" + rows)
        assert report.last_seq is not None
        follower_query = _CHANGES_AFTER.params(seq=report.last_seq - 5, limit=100_000)
        with store.engine.connect() as conn:
            sql = follower_query.compile(conn, compile_kwargs={"literal_binds": True})
            plan = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sql}").scalar()
        # The planner expects the 5 changes there are, not a guessed share of the log.
        assert _rows_expected(plan[0]["Plan"], "hg_changes") <= 50, json.dumps(plan)
    finally:
        store.close()
