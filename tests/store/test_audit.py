"""The audit log is append-only, whatever statement tries to rewrite it."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError

from hashguard.store.store import Store

REWRITES = [
    "UPDATE hg_audit SET actor = 'someone else'",
    "DELETE FROM hg_audit",
    "TRUNCATE hg_audit",  # PostgreSQL only: SQLite has no TRUNCATE
]


@pytest.mark.parametrize("statement", REWRITES)
def test_the_audit_log_refuses_rewrites(store: Store, statement: str) -> None:
    if statement.startswith("TRUNCATE") and store.dialect != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    store.create_bank("iwf", actor="cli:alice")
    with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
        conn.exec_driver_sql(statement)
    rows = store.audit.read()
    assert [(r["actor"], r["action"]) for r in rows] == [("cli:alice", "bank.create")]
