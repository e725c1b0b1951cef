"""Adds of new entries on PostgreSQL, a whole group in one statement.

The row path (:func:`~hashguard.store.adds.write_entry`) costs five round trips per add
(look up the id, insert the entry, its signal, its change, its audit record), and on
PostgreSQL a round trip is most of an add's time. Most adds are of an id the bank does not
hold yet, and for those nothing needs reading first: one statement with data-modifying CTEs
inserts every such entry of the group, its signals, their change-log rows (in the order the
row path would write them) and the audit records, and returns each entry's first and last
sequence number. An id that is already there conflicts, comes back without a row, and the
caller writes it through the row path after.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Integer, Text

_INTS = ("n_i", "n_bank_id", "s_i", "s_quality")
_TEXTS = (
    "n_key", "n_category", "n_severity", "n_note", "n_extra", "n_actor", "n_action", "n_target",
    "n_detail", "s_type", "s_value",
)  # fmt: skip

# :n_* the group's new entries, :s_* their signals; ``i`` is the add's place in the group.
_WRITE_NEW = text("""
WITH n AS (
    SELECT * FROM unnest(:n_i, :n_bank_id, :n_key, :n_category, :n_severity, :n_note, :n_extra,
                         :n_actor, :n_action, :n_target, :n_detail)
        AS n (i, bank_id, key, category, severity, note, extra, actor, action, target, detail)
), s AS (
    SELECT * FROM unnest(:s_i, :s_type, :s_value, :s_quality) WITH ORDINALITY
        AS s (i, signal_type, value, quality, o)
), e AS (
    INSERT INTO hg_entries (bank_id, source_id, status, category, severity, note, extra)
    SELECT bank_id, key, 'active', category, severity, note, extra FROM n ORDER BY i
    ON CONFLICT (bank_id, source_id) DO NOTHING
    RETURNING id, bank_id, source_id
), new AS (
    SELECT n.*, e.id FROM n JOIN e ON e.bank_id = n.bank_id AND e.source_id = n.key
), sig AS (
    INSERT INTO hg_entry_signals (entry_id, signal_type, value, quality)
    SELECT new.id, s.signal_type, s.value, s.quality FROM s JOIN new USING (i) ORDER BY s.o
    RETURNING id, entry_id
), c AS (
    INSERT INTO hg_changes (kind, bank_id, entry_id, signal_id)
    SELECT 'add', new.bank_id, sig.entry_id, sig.id
    FROM sig JOIN new ON new.id = sig.entry_id ORDER BY sig.id
    RETURNING seq, entry_id
), seqs AS (
    SELECT entry_id, min(seq) AS first_seq, max(seq) AS last_seq FROM c GROUP BY entry_id
), a AS (
    INSERT INTO hg_audit (actor, action, target, detail)
    SELECT new.actor, new.action, new.target, (new.detail::jsonb || jsonb_build_object(
        'first_seq', seqs.first_seq, 'last_seq', seqs.last_seq))::text
    FROM new JOIN seqs ON seqs.entry_id = new.id ORDER BY new.i
)
SELECT new.i, new.id, seqs.first_seq, seqs.last_seq FROM new JOIN seqs ON seqs.entry_id = new.id
""").bindparams(
    *(bindparam(p, type_=ARRAY(Integer)) for p in _INTS),
    *(bindparam(p, type_=ARRAY(Text)) for p in _TEXTS),
)


class NewEntry(NamedTuple):
    """One add of an id its bank may not hold: the entry, its signals in the order the row
    path inserts them, and its audit record (``detail`` without the sequence numbers)."""

    i: int
    bank_id: int
    key: str
    category: str | None
    severity: str | None
    note: str | None
    extra: str | None
    actor: str
    action: str
    target: str
    detail: str
    signals: tuple[tuple[str, str, int | None], ...]


def write_new(conn: Connection, group: Sequence[NewEntry]) -> dict[int, tuple[int, int, int]]:
    """Write the entries of ``group`` whose id their bank does not hold (each id at most once
    in the group); for each written, by ``i``: its primary key and first and last sequence
    number. The caller holds the change-log lock."""
    columns = NewEntry._fields[:-1]
    params: dict[str, list[Any]] = {f"n_{c}": [getattr(g, c) for g in group] for c in columns}
    signals = [(g.i, *signal) for g in group for signal in g.signals]
    by_column = zip(*signals, strict=True)
    for name, values in zip(("s_i", "s_type", "s_value", "s_quality"), by_column, strict=True):
        params[name] = list(values)
    return {r.i: (r.id, r.first_seq, r.last_seq) for r in conn.execute(_WRITE_NEW, params)}
