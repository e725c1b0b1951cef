"""Policy documents (TOML or JSON) -> :class:`Policy`, refusing anything doubtful.

Every problem is named by where it is (``rules[2].max_distance``; a TOML or JSON syntax
error by its line), all of them at once. Unknown keys are refused rather than ignored: a
misspelt ``max_distanse`` silently widening a rule to every distance is the kind of mistake
a policy must not allow.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Collection, Iterable
from typing import Any

from hashguard.errors import PolicyRejected
from hashguard.policy.model import MODES, Policy, Rule, Verdict

MAX_RULES = 200
MAX_LIST = 100  # names in one rule field
MAX_DOCUMENT = 256 * 1024  # bytes
MAX_GUIDANCE = 4000  # characters of guidance for one category
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
_TOP = {"description", "suppress_banks", "keep_for_review", "guidance", "rules"}
_RULE = {
    "name", "verdict", "mode", "banks", "categories", "signal_types", "surfaces",
    "min_distance", "max_distance", "cap_per_hour", "cap_per_day",
}  # fmt: skip
_RULE_VERDICTS = ("review", "block", "report")


def load(text: str, fmt: str | None = None) -> dict[str, Any]:
    """The document as a dict; ``fmt`` "toml" or "json", guessed from the text if None."""
    if len(text.encode()) > MAX_DOCUMENT:
        raise PolicyRejected([f"the document is larger than {MAX_DOCUMENT // 1024} KiB"])
    if fmt is None:
        fmt = "json" if text.lstrip().startswith("{") else "toml"
    if fmt == "json":
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as e:
            raise PolicyRejected([f"line {e.lineno}, column {e.colno}: {e.msg}"]) from None
    elif fmt == "toml":
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise PolicyRejected([str(e)]) from None  # "... (at line 3, column 7)"
    else:
        raise PolicyRejected([f"unknown format {fmt!r}: use toml or json"])
    if not isinstance(doc, dict):
        raise PolicyRejected(["the document must be an object (a table in TOML)"])
    return doc


def parse(
    doc: dict[str, Any],
    *,
    signal_types: Collection[str],
    banks: Collection[str] | None = None,
) -> Policy:
    """``signal_types``: the registered types; ``banks``: the existing banks, if rules and
    suppress banks are to be checked against them (a rule naming a bank that does not
    exist is most likely a typo)."""
    problems: list[str] = []
    for key in doc:
        if key not in _TOP:
            problems.append(f"{key}: unknown field (expected one of {', '.join(sorted(_TOP))})")
    description = doc.get("description", "")
    if not isinstance(description, str) or len(description) > 2000:
        problems.append("description: must be text of at most 2000 characters")
        description = ""
    suppress = _names(doc, "suppress_banks", "suppress_banks", problems) or frozenset()
    keep = doc.get("keep_for_review", False)
    if not isinstance(keep, bool):
        problems.append("keep_for_review: must be true or false")
        keep = False
    guidance = _guidance(doc.get("guidance", {}), problems)
    if banks is not None:
        _known(suppress, banks, "suppress_banks", "bank", problems)
    raw_rules = doc.get("rules", [])
    if not isinstance(raw_rules, list):
        problems.append("rules: must be a list (an array of tables in TOML: [[rules]])")
        raw_rules = []
    if len(raw_rules) > MAX_RULES:
        problems.append(f"rules: more than {MAX_RULES} rules")
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(raw_rules[:MAX_RULES]):
        where = f"rules[{i}]"
        rule = _rule(raw, where, signal_types, banks, problems)
        if rule is None:
            continue
        if rule.name in seen:
            problems.append(
                f"{where}.name: {rule.name!r} is also the name of rules[{seen[rule.name]}]"
            )
        seen.setdefault(rule.name, i)
        if rule.banks is not None and rule.banks <= suppress:
            problems.append(
                f"{where}.banks: only suppress banks, whose matches cancel every other match"
                " and never reach a rule"
            )
        rules.append(rule)
    if problems:
        raise PolicyRejected(problems)
    return Policy(tuple(rules), suppress, description, keep, guidance)


def _guidance(raw: object, problems: list[str]) -> tuple[tuple[str, str], ...]:
    """Reviewers' guidance per category: ``{category: text}``."""
    if not isinstance(raw, dict):
        problems.append("guidance: must be an object of category = text")
        return ()
    out: list[tuple[str, str]] = []
    for category, text in raw.items():
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_GUIDANCE:
            problems.append(f"guidance.{category}: must be text of 1 to {MAX_GUIDANCE} characters")
        else:
            out.append((str(category), text.strip()))
    if len(out) > MAX_RULES:
        problems.append(f"guidance: more than {MAX_RULES} categories")
    return tuple(sorted(out))


def _rule(
    raw: object, where: str, signal_types: Collection[str], banks: Collection[str] | None,
    problems: list[str],
) -> Rule | None:  # fmt: skip
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be an object")
        return None
    before = len(problems)
    for key in raw:
        if key not in _RULE:
            problems.append(
                f"{where}.{key}: unknown field (expected one of {', '.join(sorted(_RULE))})"
            )
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        problems.append(f"{where}.name: required, 1-64 letters, digits and ._:- (got {name!r})")
    verdict = raw.get("verdict")
    if verdict not in _RULE_VERDICTS:
        problems.append(
            f"{where}.verdict: one of {', '.join(_RULE_VERDICTS)} (got {verdict!r}; allow is what"
            " no rule gives: to cancel matches use a suppress bank)"
        )
    mode = raw.get("mode", "live")
    if mode not in MODES:
        problems.append(f"{where}.mode: one of {', '.join(MODES)} (got {mode!r})")
    rule_banks = _names(raw, "banks", f"{where}.banks", problems)
    if rule_banks is not None and banks is not None:
        _known(rule_banks, banks, f"{where}.banks", "bank", problems)
    types = _names(raw, "signal_types", f"{where}.signal_types", problems)
    if types is not None:
        _known(types, signal_types, f"{where}.signal_types", "signal type", problems)
    categories = _names(raw, "categories", f"{where}.categories", problems)
    surfaces = _names(raw, "surfaces", f"{where}.surfaces", problems)
    low = _count(raw, "min_distance", f"{where}.min_distance", problems, minimum=0)
    high = _count(raw, "max_distance", f"{where}.max_distance", problems, minimum=0)
    if low is not None and high is not None and low > high:
        problems.append(f"{where}: min_distance {low} is above max_distance {high}: fits nothing")
    per_hour = _count(raw, "cap_per_hour", f"{where}.cap_per_hour", problems, minimum=1)
    per_day = _count(raw, "cap_per_day", f"{where}.cap_per_day", problems, minimum=1)
    if per_hour is not None and per_day is not None and per_hour > per_day:
        problems.append(f"{where}: cap_per_hour {per_hour} is above cap_per_day {per_day}")
    if (per_hour or per_day) and verdict == "review":
        problems.append(f"{where}: a cap lowers a verdict to review; this rule's is review already")
    if len(problems) > before:
        return None
    return Rule(
        name=str(name), verdict=Verdict.of(str(verdict)), mode=mode, banks=rule_banks,
        categories=categories, signal_types=types, min_distance=low or 0, max_distance=high,
        surfaces=surfaces, cap_per_hour=per_hour, cap_per_day=per_day,
    )  # fmt: skip


def _names(raw: dict[str, Any], key: str, where: str, problems: list[str]) -> frozenset[str] | None:
    """A list of names, or None when the field is left out (which fits anything)."""
    if key not in raw:
        return None
    value = raw[key]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{where}: must be a list of names")
        return None
    if not value:
        problems.append(f"{where}: an empty list fits nothing; leave the field out to fit any")
        return None
    if len(value) > MAX_LIST:
        problems.append(f"{where}: more than {MAX_LIST} names")
        return None
    bad = [v for v in value if not _NAME.match(v)]
    if bad:
        problems.append(f"{where}: {bad[0]!r} is not a name (1-64 letters, digits and ._:-)")
        return None
    return frozenset(value)


def _known(
    names: Iterable[str], known: Collection[str], where: str, what: str, problems: list[str]
) -> None:
    unknown = sorted(set(names) - set(known))
    if unknown:
        have = ", ".join(sorted(known)) or "none"
        problems.append(f"{where}: no {what} {', '.join(map(repr, unknown))} (there are: {have})")


def _count(
    raw: dict[str, Any], key: str, where: str, problems: list[str], *, minimum: int
) -> int | None:
    if key not in raw:
        return None
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        problems.append(f"{where}: must be a whole number, at least {minimum} (got {value!r})")
        return None
    return value
