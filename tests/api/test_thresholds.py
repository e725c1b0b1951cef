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


def test_thresholds_per_signal_type_over_http(service: Service) -> None:
    made = service.call("POST", "/v1/banks", json={"name": "per-type", "thresholds": {"pdq": 12}})
    assert made.status_code == 201, made.text
    assert made.json()["thresholds"] == {"pdq": 12} and made.json()["pdq_threshold"] == 12
    plain = service.call("POST", "/v1/banks", json={"name": "plain"}).json()
    assert plain["thresholds"] == {} and plain["pdq_threshold"] == 31  # PDQ's default
    for body, message in [
        ({"thresholds": {"md5": 1}}, "md5 signals match only when equal"),
        ({"thresholds": {"nope": 1}}, "unknown signal type 'nope'"),
        ({"thresholds": {"pdq": 64}}, "from 0 to 63"),
        ({"thresholds": {"pdq": 20}, "pdq_threshold": 21}, "two different PDQ thresholds"),
    ]:
        r = service.call("PATCH", "/v1/banks/per-type", json=body)
        assert r.status_code == 422 and message in r.json()["error"]["message"], r.text
    assert (
        service.call("PATCH", "/v1/banks/per-type", json={"thresholds": {"pdq": "x"}}).status_code
        == 422
    )
    assert service.call("GET", "/v1/banks/per-type").json()["thresholds"] == {"pdq": 12}
    reset = service.call("PATCH", "/v1/banks/per-type", json={"thresholds": {"pdq": None}})
    assert reset.json()["thresholds"] == {} and reset.json()["pdq_threshold"] == 31


def test_cli_sets_thresholds_per_signal_type(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--db", store.url]
    assert main([*db, "bank", "create", "wide", "--threshold", "pdq=40"]) == 0
    assert store.bank("wide").thresholds == {"pdq": 40}
    for bad, message in [
        ("md5=3", "md5 signals match only when equal"),
        ("nope=3", "unknown signal type 'nope'"),
        ("pdq=64", "from 0 to 63"),
        ("pdq", "must be TYPE=N"),
        ("pdq=many", "'many' is not a whole number"),
    ]:
        capsys.readouterr()
        with pytest.raises(SystemExit) as exited:
            main([*db, "bank", "update", "wide", "--threshold", bad])
        assert exited.value.code == 2 and message in capsys.readouterr().err
    assert store.bank("wide").thresholds == {"pdq": 40}
    assert main([*db, "bank", "update", "wide", "--threshold", "pdq=default"]) == 0
    assert store.bank("wide").thresholds == {}
