"""`hashguard policy show|set`, and verdicts in `hashguard match` and `match-text` output."""

from __future__ import annotations

from pathlib import Path

from tests.test_cli import run  # noqa: F401 - the fixture

POLICY = """
[[rules]]
name = "iwf-any"
banks = ["iwf"]
verdict = "report"
"""


def test_show_set_and_check(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    code, [shown], _ = run("policy", "show")
    assert code == 0 and shown["version"] == 0 and shown["actor"] == "default"
    good = tmp_path / "p.toml"
    good.write_text(POLICY)
    code, _, err = run("policy", "set", str(good))
    assert code == 2 and "rules[0].banks: no bank 'iwf'" in err and "nothing changed" in err
    assert run("bank", "create", "iwf")[0] == 0
    code, [checked], _ = run("policy", "set", "--check", str(good))
    assert code == 0 and checked["valid"] is True
    assert run("policy", "show")[1][0]["version"] == 0  # a check changes nothing
    code, [new], err = run("policy", "set", str(good))
    assert code == 0 and new["version"] == 1 and "version 1 is in force" in err
    assert new["actor"].startswith("cli")
    as_json = '{"rules": [{"name": "r", "verdict": "review"}]}'
    code, [again], _ = run("policy", "set", "-", stdin=as_json)
    assert code == 0 and again["version"] == 2
    code, [shown], _ = run("policy", "show", "--history", "5")
    assert [shown["version"]] + [h["version"] for h in shown["history"]] == [2, 1]
    broken = tmp_path / "broken.json"
    broken.write_text('{"rules": [}')
    code, _, err = run("policy", "set", str(broken))
    assert code == 2 and "line 1" in err
    assert run("policy", "set", str(tmp_path / "missing.toml"))[0] == 2
    assert run("policy", "show")[1][0]["version"] == 2


def test_match_prints_the_verdict(run, tmp_path: Path, testdata: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    image = testdata / "pdq/bridge-mods/aaa-orig.jpg"
    run("bank", "create", "iwf")
    listing = tmp_path / "list.csv"
    listing.write_text(f"signal_type,signal,id\nmd5,{_md5(image)},x1\n")
    assert run("import", str(listing), "--bank", "iwf")[0] == 0
    code, [line], _ = run("match", str(image))
    assert code == 0
    assert (line["verdict"], line["policy_version"]) == ("block", 0)
    assert line["reasons"][0]["rule"] == "exact" and line["list_seq"] > 0
    (tmp_path / "p.toml").write_text(POLICY)
    run("policy", "set", str(tmp_path / "p.toml"))
    code, [line], _ = run("match", str(image))
    assert (line["verdict"], line["policy_version"]) == ("report", 1)
    code, [line], _ = run("match-text", stdin="nothing here\n")
    assert (line["verdict"], line["reasons"]) == ("allow", [])


def _md5(path: Path) -> str:
    import hashlib

    return hashlib.md5(path.read_bytes()).hexdigest()
