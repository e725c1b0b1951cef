"""DSA statements of reasons (Regulation (EU) 2022/2065, Articles 17 and 24(5)): one for
each restriction hashguard made, in the DSA Transparency Database API's schema, checked by
its validation rules, as JSON Lines (docs/dsa.md).

Restrictions: a ``block`` in the match log (live, or a retroactive removal), decided by
machine alone; a held item a reviewer confirmed, flagged by machine and decided by a person.
A statement is made of hashguard's own records and the platform's settings (the reporting
profile's ``[dsa]`` section): banks, list entry ids and distances, never the content.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from hashguard.errors import ConfigError, InvalidValue
from hashguard.reports.dsa_schema import EARLIEST_CONTENT, LATEST, MINORS, validate
from hashguard.store.dsa_table import Restriction, blocks, confirmed

if TYPE_CHECKING:
    from hashguard.store.store import Store

LONGEST_RANGE = 366 * 10  # days a statements query may span
IMAGE_SIGNALS, VIDEO_SIGNALS, TEXT_SIGNALS = {"pdq", "photodna"}, {"vpdq"}, {"url", "keyword"}


@dataclass(frozen=True)
class DsaSettings:
    """The platform's part of every statement: the reporting profile's ``[dsa]`` section,
    in the schema's own field names where there is one."""

    decision_ground: str = "DECISION_GROUND_ILLEGAL_CONTENT"
    legal_ground: str = (
        "Directive 2011/93/EU on combating the sexual abuse and sexual exploitation of "
        "children, Article 5, and the national law implementing it"
    )
    explanation: str = (
        "The content is a copy or near copy of an item that a hotline, an industry "
        "hash-sharing programme or this platform's reviewers identified as child sexual "
        "abuse material; possessing and distributing it is an offence."
    )
    decision_visibility: tuple[str, ...] = ("DECISION_VISIBILITY_CONTENT_REMOVED",)
    decision_visibility_other: str = ""
    decision_account: str = ""  # e.g. DECISION_ACCOUNT_SUSPENDED, if the platform does so
    source_type: str = "SOURCE_VOLUNTARY"  # hash-list matching is own-initiative
    source_identity: str = ""  # who notified, for a source other than voluntary
    territorial_scope: tuple[str, ...] = ()  # none: not sent (the codes of EEA, say)
    category: str = MINORS
    category_specification: tuple[str, ...] = ("KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",)
    category_specification_other: str = ""
    content_type: str = "CONTENT_TYPE_OTHER"  # where the signals do not tell the medium
    content_type_other: str = "a file known by its cryptographic hash"
    decision_ground_reference_url: str = ""

    @classmethod
    def from_profile(cls, section: Any, where: str = "[dsa]") -> DsaSettings:
        """The ``[dsa]`` section: each key one of the fields; checked, as a statement made
        with them would be (ConfigError naming the key)."""
        if section is None:
            return cls()
        if not isinstance(section, dict):
            raise ConfigError(f"{where}: a table of settings")
        names = [f.name for f in fields(cls)]
        values: dict[str, Any] = {}
        for key, value in section.items():
            if key not in names:
                raise ConfigError(f"{where}: no key {key!r}; it takes {', '.join(names)}")
            many = isinstance(getattr(cls(), key), tuple)
            if many:
                if isinstance(value, str):
                    value = [value]
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ConfigError(f"{where}.{key}: a list of strings")
                value = tuple(value)
            elif not isinstance(value, str):
                raise ConfigError(f"{where}.{key}: a string")
            values[key] = value
        settings = cls(**values)
        try:
            validate(_statement(settings, _SAMPLE))
        except InvalidValue as e:
            raise ConfigError(f"{where}: {e.message}") from None
        return settings


def _day(value: datetime) -> date:
    return value.astimezone(UTC).date()


def _content_day(r: Restriction) -> date:
    """When the content was posted or checked: the platform's event_time if it gave one
    (and it is a day the schema takes, not after the decision), else the check's time."""
    decided = _day(r.decided_at)
    fallback = min(_day(r.matched_at), decided) if r.matched_at is not None else decided
    if r.event_time:
        try:
            posted = _day(_aware(datetime.fromisoformat(r.event_time)))
        except ValueError:
            return fallback
        if EARLIEST_CONTENT <= posted <= decided:
            return posted
    return fallback


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def content_types(r: Restriction, settings: DsaSettings) -> list[str]:
    """The medium, from the signal types that matched: a perceptual image hash (or a
    digest of content that has one) is an image, a video hash a video, a URL or keyword
    text; else the settings' fallback."""
    kinds = {str(m.get("signal_type")) for m in r.matches} | set(r.signals)
    out = []
    if kinds & VIDEO_SIGNALS:
        out.append("CONTENT_TYPE_VIDEO")
    elif kinds & IMAGE_SIGNALS:
        out.append("CONTENT_TYPE_IMAGE")
    if kinds & TEXT_SIGNALS:
        out.append("CONTENT_TYPE_TEXT")
    return out or [settings.content_type]


def _facts(r: Restriction) -> str:
    named = []
    for m in r.matches[:10]:
        distance = m.get("distance")
        at = f" at distance {distance}" if distance is not None else ""
        named.append(
            f"list entry {m.get('entry')} of bank {m.get('bank')} ({m.get('signal_type')}{at})"
        )
    more = f" and {len(r.matches) - 10} more" if len(r.matches) > 10 else ""
    if named:
        what = f"matched {'; '.join(named)}{more}"
    else:
        what = f"matched an entry of bank {r.bank}" if r.bank else "matched a list entry"
    if r.review_id is not None:
        return (
            f"hashguard held the content for review when its hashes {what}; a reviewer "
            f"confirmed it (held item {r.review_id}) and it was removed."
        )
    when = "retroactively, when a list entry added later" if r.retroactive else "when its hashes"
    return f"hashguard removed the content automatically {when} {what}."


def _statement(settings: DsaSettings, r: Restriction) -> dict[str, Any]:
    s: dict[str, Any] = {"decision_visibility": list(settings.decision_visibility)}
    if "DECISION_VISIBILITY_OTHER" in settings.decision_visibility:
        s["decision_visibility_other"] = settings.decision_visibility_other
    if settings.decision_account:
        s["decision_account"] = settings.decision_account
    s["decision_ground"] = settings.decision_ground
    if settings.decision_ground_reference_url:
        s["decision_ground_reference_url"] = settings.decision_ground_reference_url
    if settings.decision_ground == "DECISION_GROUND_INCOMPATIBLE_CONTENT":
        s["incompatible_content_ground"] = settings.legal_ground
        s["incompatible_content_explanation"] = settings.explanation
        s["incompatible_content_illegal"] = "Yes"
    else:
        s["illegal_content_legal_ground"] = settings.legal_ground
        s["illegal_content_explanation"] = settings.explanation
    s["content_type"] = content_types(r, settings)
    if "CONTENT_TYPE_OTHER" in s["content_type"]:
        s["content_type_other"] = settings.content_type_other
    s["category"] = settings.category
    if settings.category_specification:
        s["category_specification"] = list(settings.category_specification)
        if "KEYWORD_OTHER" in settings.category_specification:
            s["category_specification_other"] = settings.category_specification_other
    if settings.territorial_scope:
        s["territorial_scope"] = list(settings.territorial_scope)
    s["content_date"] = _content_day(r).isoformat()
    s["application_date"] = _day(r.decided_at).isoformat()
    s["decision_facts"] = _facts(r)[:5000]
    s["source_type"] = settings.source_type
    if settings.source_identity and settings.source_type != "SOURCE_VOLUNTARY":
        s["source_identity"] = settings.source_identity
    s["automated_detection"] = "Yes"
    s["automated_decision"] = (
        "AUTOMATED_DECISION_PARTIALLY" if r.review_id is not None else "AUTOMATED_DECISION_FULLY"
    )
    s["puid"] = f"hg-r{r.review_id}" if r.review_id is not None else f"hg-m{r.match_id}"
    return s


_SAMPLE = Restriction(
    1, None, datetime(2024, 1, 2, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC), None, False,
    ({"bank": "b", "entry": "e", "signal_type": "sha256", "distance": 0},), {},
)  # fmt: skip


def day_range(since: date, until: date) -> tuple[datetime, datetime]:
    """[since 00:00, the day after until 00:00) in UTC; InvalidValue for a range that is
    backwards or longer than ten years' days."""
    for name, day in (("since", since), ("until", until)):
        if not EARLIEST_CONTENT <= day <= LATEST:
            raise InvalidValue(f"{name}: {day} is not between {EARLIEST_CONTENT} and {LATEST}")
    if until < since:
        raise InvalidValue(f"until ({until}) is before since ({since})")
    if (until - since).days + 1 > LONGEST_RANGE:
        raise InvalidValue(f"since..until spans more than {LONGEST_RANGE} days")
    start = datetime(since.year, since.month, since.day, tzinfo=UTC)
    return start, datetime(until.year, until.month, until.day, tzinfo=UTC) + timedelta(days=1)


def statements(
    store: Store, since: date, until: date, settings: DsaSettings
) -> Iterator[dict[str, Any]]:
    """One statement for each restriction decided from ``since`` to ``until`` (whole UTC
    days, both included): the blocks, then the confirmed items, read in pages as the
    iterator is read. A bad range is refused (InvalidValue) before anything is read."""
    start, end = day_range(since, until)
    return _stream(store, start, end, settings)


def _stream(
    store: Store, start: datetime, end: datetime, settings: DsaSettings
) -> Iterator[dict[str, Any]]:
    for r in blocks(store.engine, start, end):
        yield _statement(settings, r)
    for r in confirmed(store.engine, start, end):
        yield _statement(settings, r)


def as_jsonl(items: Iterable[dict[str, Any]]) -> Iterator[str]:
    """Each statement as one line of JSON."""
    for s in items:
        yield json.dumps(s, ensure_ascii=False, separators=(",", ":")) + "\n"


__all__ = ["DsaSettings", "as_jsonl", "statements", "validate"]
