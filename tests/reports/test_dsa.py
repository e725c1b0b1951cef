"""DSA statements of reasons: built from a day's restrictions (a block by the platform's
own bank, a held item a reviewer confirmed), checked by the schema's rules, and sent to a
local Transparency Database (tests/reports/dsa_server.py, the documented API on loopback,
with its own copy of the rules): once, whatever is retried or sent again. Real app, real
store, real images."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from hashguard.cli.main import main
from hashguard.errors import ConfigError, InvalidValue
from hashguard.reports import dsa_client
from hashguard.reports.dsa import DsaSettings, as_jsonl, statements, validate
from hashguard.reports.dsa_client import DsaError, TransparencyDatabase, submit
from hashguard.reports.options import ReportOptions, load_profile, split_profile
from hashguard.store.dsa_table import DsaStatements
from tests.console.conftest import POLICY, Console, wait_for
from tests.reports.conftest import PROFILE, confirm
from tests.reports.dsa_server import TOKEN, DsaServer, problems

REQUIRED = ["decision_ground", "content_type", "category", "content_date", "application_date",
            "decision_facts", "source_type", "automated_detection", "automated_decision",
            "puid"]  # fmt: skip


@pytest.fixture
def server() -> Iterator[DsaServer]:
    s = DsaServer()
    yield s
    s.close()


def _today() -> date:
    return datetime.now(UTC).date()


def _restrict(c: Console) -> tuple[int, int]:
    """A held item confirmed by a lead, then the same image blocked by the platform's own
    bank: the held item's id and the block's match id. (Under the reporting policy a
    report verdict outranks the block: here near copies are held for review.)"""
    c.store.policies.set(POLICY, actor="test")
    c.engine.reload_policy()
    assert c.upload("sharpen-a-little.jpg", "c1", "chat-1")["verdict"] == "review"
    (item,) = [i.id for i in c.store.reviews.queue()]
    confirm(c, item)
    wait_for(lambda: c.engine.seq >= c.store.last_seq())
    blocked = c.upload("sharpen-a-little.jpg", "c2", "chat-2")
    assert blocked["verdict"] == "block"
    return item, int(blocked["match_id"])


def _all(c: Console, settings: DsaSettings | None = None) -> list[dict[str, Any]]:
    return list(statements(c.store, _today(), _today(), settings or DsaSettings()))


def _api(server: DsaServer, token: str = TOKEN) -> TransparencyDatabase:
    return TransparencyDatabase(server.url, token, retries=2, backoff=0.01)


def _options(server: DsaServer, tmp_path: Path) -> ReportOptions:
    token = tmp_path / "dsa.token"
    token.write_text(TOKEN + "\n")
    token.chmod(0o600)
    return ReportOptions(profile=PROFILE, dsa_url=server.url, dsa_token_file=token)


def _statement() -> dict[str, Any]:
    return {
        "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"],
        "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
        "illegal_content_legal_ground": "Directive 2011/93/EU, Article 5",
        "illegal_content_explanation": "A known item of child sexual abuse material.",
        "content_type": ["CONTENT_TYPE_IMAGE"],
        "category": "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
        "category_specification": ["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"],
        "content_date": "2026-12-01",
        "application_date": "2026-12-02",
        "decision_facts": "hashguard removed the content automatically.",
        "source_type": "SOURCE_VOLUNTARY",
        "automated_detection": "Yes",
        "automated_decision": "AUTOMATED_DECISION_FULLY",
        "puid": "hg-m1",
    }


def test_a_days_statements_build_validate_and_are_all_accepted(
    reporting: Console, server: DsaServer, tmp_path: Path
) -> None:
    c = reporting
    item, match_id = _restrict(c)
    found = _all(c)
    by_puid = {s["puid"]: s for s in found}
    assert set(by_puid) == {f"hg-m{match_id}", f"hg-r{item}"}
    blocked, reviewed = by_puid[f"hg-m{match_id}"], by_puid[f"hg-r{item}"]
    for s in found:
        validate(s)
        assert problems(s) == {}  # the server's own reading of the rules agrees
        assert s["content_type"] == ["CONTENT_TYPE_IMAGE"]  # pdq matched: an image
        assert s["content_date"] == s["application_date"] == _today().isoformat()
        assert s["automated_detection"] == "Yes" and s["source_type"] == "SOURCE_VOLUNTARY"
        assert s["category"] == "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"
    assert blocked["automated_decision"] == "AUTOMATED_DECISION_FULLY"
    assert reviewed["automated_decision"] == "AUTOMATED_DECISION_PARTIALLY"
    assert f"list entry review-{item} of bank confirmed" in blocked["decision_facts"]
    assert "list entry x1 of bank iwf (pdq at distance 6)" in reviewed["decision_facts"]
    assert "reviewer confirmed" in reviewed["decision_facts"]
    # hashes are not facts about the decision: none of the content's is in a statement
    record = c.store.match_log.records(after=match_id - 1, limit=1)[0]
    text = json.dumps(found)
    assert record["signals"]["md5"] not in text and record["signals"]["sha256"] not in text
    # another day has none
    assert list(statements(c.store, date(2025, 1, 1), date(2025, 1, 2), DsaSettings())) == []

    counts = submit(c.store, iter(found), _options(server, tmp_path), api=_api(server))
    assert counts == {"sent": 2, "skipped": 0, "failed": 0}
    assert set(server.held) == set(by_puid) and server.batches == [2]
    for puid, held in server.held.items():
        row = DsaStatements(c.store.engine).get(puid)
        assert row is not None and row["uuid"] == held["uuid"]
        assert row["permalink"] == held["permalink"]
    reviewed_row = DsaStatements(c.store.engine).get(f"hg-r{item}")
    assert reviewed_row is not None and reviewed_row["review_id"] == item

    # sent again: nothing reaches the database
    calls = len(server.calls)
    again = submit(c.store, _all(c), _options(server, tmp_path), api=_api(server))
    assert again == {"sent": 0, "skipped": 2, "failed": 0} and len(server.calls) == calls


@pytest.mark.parametrize("name", REQUIRED)
def test_a_statement_missing_a_required_field_is_refused_naming_it(name: str) -> None:
    s = _statement()
    validate(s)
    del s[name]
    with pytest.raises(InvalidValue, match=rf"^{name}: required"):
        validate(s)
    assert name in problems(s)  # the server refuses it too, for that field


def test_restrictions_grounds_and_their_texts_are_required() -> None:
    s = _statement()
    del s["decision_visibility"]
    with pytest.raises(InvalidValue, match=r"^decision_visibility: required when none"):
        validate(s)
    validate({**s, "decision_account": "DECISION_ACCOUNT_SUSPENDED"})
    for field in ("illegal_content_legal_ground", "illegal_content_explanation"):
        with pytest.raises(InvalidValue, match=rf"^{field}: required"):
            validate({k: v for k, v in _statement().items() if k != field})
    incompatible = {**_statement(), "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT"}
    with pytest.raises(InvalidValue, match=r"^incompatible_content_ground: required"):
        validate(incompatible)
    with pytest.raises(InvalidValue, match=r"^illegal_content_explanation: at most 2000"):
        validate({**_statement(), "illegal_content_explanation": "x" * 2001})
    with pytest.raises(InvalidValue, match=r"^decision_facts: at most 5000"):
        validate({**_statement(), "decision_facts": "x" * 5001})
    with pytest.raises(InvalidValue, match=r"^puid: up to 500"):
        validate({**_statement(), "puid": "hg m1"})
    with pytest.raises(InvalidValue, match=r"^automated_decision: 'FULLY'"):
        validate({**_statement(), "automated_decision": "FULLY"})
    with pytest.raises(InvalidValue, match=r"^colour: not a field"):
        validate({**_statement(), "colour": "red"})


@pytest.mark.parametrize(
    ("field", "value", "other"),
    [
        ("decision_visibility", ["DECISION_VISIBILITY_OTHER"], "decision_visibility_other"),
        ("content_type", ["CONTENT_TYPE_IMAGE", "CONTENT_TYPE_OTHER"], "content_type_other"),
        ("decision_monetary", "DECISION_MONETARY_OTHER", "decision_monetary_other"),
        ("category_specification", ["KEYWORD_OTHER"], "category_specification_other"),
    ],
)
def test_an_other_value_needs_its_text(field: str, value: Any, other: str) -> None:
    s = {**_statement(), field: value}
    with pytest.raises(InvalidValue, match=rf"^{other}: required"):
        validate(s)
    assert other in problems(s)
    validate({**s, other: "hash-matched against a shared list"})


def test_territories_dates_and_keywords_follow_the_schema() -> None:
    validate({**_statement(), "territorial_scope": ["GR", "IS", "LI", "NO", "DE"]})
    for bad in (["EL"], ["UK"], ["CH"], "DE"):
        s = {**_statement(), "territorial_scope": bad}
        with pytest.raises(InvalidValue, match=r"^territorial_scope: "):
            validate(s)
        assert "territorial_scope" in problems(s)
    for field, value, why in (
        ("content_date", "1999-12-31", "before 2000-01-01"),
        ("application_date", "2019-12-31", "before 2020-01-01"),
        ("application_date", "2038-01-02", "after 2038-01-01"),
        ("content_date", "2026-1-02", "a date YYYY-MM-DD"),
        ("content_date", "2026-02-30", "a date YYYY-MM-DD"),
        ("application_date", "2026-11-30", "before content_date 2026-12-01"),
    ):
        s = {**_statement(), field: value}
        with pytest.raises(InvalidValue, match=rf"^{field}: .*{why}"):
            validate(s)
        assert field in problems(s)
    # a keyword of another category is not one of protection of minors
    s = {**_statement(), "category_specification": ["KEYWORD_NUDITY"]}
    with pytest.raises(InvalidValue, match=r"^category_specification: 'KEYWORD_NUDITY'"):
        validate(s)
    assert "category_specification" in problems(s)
    validate({**s, "category": "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"})


def test_the_profiles_dsa_section_is_read_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "profile.toml"
    path.write_text(
        'espService = "Example Messenger"\n[dsa]\nterritorial_scope = ["AT", "GR"]\n'
        'decision_visibility = ["DECISION_VISIBILITY_CONTENT_DISABLED"]\n'
        'legal_ground = "StGB section 184b"\n'
    )
    profile, settings = split_profile(load_profile(path))
    assert profile == {"espService": "Example Messenger"}
    assert settings.territorial_scope == ("AT", "GR") and settings.legal_ground.endswith("184b")
    for section, why in (
        ('territorial_scope = ["EL"]', "territorial_scope: 'EL'"),
        ('decision_visibility = ["DECISION_VISIBILITY_OTHER"]', "decision_visibility_other"),
        ('colour = "red"', "no key 'colour'"),
        ("source_type = 1", "source_type: a string"),
        ('legal_ground = ""', "illegal_content_legal_ground: required"),
    ):
        path.write_text(f"[dsa]\n{section}\n")
        with pytest.raises(ConfigError, match=why):
            load_profile(path)
    token = tmp_path / "token"
    token.write_text("secret\n")
    token.chmod(0o644)
    with pytest.raises(ConfigError, match="owner only"):
        ReportOptions(dsa_token_file=token).dsa_token()
    token.chmod(0o600)
    assert ReportOptions(dsa_token_file=token).dsa_token() == "secret"


def test_puids_the_database_holds_already_are_checked_and_recorded(
    reporting: Console, server: DsaServer, tmp_path: Path
) -> None:
    c = reporting
    item, match_id = _restrict(c)
    found = _all(c)
    mine = next(s for s in found if s["puid"] == f"hg-r{item}")
    # sent before by another route (the web form, an earlier install): the API holds it
    r = httpx.post(f"{server.url}/api/v1/statement", json=mine,
                   headers={"Authorization": f"Bearer {TOKEN}"})  # fmt: skip
    assert r.status_code == 201, r.text
    counts = submit(c.store, found, _options(server, tmp_path), api=_api(server))
    assert counts == {"sent": 1, "skipped": 1, "failed": 0}
    assert f"GET /api/v1/statement/existing-puid/hg-r{item}" in server.calls
    assert server.batches == [1]  # the rest of the batch, sent again without it
    assert DsaStatements(c.store.engine).known([f"hg-r{item}", f"hg-m{match_id}"]) == {
        f"hg-r{item}", f"hg-m{match_id}",
    }  # fmt: skip


def test_server_errors_are_retried_and_a_batch_failing_for_good_waits_for_the_next_run(
    reporting: Console, server: DsaServer, tmp_path: Path
) -> None:
    c = reporting
    _restrict(c)
    options = _options(server, tmp_path)
    server.faults = ["500", "drop", "500", "500"]  # three attempts: all fail
    assert submit(c.store, _all(c), options, api=_api(server)) == {
        "sent": 0, "skipped": 0, "failed": 2,
    }  # fmt: skip
    assert server.held == {} and DsaStatements(c.store.engine).known(
        s["puid"] for s in _all(c)) == set()  # fmt: skip
    server.faults = ["503", "drop"]  # then the third attempt goes through
    assert submit(c.store, _all(c), options, api=_api(server)) == {
        "sent": 2, "skipped": 0, "failed": 0,
    }  # fmt: skip
    assert len(server.held) == 2 and server.batches == [2]
    with pytest.raises(DsaError, match="token was refused"):
        TransparencyDatabase(server.url, "wrong", retries=0).create([_statement()])


def test_a_refusal_by_the_database_names_the_statement_and_field(
    reporting: Console, server: DsaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = reporting
    item, _ = _restrict(c)
    found = _all(c)
    broken = next(s for s in found if s["puid"] == f"hg-r{item}")
    broken["territorial_scope"] = ["EL"]
    with pytest.raises(InvalidValue, match=f"statement hg-r{item}: territorial_scope: 'EL'"):
        submit(c.store, found, _options(server, tmp_path), api=_api(server))
    assert server.calls == []  # refused here, before anything was sent
    monkeypatch.setattr(dsa_client, "validate", lambda s: None)  # as if the rules had changed
    index = found.index(broken)
    with pytest.raises(InvalidValue, match=rf"statement hg-r{item} \(statement_{index}\): "
                       "territorial_scope: The selected"):  # fmt: skip
        submit(c.store, found, _options(server, tmp_path), api=_api(server))
    assert server.held == {}  # all or nothing: the valid one was not created either


def test_statements_go_in_batches_of_at_most_100(
    reporting: Console, server: DsaServer, tmp_path: Path
) -> None:
    c = reporting
    many = [{**_statement(), "puid": f"hg-m{n}"} for n in range(1, 251)]
    counts = submit(c.store, iter(many), _options(server, tmp_path), api=_api(server))
    assert counts == {"sent": 250, "skipped": 0, "failed": 0}
    assert server.batches == [100, 100, 50]
    assert DsaStatements(c.store.engine).get("hg-m250")["match_id"] == 250  # type: ignore[index]
    again = submit(c.store, iter(many), _options(server, tmp_path), api=_api(server))
    assert again == {"sent": 0, "skipped": 250, "failed": 0} and server.batches == [100, 100, 50]


def test_the_api_streams_json_lines_and_submits(
    reporting: Console, server: DsaServer, tmp_path: Path
) -> None:
    c = reporting
    item, match_id = _restrict(c)
    auth = {"Authorization": f"Bearer {c.compliance}"}  # type: ignore[attr-defined]
    day = _today().isoformat()
    r = c.client.get("/v1/dsa/statements", params={"since": day, "until": day}, headers=auth)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/jsonl")
    lines = r.text.splitlines()
    assert [json.loads(line)["puid"] for line in lines] == [f"hg-m{match_id}", f"hg-r{item}"]
    assert r.text == "".join(as_jsonl(_all(c)))
    platform = {"Authorization": f"Bearer {c.key}"}
    assert c.client.get("/v1/dsa/statements", params={"since": day, "until": day},
                        headers=platform).status_code == 403  # fmt: skip
    for since, until in (
        (day, (_today() - timedelta(days=1)).isoformat()),
        ("2026-01-01", "2036-12-31"),
        ("yesterday", day),
        ("9999-12-31", "9999-12-31"),
    ):
        bad = c.client.get("/v1/dsa/statements", params={"since": since, "until": until},
                           headers=auth)  # fmt: skip
        assert bad.status_code == 422, (since, until, bad.text)

    body = {"since": day, "until": day}
    r = c.client.post("/v1/dsa/submit", json=body, headers=auth)
    assert r.status_code == 409 and "HASHGUARD_DSA_URL" in r.text
    c.app.state.reporting = _options(server, tmp_path)
    r = c.client.post("/v1/dsa/submit", json=body, headers=auth)
    assert r.status_code == 200, r.text
    assert r.json() == {"sent": 2, "skipped": 0, "failed": 0} and len(server.held) == 2
    r = c.client.post("/v1/dsa/submit", json=body, headers=auth)
    assert r.json() == {"sent": 0, "skipped": 2, "failed": 0}
    assert c.client.post("/v1/dsa/submit", json={**body, "x": 1}, headers=auth).status_code == 422


def test_the_cli_exports_and_submits(
    reporting: Console, server: DsaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    c = reporting
    item, match_id = _restrict(c)
    profile = tmp_path / "profile.toml"
    profile.write_text('[dsa]\nterritorial_scope = ["GR", "NO"]\n')
    options = _options(server, tmp_path)
    (tmp_path / "none.toml").write_text("")
    monkeypatch.setenv("HASHGUARD_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("HASHGUARD_REPORTING_FILE", str(profile))
    monkeypatch.setenv("HASHGUARD_DSA_URL", server.url)
    monkeypatch.setenv("HASHGUARD_DSA_TOKEN_FILE", str(options.dsa_token_file))
    day = _today().isoformat()
    out = tmp_path / "statements.jsonl"
    args = ["--db", c.store.url, "dsa", "export", "--since", day, "--until", day]
    assert main([*args, "--out", str(out)]) == 0
    exported = [json.loads(line) for line in out.read_text().splitlines()]
    assert [s["puid"] for s in exported] == [f"hg-m{match_id}", f"hg-r{item}"]
    assert all(s["territorial_scope"] == ["GR", "NO"] for s in exported)
    assert out.stat().st_mode & 0o077 == 0
    capsys.readouterr()
    assert main(args) == 0
    assert capsys.readouterr().out == out.read_text()
    submit_args = ["--db", c.store.url, "dsa", "submit", "--since", day, "--until", day]
    assert main(submit_args) == 0
    assert json.loads(capsys.readouterr().out) == {"sent": 2, "skipped": 0, "failed": 0}
    assert server.held[f"hg-m{match_id}"]["territorial_scope"] == ["GR", "NO"]
    assert main(["--db", c.store.url, "dsa", "export", "--since", day, "--until",
                 "2001-01-01"]) == 2  # fmt: skip


def test_retroactive_removals_and_the_posting_day(reporting: Console) -> None:
    from hashguard.seen.retro import Retro

    c = reporting
    item, _ = _restrict(c)
    # a copy posted three days ago, checked now: its content_date is the day it was posted
    posted = datetime.now(UTC) - timedelta(days=3)
    data = (c.testdata / "pdq/bridge-mods/sharpen-a-little.jpg").read_bytes()
    r = c.client.post(
        "/v1/match", headers={"Authorization": f"Bearer {c.key}"},
        files={"file": ("x.jpg", data)},
        data={"content_id": "c3", "chat_id": "chat-3", "event_time": posted.isoformat()},
    )  # fmt: skip
    assert r.status_code == 200 and r.json()["verdict"] == "block", r.text
    late = next(s for s in _all(c) if s["puid"] == f"hg-m{r.json()['match_id']}")
    assert late["content_date"] == posted.date().isoformat()
    assert late["application_date"] == _today().isoformat()
    # the confirmed item's own content, seen before its entry was listed, is removed
    # retroactively: a statement of its own, fully automated
    c.store.seen_log.flush()
    assert Retro(c.engine, grace=0).run_once().acted >= 1
    retro = [s for s in _all(c) if "retroactively" in s["decision_facts"]]
    assert retro and all(s["automated_decision"] == "AUTOMATED_DECISION_FULLY" for s in retro)
    assert f"list entry review-{item} of bank confirmed" in retro[0]["decision_facts"]
    for s in _all(c):
        validate(s)
        assert problems(s) == {}
