"""Verdicts in match answers, and GET/PUT /v1/policy: the built-in policy, a policy set
over HTTP taking effect, suppress banks, shadow and surface rules, the flood guard, and
refusals that change nothing. On SQLite and PostgreSQL, through the real app."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from hashguard.engine import Engine
from tests.api.conftest import Service
from tests.helpers import import_text

ORIGINAL = "pdq/bridge-mods/aaa-orig.jpg"

POLICY = """
suppress_banks = ["benign"]

[[rules]]
name = "iwf-close"
banks = ["iwf"]
signal_types = ["pdq"]
max_distance = 8
verdict = "report"

[[rules]]
name = "near"
signal_types = ["pdq"]
min_distance = 9
verdict = "review"

[[rules]]
name = "public-block"
surfaces = ["public_channel"]
verdict = "block"
mode = "shadow"
"""
TOML = {"content-type": "application/toml"}


def flipped(pdq: str, bits: int) -> str:
    value = int(pdq, 16) ^ ((1 << bits) - 1)
    return f"{value:064x}"


def check(service: Service, pdq: str, scope: str = "match:distance", **context: Any) -> Any:
    body = {"signals": [{"type": "pdq", "value": pdq}], **context}
    response = service.call("POST", "/v1/match", scope, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def counted(service: Service, metric: str, label: str) -> float:
    """A counter's value now (the figures are the process's, across tests: compare deltas)."""
    text = service.call("GET", "/metrics", "admin").text
    found = re.search(rf"^hashguard_{metric}_total{{{label}}} ([0-9.]+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


def put(service: Service, text: str, scope: str = "admin", **kwargs: Any) -> Any:
    return service.call("PUT", "/v1/policy", scope, content=text, headers=TOML, **kwargs)


def test_the_built_in_policy_answers_until_one_is_set(
    service: Service, original_pdq: str, testdata: Path
) -> None:
    upload = service.call(
        "POST", "/v1/match", "match",
        files={"file": ("a.jpg", (testdata / ORIGINAL).read_bytes(), "image/jpeg")},
    )  # fmt: skip
    body = upload.json()
    assert (body["verdict"], body["policy_version"]) == ("block", 0)
    assert body["list_seq"] == service.engine.seq > 0
    assert body["reasons"] == [
        {
            "rule": "pdq-close",
            "verdict": "block",
            "bank": "iwf",
            "entry": "x1",
            "signal_type": "pdq",
        }
    ]  # fmt: skip (a plain match key is not told the distance, in reasons either)
    assert check(service, flipped(original_pdq, 4))["reasons"][0]["distance"] == 4
    assert check(service, flipped(original_pdq, 12))["verdict"] == "review"
    miss = check(service, flipped(original_pdq, 64))
    assert (miss["verdict"], miss["reasons"], miss["matches"]) == ("allow", [], [])
    shown = service.call("GET", "/v1/policy", "admin").json()
    assert shown["version"] == 0 and shown["policy"]["rules"][0]["name"] == "exact"


def test_a_policy_set_over_http_is_in_force_at_once(service: Service, original_pdq: str) -> None:
    service.engine.store.create_bank("benign")
    response = put(service, POLICY)
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 1
    assert response.json()["actor"] == "key:test-admin"
    close = check(service, flipped(original_pdq, 8))
    assert (close["verdict"], close["policy_version"]) == ("report", 1)
    assert [r["rule"] for r in close["reasons"]] == ["iwf-close"]
    assert check(service, flipped(original_pdq, 9))["verdict"] == "review"
    # shadow: what a rule being tried would have done, never the verdict
    public = check(service, flipped(original_pdq, 12), surface="public_channel")
    assert public["verdict"] == "review"
    assert public["shadow"]["verdict"] == "block"
    assert public["shadow"]["reasons"][0]["mode"] == "shadow"
    assert public["context"] == {"surface": "public_channel"}
    assert "shadow" not in check(service, flipped(original_pdq, 12), surface="group")
    # the same picture in the known-benign bank cancels the match
    import_text(service.engine.store, "benign", f"signal_type,signal,id\npdq,{original_pdq},ok1\n")
    service.engine.refresh()
    before = counted(service, "suppressed", 'bank="benign"')
    reports = counted(service, "verdicts", 'verdict="allow"')
    benign = check(service, original_pdq)
    assert benign["verdict"] == "allow" and benign["reasons"] == []
    assert benign["suppressed"] == [{"bank": "benign", "entry": "ok1", "cancelled": 1}]
    assert len(benign["matches"]) == 2  # still shown: the platform sees why
    assert counted(service, "suppressed", 'bank="benign"') == before + 1
    assert counted(service, "verdicts", 'verdict="allow"') == reports + 1
    got = service.call("GET", "/v1/policy?history=5", "admin").json()
    assert got["version"] == 1 and got["policy"]["suppress_banks"] == ["benign"]
    assert got["history"] == []
    audit = service.call("GET", "/v1/audit", "admin").json()["records"]
    assert ("policy.set", "v1") in [(r["action"], r["target"]) for r in audit]


def test_a_second_engine_picks_the_new_policy_up_from_the_change_log(
    service: Service, original_pdq: str, tmp_path: Path
) -> None:
    other = Engine(service.engine.store, index_dir=tmp_path / "other")
    assert other.policy.version == 0
    refused = put(service, '[[rules]]\nname = "r"\nverdict = "review"\nbanks = ["nope"]\n')
    assert refused.status_code == 422
    other.refresh()
    assert other.policy.version == 0
    assert put(service, '[[rules]]\nname = "all"\nverdict = "review"\n').status_code == 200
    other.refresh()  # what the follower's round does in every other worker
    assert other.policy.version == 1
    found = other.match_signals([other.registry.parse("pdq", original_pdq)])
    assert other.decide(found).verdict.label == "review"


def test_refused_policies_change_nothing(service: Service, original_pdq: str) -> None:
    assert put(service, '[[rules]]\nname = "a"\nverdict = "block"\n').status_code == 200
    bad = put(
        service, '[[rules]]\nname = "a"\nverdict = "allow"\nbanks = ["nope"]\nmax_distanse = 3\n'
    )
    assert bad.status_code == 422
    error = bad.json()["error"]
    assert error["type"] == "PolicyRejected"
    for expected in ("rules[0].verdict", "rules[0].banks: no bank 'nope'", "rules[0].max_distanse"):
        assert expected in error["message"]
    syntax = put(service, '[[rules]]\nname = "a"\nverdict = block\n')
    assert syntax.status_code == 422 and "line 3" in syntax.json()["error"]["message"]
    as_json = service.call("PUT", "/v1/policy", "admin", json={"rules": 1})
    assert as_json.status_code == 422
    plain = service.call(
        "PUT", "/v1/policy", "admin", content="x", headers={"content-type": "text/plain"}
    )
    assert plain.status_code == 415
    dry = put(service, '[[rules]]\nname = "b"\nverdict = "review"\n', params={"dry_run": "true"})
    assert dry.status_code == 200 and dry.json()["valid"] is True
    assert service.call("GET", "/v1/policy", "admin").json()["version"] == 1
    assert check(service, original_pdq)["policy_version"] == 1


def test_only_admin_keys_read_or_set_the_policy(service: Service) -> None:
    for scope in ("match", "curate"):
        assert service.call("GET", "/v1/policy", scope).status_code == 403
        assert put(service, '[[rules]]\nname = "a"\nverdict = "block"\n', scope).status_code == 403
    assert service.client.get("/v1/policy").status_code == 401
    assert service.call("GET", "/v1/policy", "admin").json()["version"] == 0


def test_the_flood_guard_lowers_verdicts_past_a_rules_cap(
    service: Service, original_pdq: str
) -> None:
    capped = '[[rules]]\nname = "capped"\nverdict = "block"\ncap_per_hour = 2\n'
    assert put(service, capped).status_code == 200
    before = counted(service, "flood_capped", 'rule="capped"')
    verdicts = [check(service, original_pdq)["verdict"] for _ in range(3)]
    assert verdicts == ["block", "block", "review"]
    last = check(service, original_pdq)
    assert last["reasons"][0]["capped"] is True
    assert counted(service, "flood_capped", 'rule="capped"') == before + 2


def test_context_fields_are_checked(service: Service, original_pdq: str) -> None:
    signals = [{"type": "pdq", "value": original_pdq}]
    for field, value in (
        ("surface", "public channel"),
        ("surface", "x" * 65),
        ("event_time", "2026-12-01T10:00:00"),  # no time zone
        ("event_time", "2999-01-01T00:00:00Z"),
        ("event_time", "1999-12-31T23:59:59Z"),
        ("event_time", "yesterday"),
    ):
        body = {"signals": signals, field: value}
        response = service.call("POST", "/v1/match", "match", json=body)
        assert response.status_code == 422, (field, value)
        assert response.json()["error"]["message"].startswith(field)
    ok = check(service, original_pdq, event_time="2026-12-01T11:00:00+01:00", surface="group")
    assert ok["context"] == {"surface": "group", "event_time": "2026-12-01T10:00:00+00:00"}
    form = service.call(
        "POST", "/v1/match", "match",
        files={"file": ("a.bin", b"abc", "application/octet-stream")},
        data={"surface": "private chat"},
    )  # fmt: skip
    assert form.status_code == 422 and "surface" in form.json()["error"]["message"]
