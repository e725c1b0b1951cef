"""Transparency statistics: what the service checked and did, counted per day, bank,
category and surface, from a real run through the API and console; the figures outlive
the logs' purges; CSV cells cannot run as formulas; empty, huge and inverted ranges."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from hashguard.reports.options import ReportOptions
from hashguard.reports.stats import COLUMNS, csv_lines
from hashguard.runtime.retention import Retention
from hashguard.store.seen_log import seen_row
from tests.console.conftest import MODS, Console, post_form, wait_for
from tests.helpers import import_text
from tests.reports.conftest import PROFILE, confirm
from tests.reports.ncmec_server import PASSWORD, USER, NcmecServer


def _check(c: Console, name: str, content_id: str, surface: str) -> dict[str, Any]:
    r = c.client.post(
        "/v1/match",
        headers={"Authorization": f"Bearer {c.key}"},
        files={"file": (name, (c.testdata / MODS / name).read_bytes())},
        data={"content_id": content_id, "uploader_id": f"u-{content_id}", "surface": surface},
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def _list(c: Console, bank: str, categories: dict[str, str]) -> None:
    """List the MD5s of test images in ``bank``, each with its category."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["signal_type", "signal", "id", "category"])
    for i, (name, category) in enumerate(categories.items()):
        md5 = hashlib.md5((c.testdata / MODS / name).read_bytes()).hexdigest()
        w.writerow(["md5", md5, f"t{i}", category])
    import_text(c.store, bank, out.getvalue())
    wait_for(lambda: c.engine.seq >= c.store.last_seq())


def _auth(c: Console) -> dict[str, str]:
    return {"Authorization": f"Bearer {c.compliance}"}  # type: ignore[attr-defined]


def _rows(c: Console, **params: str) -> list[dict[str, Any]]:
    r = c.client.get("/v1/stats", params=params, headers=_auth(c))
    assert r.status_code == 200, r.text
    return list(r.json()["rows"])


def _day(c: Console, surface: str) -> dict[str, Any]:
    today = datetime.now(UTC).date().isoformat()
    found = {r["surface"]: r for r in _rows(c, since=today, until=today) if r["bank"] == "iwf"}
    return found[surface]


def _a_day_of_work(c: Console, ncmec: NcmecServer, tmp_path: Path) -> None:
    """Five checks on two surfaces: two held (one confirmed and reported, one a false
    positive), one blocked by the platform's own list and appealed (overturned), two too
    far from any list to act on."""
    _list(c, "confirmed", {"shrink-a-lot.jpg": "own"})
    assert _check(c, "sharpen-a-little.jpg", "p1", "photos")["verdict"] == "report"
    assert _check(c, "high-saturation.jpg", "p2", "photos")["verdict"] == "report"
    blocked = _check(c, "shrink-a-lot.jpg", "s1", "stories")
    assert blocked["verdict"] == "block"
    assert _check(c, "sharpen-a-lot.jpg", "s2", "stories")["verdict"] == "allow"  # 12 bits
    assert _check(c, "sharpen-a-lot.jpg", "s3", "stories")["verdict"] == "allow"
    held = sorted(i.id for i in c.store.reviews.queue())
    confirm(c, held[0])
    lena = c.login("lena")
    r = post_form(lena, f"/console/items/{held[1]}", f"/console/items/{held[1]}/decide",
                  action="false_positive", note="a holiday photo")  # fmt: skip
    assert r.status_code == 303, r.text
    appeal = c.client.post(
        "/v1/appeals", headers={"Authorization": f"Bearer {c.key}"},
        json={"match_id": blocked["match_id"], "reason": "mine"},
    ).json()  # fmt: skip
    r = post_form(lena, "/console/appeals", f"/console/appeals/{appeal['id']}",
                  outcome="overturned", note="x")  # fmt: skip
    assert r.status_code == 303, r.text
    creds = tmp_path / "ncmec.creds"
    creds.write_text(f"{USER}:{PASSWORD}\n")
    creds.chmod(0o600)
    c.app.state.reporting = ReportOptions(
        profile=PROFILE, ncmec_url=ncmec.url, ncmec_credentials_file=creds
    )
    (report,) = c.store.reports.recent()
    r = c.client.post(f"/v1/reports/{report.id}/submit", headers=_auth(c))
    assert r.status_code == 200 and r.json()["status"] == "submitted", r.text
    c.store.seen_log.flush()


def test_a_day_is_counted_per_bank_and_surface(
    reporting: Console, ncmec: NcmecServer, tmp_path: Path
) -> None:
    c = reporting
    _a_day_of_work(c, ncmec, tmp_path)
    photos = _day(c, "photos")
    assert photos["category"] == "A"
    assert (photos["matched"], photos["held"], photos["blocked"]) == (2, 2, 0)
    assert (photos["confirmed"], photos["false_positive"]) == (1, 1)
    assert photos["reports_submitted"] == 1
    assert 0 <= photos["median_decision_seconds"] < 600
    stories = {r["bank"]: r for r in _rows(c) if r["surface"] == "stories"}
    assert stories["confirmed"]["blocked"] == 1
    assert stories["confirmed"]["appeals_overturned"] == 1
    # checked counts every check, matched or not, per surface (no bank: most match none)
    assert stories[""]["checked"] == 3 and stories[""]["matched"] == 0
    # the two allows 12 bits from the iwf entry matched it though no rule acted on them;
    # the block (by the platform's own list) matched it too
    assert (stories["iwf"]["matched"], stories["iwf"]["blocked"]) == (3, 1)
    checked = {r["surface"]: r["checked"] for r in _rows(c) if r["bank"] == ""}
    assert checked == {"photos": 2, "stories": 3}
    for row in _rows(c):
        assert list(row) == list(COLUMNS)


def test_csv_is_the_same_figures_and_cells_cannot_run_as_formulas(
    reporting: Console,
) -> None:
    c = reporting
    evil = {
        "blur-a-little.jpg": '=HYPERLINK("http://evil.example","x")',
        "blur-a-lot.jpg": "+1",
        "high-contrast.jpg": "@SUM(A1)",
        "shrink-a-little.jpg": "-2",
        "square-512x512.jpg": "=1+1",
    }
    _list(c, "iwf", evil)
    for i, name in enumerate(evil):
        assert _check(c, name, f"x{i}", "photos")["verdict"] == "report"
    c.store.seen_log.flush()
    r = c.client.get("/v1/stats", params={"format": "csv"}, headers=_auth(c))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(r.text)))
    assert tuple(table[0]) == COLUMNS
    categories = {row["category"] for row in table}
    assert categories == {"", "A", *("'" + v for v in evil.values())}
    as_json = _rows(c)
    assert len(table) == len(as_json)
    assert [int(row["checked"]) for row in table] == [row["checked"] for row in as_json]
    by_accept = c.client.get("/v1/stats", headers={**_auth(c), "Accept": "text/csv"})
    assert by_accept.text == r.text


def test_empty_huge_and_inverted_ranges(reporting: Console) -> None:
    c = reporting
    _check(c, "sharpen-a-little.jpg", "x1", "photos")
    c.store.seen_log.flush()
    assert _rows(c, since="2001-01-01", until="2001-12-31") == []
    empty = c.client.get(
        "/v1/stats", params={"since": "2001-01-01", "until": "2001-12-31", "format": "csv"},
        headers=_auth(c),
    )  # fmt: skip
    assert empty.text == ",".join(COLUMNS) + "\r\n"
    everything = _rows(c, since="0001-01-01", until="9999-12-31")
    assert everything == _rows(c) and len(everything) == 2
    r = c.client.get("/v1/stats", params={"since": "2026-02-01", "until": "2026-01-01"},
                     headers=_auth(c))  # fmt: skip
    assert r.status_code == 422 and "before" in r.json()["error"]["message"]
    for bad in ("2026-02-30", "yesterday", "2026-1-1x"):
        r = c.client.get("/v1/stats", params={"since": bad}, headers=_auth(c))
        assert r.status_code == 422, bad
    assert c.client.get("/v1/stats").status_code == 401
    platform = {"Authorization": f"Bearer {c.key}"}  # a match key may not read them
    assert c.client.get("/v1/stats", headers=platform).status_code == 403


def test_figures_outlive_the_logs_purge(
    reporting: Console, ncmec: NcmecServer, tmp_path: Path
) -> None:
    c = reporting
    _a_day_of_work(c, ncmec, tmp_path)
    before = _rows(c)
    summary = c.client.get("/v1/stats/summary", headers=_auth(c)).json()
    # a stepped clock: a day later, with one day's retention, every log row is past it
    later = datetime.now(UTC) + timedelta(days=2)
    out = Retention(match_log_days=1, outbox_days=1, seen_days=1).purge(c.store, now=later)
    assert out["match_log"] == 3 and out["seen_log"] == 5
    assert c.store.match_log.records() == []
    assert _rows(c) == before
    assert c.client.get("/v1/stats/summary", headers=_auth(c)).json() == summary
    # freezing again changes nothing; today's new figures are counted live beside them
    Retention(match_log_days=1, outbox_days=1, seen_days=1).purge(c.store, now=later)
    assert _rows(c) == before


def test_the_summary_reads_as_a_transparency_report(
    reporting: Console, ncmec: NcmecServer, tmp_path: Path
) -> None:
    c = reporting
    _a_day_of_work(c, ncmec, tmp_path)
    year = datetime.now(UTC).year
    r = c.client.get(
        "/v1/stats/summary", params={"since": f"{year}-01-01", "until": f"{year}-12-31"},
        headers=_auth(c),
    )  # fmt: skip
    body = r.json()
    assert body["total"]["checked"] == 5 and body["total"]["reports_submitted"] == 1
    assert body["by_bank"]["iwf"]["matched"] >= 2
    text = body["text"]
    assert text.startswith(f"From {year}-01-01 to {year}-12-31, Example Messenger checked 5 ")
    assert "1 report was submitted to NCMEC's CyberTipline." in text
    assert "1 overturned the decision" in text


def test_a_check_is_counted_on_its_own_day(reporting: Console) -> None:
    c = reporting
    yesterday = datetime.now(UTC) - timedelta(days=1)
    c.store.seen_log.record(seen_row(yesterday, "allow", "k1", {}, {"surface": "photos"}))
    c.store.seen_log.record(seen_row(yesterday, "allow", "k2", {}, {}))
    c.store.seen_log.flush()
    rows = _rows(c, since=(date.today() - timedelta(days=3)).isoformat())
    assert [(r["day"], r["surface"], r["checked"]) for r in rows] == [
        (yesterday.date().isoformat(), "", 1),
        (yesterday.date().isoformat(), "photos", 1),
    ]


def test_every_formula_start_is_defused_and_plain_cells_are_kept() -> None:
    row = dict.fromkeys(COLUMNS, 0) | {"day": "2026-12-07", "surface": "photos"}
    cells = ["=A1", "+A1", "-A1", "@A1", "\tA1", "\rA1", "A=1", "", "a-b"]
    lines = [list(csv_lines([{**row, "category": v, "bank": v}]))[1] for v in cells]
    parsed = [next(csv.DictReader(io.StringIO(",".join(COLUMNS) + "\r\n" + x))) for x in lines]
    assert [p["category"] for p in parsed] == [
        "'=A1", "'+A1", "'-A1", "'@A1", "'\tA1", "'\rA1", "A=1", "", "a-b",
    ]  # fmt: skip
    assert all(p["bank"] == p["category"] and p["surface"] == "photos" for p in parsed)


def _cli(tmp_path: Path, db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "none.toml").write_text("")
    env = {**os.environ, "HASHGUARD_DB": db_url, "HASHGUARD_CONFIG": str(tmp_path / "none.toml")}
    return subprocess.run(
        [sys.executable, "-m", "hashguard.cli", "stats", *args],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip


def test_the_command_line_gives_the_same_figures(
    reporting: Console, db_url: str, tmp_path: Path
) -> None:
    c = reporting
    _list(c, "iwf", {"blur-a-little.jpg": "-cat"})
    _check(c, "blur-a-little.jpg", "x1", "photos")
    c.store.seen_log.flush()
    today = datetime.now(UTC).date().isoformat()
    done = _cli(tmp_path, db_url, "--since", today, "--until", today)
    assert done.returncode == 0, done.stderr
    api = c.client.get("/v1/stats", params={"format": "csv"}, headers=_auth(c)).text
    assert done.stdout == api.replace("\r\n", "\n") and "'-cat" in done.stdout  # text mode
    summary = _cli(tmp_path, db_url, "--summary")
    assert summary.returncode == 0 and "checked 1 item " in summary.stdout
    inverted = _cli(tmp_path, db_url, "--since", "2026-02-01", "--until", "2026-01-01")
    assert inverted.returncode != 0 and "is before since" in inverted.stderr
    assert inverted.stdout == ""
