"""Policy documents: TOML and JSON in, every problem named by where it is, nothing doubtful
let through."""

from __future__ import annotations

import json

import pytest

from hashguard.errors import PolicyRejected
from hashguard.policy import Policy, Verdict, default_policy, load, parse
from hashguard.signals.registry import default_registry

TYPES = default_registry().names()
BANKS = ["iwf", "ours", "benign"]

EXAMPLE = """
description = "IWF first"
suppress_banks = ["benign"]

[[rules]]
name = "pdq-close"
signal_types = ["pdq"]
max_distance = 10
verdict = "block"
cap_per_hour = 1000
cap_per_day = 10000

[[rules]]
name = "pdq-near"
signal_types = ["pdq"]
min_distance = 11
max_distance = 31
verdict = "review"

[[rules]]
name = "iwf-csam"
banks = ["iwf"]
categories = ["csam"]
surfaces = ["public", "group"]
verdict = "report"
mode = "shadow"
"""


def refused(text: str, banks: list[str] | None = BANKS, fmt: str | None = None) -> list[str]:
    with pytest.raises(PolicyRejected) as caught:
        parse(load(text, fmt), signal_types=TYPES, banks=banks)
    assert "nothing changed" in caught.value.message
    return caught.value.problems


def test_a_toml_policy_parses_and_round_trips_through_json() -> None:
    p = parse(load(EXAMPLE), signal_types=TYPES, banks=BANKS)
    assert p.suppress_banks == {"benign"} and p.description == "IWF first"
    close, near, csam = p.rules
    assert (close.verdict, close.max_distance, close.cap_per_hour) == (Verdict.BLOCK, 10, 1000)
    assert (near.min_distance, near.max_distance, near.mode) == (11, 31, "live")
    assert (csam.verdict, csam.mode, csam.surfaces) == (
        Verdict.REPORT,
        "shadow",
        {"public", "group"},
    )
    again = parse(load(json.dumps(p.as_dict())), signal_types=TYPES, banks=BANKS)
    assert again == p


def test_the_built_in_policy_round_trips() -> None:
    p = default_policy(default_registry())
    assert parse(p.as_dict(), signal_types=TYPES) == p


def test_syntax_errors_name_their_line() -> None:
    [problem] = refused('[[rules]]\nname = "a"\nverdict = block\n')
    assert "line 3" in problem
    [problem] = refused('{"rules": [\n  {"name": "a",}\n]}')
    assert problem.startswith("line 2")
    assert refused("rules = 3") == ["rules: must be a list (an array of tables in TOML: [[rules]])"]


def test_every_problem_is_listed_with_its_field() -> None:
    problems = refused("""
suppres_banks = ["benign"]
[[rules]]
name = "a"
verdict = "allow"
[[rules]]
name = "b"
verdict = "block"
max_distanse = 10
banks = ["iwff"]
signal_types = ["pdq", "md6"]
[[rules]]
name = "c"
verdict = "block"
min_distance = 20
max_distance = 10
categories = []
[[rules]]
name = "a"
verdict = "review"
cap_per_hour = 5
[[rules]]
name = "d e"
verdict = "block"
mode = "dry-run"
cap_per_hour = 0
min_distance = -1
surfaces = "public"
""")
    text = "\n".join(problems)
    for expected in (
        "suppres_banks: unknown field",
        "rules[0].verdict: one of review, block, report (got 'allow'",
        "rules[1].max_distanse: unknown field",
        "rules[1].banks: no bank 'iwff' (there are: benign, iwf, ours)",
        "rules[1].signal_types: no signal type 'md6'",
        "rules[2]: min_distance 20 is above max_distance 10: fits nothing",
        "rules[2].categories: an empty list fits nothing",
        "rules[3]: a cap lowers a verdict to review; this rule's is review already",
        "rules[4].name: required",
        "rules[4].mode: one of live, shadow, off (got 'dry-run')",
        "rules[4].cap_per_hour: must be a whole number, at least 1 (got 0)",
        "rules[4].min_distance: must be a whole number, at least 0 (got -1)",
        "rules[4].surfaces: must be a list of names",
    ):
        assert expected in text, expected


def test_contradictions_between_rules_are_refused() -> None:
    dup = refused(
        '[[rules]]\nname = "a"\nverdict = "block"\n[[rules]]\nname = "a"\nverdict = "review"\n'
    )
    assert dup == ["rules[1].name: 'a' is also the name of rules[0]"]
    only_benign = refused(
        'suppress_banks = ["benign"]\n[[rules]]\nname = "x"\n'
        'banks = ["benign"]\nverdict = "block"\n'
    )
    assert only_benign[0].startswith("rules[0].banks: only suppress banks")
    caps = refused('[[rules]]\nname = "a"\nverdict = "block"\ncap_per_hour = 9\ncap_per_day = 8\n')
    assert caps == ["rules[0]: cap_per_hour 9 is above cap_per_day 8"]
    assert refused('suppress_banks = ["nope"]')[0].startswith("suppress_banks: no bank 'nope'")


def test_banks_are_not_checked_when_none_are_given() -> None:
    p = parse(load('[[rules]]\nname = "a"\nbanks = ["later"]\nverdict = "block"\n'),
              signal_types=TYPES)  # fmt: skip
    assert p.rules[0].banks == {"later"}


def test_sizes_and_shapes_are_bounded() -> None:
    assert "larger than" in refused("#" * (300 * 1024))[0]
    rules = "".join(f'[[rules]]\nname = "r{i}"\nverdict = "block"\n' for i in range(201))
    assert "rules: more than 200 rules" in refused(rules)
    names = json.dumps([f"b{i}" for i in range(101)])
    assert (
        "more than 100 names"
        in refused(f'[[rules]]\nname = "a"\nverdict = "block"\nbanks = {names}\n', None)[0]
    )
    assert refused("[1]", None, "json") == ["the document must be an object (a table in TOML)"]
    assert refused('[[rules]]\nname = "a"\nverdict = "block"\nmax_distance = true\n')[0].endswith(
        "(got True)"
    )
    assert refused("rules = []", None, "yaml") == ["unknown format 'yaml': use toml or json"]
    assert parse(load("{}"), signal_types=TYPES) == Policy(())
