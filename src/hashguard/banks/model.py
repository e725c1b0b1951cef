"""Banks, entries and changes as plain frozen values."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from hashguard.errors import InvalidValue
from hashguard.signals.base import Signal
from hashguard.signals.pdq import MAX_THRESHOLD

Status = Literal["active", "retracted"]
ChangeKind = Literal["add", "retract", "update", "bank"]

_BANK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def validate_name(name: str, what: str = "bank") -> str:
    """Names of banks, keys, sources and feeds: short, printable, unambiguous."""
    if not _BANK_NAME.match(name):
        raise InvalidValue(
            f"bad {what} name {name!r}: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def validate_bank_name(name: str) -> str:
    return validate_name(name, "bank")


# What a match-scope key sees of an entry besides its bank, id and signal type: enough to act
# on (block, hold, report) and no more. Notes and a list's other columns (source URLs,
# reviewers' remarks) are for curators unless the bank says otherwise.
DEFAULT_MATCH_FIELDS = ("category", "severity")
_FIELDS = ("category", "severity", "note", "extra")


def parse_match_fields(values: list[str] | tuple[str, ...] | str) -> tuple[str, ...]:
    """The entry fields a bank shows match keys: ``category``, ``severity``, ``note``,
    ``extra`` (every other column of the list) or ``extra.NAME`` (one of them)."""
    items = values.split(",") if isinstance(values, str) else values
    out: list[str] = []
    for raw in items:
        name = raw.strip()
        if not name:
            continue
        column = name.removeprefix("extra.")
        if name not in _FIELDS and not (name.startswith("extra.") and 0 < len(column) <= 64):
            raise InvalidValue(
                f"unknown match field {name!r}: use {', '.join(_FIELDS)} or extra.COLUMN"
            )
        if name not in out:
            out.append(name)
    return tuple(out)


@dataclass(frozen=True)
class Bank:
    """A named set of entries from one source, with its own matching settings."""

    id: int
    name: str
    pdq_threshold: int
    enabled: bool = True
    match_fields: tuple[str, ...] = DEFAULT_MATCH_FIELDS  # what match keys see of an entry

    def threshold(self, signal_type: str) -> int | None:
        """This bank's match threshold for ``signal_type``; None: the type's own default.
        (Stored per bank and per signal type; see docs/concepts.md.)"""
        return self.pdq_threshold if signal_type == "pdq" else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "pdq_threshold": self.pdq_threshold,
            "enabled": self.enabled,
            "match_fields": list(self.match_fields),
        }


@dataclass(frozen=True)
class Entry:
    """One known item in a bank."""

    pk: int
    bank: str
    id: str  # the source's id for the item
    signals: tuple[Signal, ...]
    status: Status = "active"
    category: str | None = None
    severity: str | None = None
    note: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def metadata(self) -> dict[str, Any]:
        """What a match reports about the entry (never its signal values)."""
        out: dict[str, Any] = {}
        for key in ("category", "severity", "note"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.extra:
            out["extra"] = dict(self.extra)
        return out


@dataclass(frozen=True)
class Change:
    """One numbered change to one bank; indexes apply them in ``seq`` order.

    ``add`` and ``retract`` carry one signal of one entry; ``bank`` says the bank's settings
    changed (threshold, enabled), which indexes pick up without touching their contents.
    """

    seq: int
    kind: ChangeKind
    bank_id: int
    entry_pk: int | None = None
    signal_type: str | None = None
    value: str | None = None


@dataclass(frozen=True)
class ImportReport:
    bank: str
    rows: int
    entries_added: int = 0
    signals_added: int = 0
    reactivated: int = 0
    retracted: int = 0
    metadata_updated: int = 0
    low_quality: int = 0
    first_seq: int | None = None
    last_seq: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def check_pdq_threshold(value: int) -> int:
    """A bank's PDQ threshold, refused outside 0..MAX_THRESHOLD (why: signals/pdq.py)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_THRESHOLD:
        raise InvalidValue(
            f"pdq threshold must be a whole number from 0 to {MAX_THRESHOLD} bits, not {value} "
            f"(31 is the recommended one; beyond {MAX_THRESHOLD} unrelated pictures match)"
        )
    return value
