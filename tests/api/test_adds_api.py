"""Adds arriving at once over the real HTTP app: each lands, durable when answered, with
change-log numbers of its own, and one that fails fails alone. SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from hashguard.store.store import Store
from tests.api.conftest import Service

CLIENTS = 12
EACH = 5


def test_concurrent_adds_all_land_each_durable_when_answered(service: Service, db_url: str) -> None:
    service.call("POST", "/v1/banks", json={"name": "own"})
    reader = Store(db_url, create=False)  # another connection pool: sees only what committed
    try:

        def client(n: int) -> list[tuple[int, dict[str, int]]]:
            out = []
            for i in range(EACH):
                entry_id = f"c{n}-{i}"
                bank = "nope" if (n, i) == (3, 2) else "own"
                signal = {"type": "md5", "value": f"{n:016x}{i:016x}"}
                body = {"id": entry_id, "signals": [signal]}
                r = service.call("POST", f"/v1/banks/{bank}/entries", json=body)
                if r.status_code == 201:
                    # Committed before the answer: a connection of its own finds it.
                    assert reader.entry("own", entry_id).signals[0].value == f"{n:016x}{i:016x}"
                out.append((r.status_code, r.json().get("report", {})))
            return out

        with ThreadPoolExecutor(CLIENTS) as pool:
            answers = [a for answers in pool.map(client, range(CLIENTS)) for a in answers]
    finally:
        reader.close()
    statuses = [status for status, _ in answers]
    assert statuses.count(404) == 1  # the add to a bank that does not exist, alone
    assert statuses.count(201) == CLIENTS * EACH - 1
    seqs = [r["first_seq"] for status, r in answers if status == 201]
    assert all(r["first_seq"] == r["last_seq"] for status, r in answers if status == 201)
    own = service.engine.store.bank("own").id
    logged = [c.seq for c in service.engine.store.changes_after(0) if c.bank_id == own][1:]
    assert sorted(seqs) == logged  # one change each, none shared, none missing
    assert service.engine.store.bank_counts()["own"] == {"active": CLIENTS * EACH - 1}
