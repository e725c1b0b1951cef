"""The attack of issue 10 replayed over HTTP: from a copy a few bits off a listed PDQ hash,
four calls (the copy, then one bit flipped per batch item) recover the listed hash exactly if
each answer tells the distance. A default match key is not told it; and the probing detector
sees the star of near-identical queries, alerts (log, audit, metric) and blocks the key,
while ordinary traffic, re-encoded copies of listed images included, never trips it."""

from __future__ import annotations

import base64
import io
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from hashguard.api.server import ServeOptions
from hashguard.content import hash_content
from hashguard.store.store import Store
from tests.api.conftest import ORIGINAL, Service, make_service
from tests.helpers import import_text

OTHERS = [f"pdq/reg-test-input/labelme-subset/{n}" for n in ("q0291.jpg", "q0746.jpg", "q1050.jpg")]


def _flip(value: str, bits: list[int]) -> str:
    n = int(value, 16)
    for bit in bits:
        n ^= 1 << bit
    return f"{n:064x}"


def _batch(service: Service, scope: str, hashes: list[str]) -> Any:
    items = [{"signals": [{"type": "pdq", "value": h}]} for h in hashes]
    return service.call("POST", "/v1/match/batch", scope, json={"items": items})


def attack(service: Service, scope: str, start: str) -> tuple[str, list[Any]]:
    """The four calls. A flip that brings the match closer is a bit where the listed hash
    differs from ``start``; the hash so corrected is what the attacker recovers."""
    first = _batch(service, scope, [start])
    flips = [_flip(start, [bit]) for bit in range(256)]
    answers = [first] + [_batch(service, scope, flips[i : i + 100]) for i in (0, 100, 200)]
    told = first.json()["results"][0]["matches"][0].get("distance")
    wrong = []
    for answer, offset in zip(answers[1:], (0, 100, 200), strict=True):
        if answer.status_code != 200:
            continue
        for bit, item in enumerate(answer.json()["results"], offset):
            closer = [m for m in item.get("matches", []) if m.get("distance", 99) < (told or 0)]
            if closer:
                wrong.append(bit)
    return _flip(start, wrong), answers


def edge_attack(service: Service, scope: str, start: str) -> tuple[str, list[Any]]:
    """The attack told only "matched" or not, in four calls too: walk from ``start`` one bit
    at a time to the last copy that still matches (on the threshold's edge), then flip each
    bit of that copy; the flips that still match are the bits where the listed hash differs."""
    walk = [_flip(start, list(range(n + 1))) for n in range(100)]
    answers = [_batch(service, scope, walk)]
    found = [bool(r.get("matches")) for r in answers[0].json()["results"]]
    edge = walk[found.index(False) - 1]
    flips = [_flip(edge, [bit]) for bit in range(256)]
    answers += [_batch(service, scope, flips[i : i + 100]) for i in (0, 100, 200)]
    still = []
    for answer, offset in zip(answers[1:], (0, 100, 200), strict=True):
        if answer.status_code == 200:
            results = answer.json()["results"]
            still += [bit for bit, r in enumerate(results, offset) if r.get("matches")]
    return _flip(edge, still), answers


def _alarms_counted(service: Service, key: str) -> float:
    text = service.call("GET", "/metrics", "admin").text
    found = re.search(rf'hashguard_probing_alarms_total{{key="{key}"}} ([0-9.]+)', text)
    return float(found.group(1)) if found else 0.0


def _probing_audited(service: Service) -> list[dict[str, Any]]:
    records = service.call("GET", "/v1/audit", "admin").json()["records"]
    return [r for r in records if r["action"] == "key.probing"]


@pytest.fixture
def open_service(store: Store, tmp_path: Path, original_pdq: str) -> Iterator[Service]:
    """The usual service with the detector off: the attack as it worked before."""
    store.create_bank("iwf")
    import_text(store, "iwf", f"signal_type,signal,id,category\npdq,{original_pdq},x1,A\n")
    yield from make_service(store, tmp_path, ServeOptions(probe_limit=0))


def test_told_distances_the_four_calls_recover_the_listed_hash(
    open_service: Service, original_pdq: str
) -> None:
    start = _flip(original_pdq, [3, 77, 200])  # a copy 3 bits off
    recovered, answers = attack(open_service, "match:distance", start)
    assert len(answers) == 4 and all(a.status_code == 200 for a in answers)
    assert recovered == original_pdq  # what the detector and the hidden distance are for


def test_a_default_match_key_is_not_told_distances_and_is_blocked(
    service: Service, original_pdq: str, caplog: pytest.LogCaptureFixture
) -> None:
    before = _alarms_counted(service, "test-match")
    start = _flip(original_pdq, [3, 77, 200])
    with caplog.at_level(logging.WARNING, "hashguard.api.probing"):
        recovered, answers = attack(service, "match", start)
    assert recovered != original_pdq
    _, second, third, fourth = answers
    # (a) every match answered says which entry, never how close
    answered = [m for a in answers[:2] for r in a.json()["results"] for m in r.get("matches", [])]
    assert len(answered) == 32 and {m["entry"] for m in answered} == {"x1"}
    assert all("distance" not in m for m in answered)
    # (b) the 32nd flip raises the alarm (the start and 31 flips within 2 bits): it and the
    # rest of its batch are refused, and so is the key, with Retry-After, for the block
    results = second.json()["results"]
    assert all("matches" in r for r in results[:31])
    assert {r["error"]["type"] for r in results[31:]} == {"ProbingSuspected"}
    for refused in (third, fourth):
        assert refused.status_code == 429, refused.text
        assert refused.json()["error"]["type"] == "ProbingSuspected"
        assert 299 <= int(refused.headers["Retry-After"]) <= 300
    md5 = {"signals": [{"type": "md5", "value": "0" * 32}]}
    assert service.call("POST", "/v1/match", "match", json=md5).status_code == 429
    # ... other keys are not
    assert service.call("POST", "/v1/match", "match:distance", json=md5).status_code == 200
    [record] = _probing_audited(service)
    assert (record["actor"], record["target"]) == ("hashguard", "test-match")
    assert record["detail"]["near_queries"] == 32 and record["detail"]["entries"] == ["iwf/x1"]
    assert record["detail"]["blocked_s"] == 300
    assert _alarms_counted(service, "test-match") == before + 1
    [line] = [r for r in caplog.records if "probing" in r.getMessage()]
    assert line.levelno == logging.WARNING and "'test-match'" in line.getMessage()


def test_a_key_told_distances_is_watched_too(service: Service, original_pdq: str) -> None:
    recovered, answers = attack(service, "match:distance", _flip(original_pdq, [150, 230]))
    assert recovered != original_pdq
    assert [a.status_code for a in answers] == [200, 200, 429, 429]
    # the one-at-a-time form of the attack is refused in the same way
    flip = {"signals": [{"type": "pdq", "value": _flip(original_pdq, [200])}]}
    assert service.call("POST", "/v1/match", "match:distance", json=flip).status_code == 429


def test_told_only_matched_or_not_the_edge_walk_recovers_it_too(
    open_service: Service, original_pdq: str
) -> None:
    recovered, answers = edge_attack(open_service, "match", _flip(original_pdq, [3, 77, 200]))
    assert recovered == original_pdq  # hiding distances alone does not stop it
    assert len(answers) == 4


def test_the_edge_walk_is_blocked(service: Service, original_pdq: str) -> None:
    recovered, answers = edge_attack(service, "match", _flip(original_pdq, [3, 77, 200]))
    assert recovered != original_pdq
    assert [a.status_code for a in answers] == [200, 200, 429, 429]
    assert [r["target"] for r in _probing_audited(service)] == ["test-match"]


def _reencoded(path: Path, qualities: range, scales: tuple[float, ...]) -> list[bytes]:
    im = Image.open(path).convert("RGB")
    out = []
    for quality in qualities:
        for scale in scales:
            small = im.resize((int(im.width * scale), int(im.height * scale)))
            buf = io.BytesIO()
            small.save(buf, "JPEG", quality=quality)
            out.append(buf.getvalue())
    return out


def test_ordinary_traffic_never_trips_it(
    service: Service, testdata: Path, original_pdq: str
) -> None:
    rows = []
    for i, name in enumerate(OTHERS):
        pdq = hash_content((testdata / name).read_bytes()).pdq
        assert pdq is not None
        rows.append(f"pdq,{pdq.hex()},other-{i}")
    import_text(service.engine.store, "iwf", "signal_type,signal,id\n" + "\n".join(rows) + "\n")
    service.engine.refresh()
    # a listed image re-shared as it is, many times, and re-encoded 48 ways; three more
    # listed images re-encoded; other images
    uploads = [(testdata / ORIGINAL).read_bytes()] * 40
    uploads += _reencoded(testdata / ORIGINAL, range(30, 98, 9), (1.0, 0.9, 0.75, 0.6, 0.5, 0.4))
    for name in OTHERS:
        uploads += _reencoded(testdata / name, range(40, 98, 14), (1.0, 0.7, 0.5))
    uploads += [(p).read_bytes() for p in sorted((testdata / "pdq/bridge-mods").glob("*.jpg"))]
    matched = 0
    for i in range(0, len(uploads), 5):
        items = [{"content": base64.b64encode(u).decode()} for u in uploads[i : i + 5]]
        response = service.call("POST", "/v1/match/batch", "match", json={"items": items})
        assert response.status_code == 200, response.text
        for result in response.json()["results"]:
            assert "error" not in result, result
            matched += bool(result["matches"])
    assert matched > 100  # most of it matched a listed image
    listed = {"signals": [{"type": "pdq", "value": original_pdq}]}
    for _ in range(50):  # the platform sending the listed hash itself, again and again
        assert service.call("POST", "/v1/match", "match", json=listed).status_code == 200
    assert _probing_audited(service) == []
