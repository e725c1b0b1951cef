"""What a match key is told of a match: the entry and what its bank shows match keys; no
distance (nor the listed text expression) unless the key holds ``match:distance``."""

from __future__ import annotations

import pytest

from hashguard.access.api_keys import parse_scopes
from hashguard.cli import main
from hashguard.errors import InvalidValue
from hashguard.store.store import Store
from tests.api.conftest import Service
from tests.helpers import import_text

MD5 = "9e107d9d372bb6826bd81d3542a419d6"
LISTED = (
    "signal_type,signal,id,category,severity,note,source_url,reviewer\n"
    f"md5,{MD5},e1,A,high,seen twice,https://hotline.example/r/9,alice\n"
    "keyword,bluefalcon,kw-1,C,,a reviewer's remark,,bob\n"
)


def _match(service: Service, scope: str, body: dict[str, object], url: str = "/v1/match") -> list:
    response = service.call("POST", url, scope, json=body)
    assert response.status_code == 200, response.text
    return response.json()["matches"]  # type: ignore[no-any-return]


def test_match_fields_are_the_banks_choice(service: Service) -> None:
    import_text(service.engine.store, "iwf", LISTED)
    service.engine.refresh()
    body = {"signals": [{"type": "md5", "value": MD5}]}
    # default: what a platform acts on, no note, no other columns, no distance
    base = {"bank": "iwf", "entry": "e1", "signal_type": "md5"}
    assert _match(service, "match", body) == [{**base, "category": "A", "severity": "high"}]
    everything = {
        **base, "distance": 0, "category": "A", "severity": "high", "note": "seen twice",
        "extra": {"source_url": "https://hotline.example/r/9", "reviewer": "alice"},
    }  # fmt: skip
    assert _match(service, "admin", body) == [everything]  # may read the lists anyway
    assert service.call("GET", "/v1/banks/iwf", "curate").json()["match_fields"] == [
        "category",
        "severity",
    ]

    changed = service.call(
        "PATCH", "/v1/banks/iwf", json={"match_fields": ["severity", "extra.source_url"]}
    )
    assert changed.status_code == 200 and changed.json()["match_fields"] == [
        "severity",
        "extra.source_url",
    ]
    service.engine.refresh()
    shown = {**base, "severity": "high", "extra": {"source_url": "https://hotline.example/r/9"}}
    assert _match(service, "match", body) == [shown]
    assert _match(service, "match:distance", body) == [{**shown, "distance": 0}]

    service.call("PATCH", "/v1/banks/iwf", json={"match_fields": []})
    service.engine.refresh()
    assert _match(service, "match", body) == [base]
    bad = service.call("PATCH", "/v1/banks/iwf", json={"match_fields": ["signal"]})
    assert bad.status_code == 422 and "unknown match field 'signal'" in bad.text
    made = service.call("POST", "/v1/banks", json={"name": "ours", "match_fields": ["note"]})
    assert made.status_code == 201 and made.json()["match_fields"] == ["note"]
    audit = service.call("GET", "/v1/audit", "admin").json()["records"]
    assert {"match_fields": []} in [r["detail"] for r in audit if r["action"] == "bank.update"]


def test_text_matches_hide_what_was_listed(service: Service) -> None:
    import_text(service.engine.store, "iwf", LISTED)
    service.engine.refresh()
    body = {"text": "a BlueFalcon here"}
    [plain] = _match(service, "match", body, "/v1/match/text")
    assert plain == {
        "bank": "iwf", "entry": "kw-1", "signal_type": "keyword", "category": "C", "span": [2, 12],
    }  # fmt: skip
    [told] = _match(service, "match:distance", body, "/v1/match/text")
    assert told == {**plain, "distance": 0, "matched": "bluefalcon", "mode": "word"}


def test_several_matches_are_not_ranked_by_distance(service: Service, original_pdq: str) -> None:
    near = f"{int(original_pdq[:2], 16) ^ 0x0F:02x}{original_pdq[2:]}"  # 4 bits away
    service.call("POST", "/v1/banks", json={"name": "a-bank"})
    import_text(service.engine.store, "a-bank", f"signal_type,signal,id\npdq,{near},y1\n")
    service.engine.refresh()
    body = {"signals": [{"type": "pdq", "value": original_pdq}]}
    ranked = _match(service, "match:distance", body)
    assert [(m["entry"], m["distance"]) for m in ranked] == [("x1", 0), ("y1", 4)]
    assert [m["entry"] for m in _match(service, "match", body)] == ["y1", "x1"]  # by bank name


def test_distance_is_a_grant_on_top_of_match(store: Store) -> None:
    assert parse_scopes("match:distance,match") == ("match", "match:distance")
    with pytest.raises(InvalidValue, match="adds to 'match'"):
        parse_scopes(["match:distance"])


def test_cli_sets_match_fields(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", store.url, "bank", "create", "b", "--match-fields", "category,note"]) == 0
    assert '"match_fields": ["category", "note"]' in capsys.readouterr().out
    assert main(["--db", store.url, "bank", "update", "b", "--match-fields", ""]) == 0
    assert store.bank("b").match_fields == ()
    with pytest.raises(SystemExit):
        main(["--db", store.url, "bank", "update", "b", "--match-fields", "hash"])
    assert "unknown match field 'hash'" in capsys.readouterr().err
    assert main(["--db", store.url, "keys", "create", "--scope", "match:distance"]) == 2
