"""A bank's PDQ threshold is bounded (0..MAX_THRESHOLD), and the work of a query is bounded
whatever the thresholds and however many entries are within reach."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hashguard.cli import main
from hashguard.errors import InvalidValue
from hashguard.index.live import HITS_PER_QUERY
from hashguard.signals.pdq import MAX_THRESHOLD
from hashguard.store.store import Store
from tests.api.conftest import Service, make_service
from tests.helpers import import_text

RNG = np.random.default_rng(11)


def near(base: np.ndarray, flips: int) -> str:
    """``base`` (256 bits) with ``flips`` distinct bits flipped, as hex."""
    bits = base.copy()
    bits[RNG.choice(256, flips, replace=False)] ^= 1
    return np.packbits(bits).tobytes().hex()


def test_thresholds_above_the_bound_are_refused(service: Service, store: Store) -> None:
    r = service.call("POST", "/v1/banks", json={"name": "wide", "pdq_threshold": 64})
    assert r.status_code == 422 and "pdq_threshold" in r.json()["error"]["message"]
    assert service.call("PATCH", "/v1/banks/iwf", json={"pdq_threshold": 100}).status_code == 422
    ok = service.call("POST", "/v1/banks", json={"name": "wide", "pdq_threshold": MAX_THRESHOLD})
    assert ok.status_code == 201
    with pytest.raises(InvalidValue, match=f"from 0 to {MAX_THRESHOLD}"):
        store.create_bank("wider", MAX_THRESHOLD + 1)
    with pytest.raises(InvalidValue):
        store.update_bank("iwf", pdq_threshold=128)


def test_cli_refuses_a_threshold_above_the_bound(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--db", store.url, "bank", "create", "wide", "--pdq-threshold", "128"])
    assert exited.value.code == 2
    assert f"from 0 to {MAX_THRESHOLD}" in capsys.readouterr().err
    assert main(["--db", store.url, "bank", "create", "wide", "--pdq-threshold", "63"]) == 0


def test_a_bank_at_the_bound_full_of_near_copies_still_answers(
    store: Store, tmp_path: Path
) -> None:
    """Every one of 40,000 entries within reach of the query: before the bound on the work,
    this read them all in one SQL statement (500: too many SQL variables)."""
    base = RNG.integers(0, 2, 256, dtype=np.uint8)
    query = np.packbits(base).tobytes().hex()
    store.create_bank("wide", MAX_THRESHOLD)
    store.create_bank("iwf")
    listed = ["signal_type,signal,id"]
    listed += [f"pdq,{near(base, 5 + n % 50)},w{n}" for n in range(40_000)]
    import_text(store, "wide", "\n".join(listed) + "\n")
    import_text(store, "iwf", f"signal_type,signal,id\npdq,{near(base, 3)},exact-ish\n")
    # imported before the service starts: it builds its index from the rows at start-up
    services = make_service(store, tmp_path)
    service = next(services)
    try:
        r = service.call(
            "POST",
            "/v1/match",
            "match:distance",
            json={"signals": [{"type": "pdq", "value": query}]},
        )
    finally:
        services.close()
    assert r.status_code == 200, r.text
    matches = r.json()["matches"]
    assert 0 < len(matches) <= HITS_PER_QUERY
    distances = [m["distance"] for m in matches]
    # the nearest ones: the iwf entry (3 bits) and the wide bank's closest (5 bits and up)
    assert ("iwf", "exact-ish", 3) in {(m["bank"], m["entry"], m["distance"]) for m in matches}
    assert max(distances) <= 5 + HITS_PER_QUERY // (40_000 // 50) + 1
