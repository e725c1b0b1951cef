"""Banks, entries and changes as plain frozen values."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from hashguard.errors import InvalidValue, NotFound
from hashguard.signals.base import Signal
from hashguard.signals.pdq import DEFAULT_THRESHOLD, MAX_THRESHOLD

if TYPE_CHECKING:
    from hashguard.signals.registry import Registry

Status = Literal["active", "retracted"]
ChangeKind = Literal["add", "retract", "update", "bank", "policy"]
NO_BANK = 0  # the bank_id of a change that is not to a bank (a policy)

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


def no_bank(name: str) -> NotFound:
    return NotFound(
        f"no bank named {name!r}",
        cli_hint="see `hashguard bank list`",
        http_hint="see GET /v1/banks",
    )


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
    # The thresholds this bank sets, by signal type; a type it does not name matches at
    # the type's default. Banks made before per-type thresholds keep their PDQ one here.
    thresholds: Mapping[str, int] = field(default_factory=dict)
    enabled: bool = True
    match_fields: tuple[str, ...] = DEFAULT_MATCH_FIELDS  # what match keys see of an entry

    @classmethod
    def from_row(cls, row: Any) -> Bank:
        """A bank from its ``hg_banks`` row (JSON columns decoded)."""
        fields = row.match_fields
        return cls(
            row.id,
            row.name,
            thresholds_from_json(row.thresholds),
            bool(row.enabled),
            DEFAULT_MATCH_FIELDS if fields is None else tuple(json.loads(fields)),
        )

    def threshold(self, signal_type: str) -> int | None:
        """This bank's match threshold for ``signal_type``; None: the type's own default."""
        return self.thresholds.get(signal_type)

    @property
    def pdq_threshold(self) -> int:
        return self.thresholds.get("pdq", DEFAULT_THRESHOLD)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "pdq_threshold": self.pdq_threshold,
            "thresholds": dict(sorted(self.thresholds.items())),
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
    changed (threshold, enabled), which indexes pick up without touching their contents;
    ``policy`` (bank :data:`NO_BANK`) that a new policy was set.
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
    if not _whole(value) or not 0 <= value <= MAX_THRESHOLD:
        raise InvalidValue(
            f"pdq threshold must be a whole number from 0 to {MAX_THRESHOLD} bits, not {value} "
            f"(31 is the recommended one; beyond {MAX_THRESHOLD} unrelated pictures match)"
        )
    return value


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def merge_thresholds(
    current: Mapping[str, int],
    changes: Mapping[str, int | None],
    registry: Registry,
) -> dict[str, int]:
    """``current`` with ``changes`` applied (None: back to the type's default), each checked
    against its signal type: known, matched by distance, and within 0..its max_threshold."""
    out = dict(current)
    extras = {n: b for t in registry.types() for n, b in t.extra_thresholds.items()}
    for raw_name, value in changes.items():
        if raw_name.strip().lower() in extras:  # e.g. vpdq_query_percent
            name = raw_name.strip().lower()
            if value is None:
                out.pop(name, None)
            elif not _whole(value) or not 0 <= value <= extras[name]:
                raise InvalidValue(
                    f"{name} must be a whole number from 0 to {extras[name]}, not {value}"
                )
            else:
                out[name] = value
            continue
        signal_type = registry.get(raw_name)  # UnknownSignalType names the known ones
        name = signal_type.name
        if value is None:
            out.pop(name, None)
        elif name == "pdq":
            out[name] = check_pdq_threshold(value)
        elif signal_type.max_threshold == 0:
            raise InvalidValue(f"{name} signals match only when equal: they take no threshold")
        elif not _whole(value) or not 0 <= value <= signal_type.max_threshold:
            raise InvalidValue(
                f"{name} threshold must be a whole number from 0 to "
                f"{signal_type.max_threshold}, not {value}"
            )
        else:
            out[name] = value
    return out


def thresholds_json(thresholds: Mapping[str, int]) -> str:
    return json.dumps(dict(sorted(thresholds.items())))


def thresholds_from_json(stored: str | None) -> dict[str, int]:
    return {str(k): int(v) for k, v in json.loads(stored or "{}").items()}


def with_pdq(
    thresholds: Mapping[str, int | None] | None, pdq_threshold: int | None
) -> dict[str, int | None]:
    """``thresholds`` with the PDQ one given on its own (the older, shorter way) put in."""
    out: dict[str, int | None] = {}
    for name, value in (thresholds or {}).items():  # names as the registry reads them
        key = name.strip().lower()
        if key in out and out[key] != value:
            raise InvalidValue(f"two different {key} thresholds given")
        out[key] = value
    if pdq_threshold is not None:
        if out.get("pdq", pdq_threshold) != pdq_threshold:
            raise InvalidValue("two different PDQ thresholds given: pdq_threshold and thresholds")
        out["pdq"] = pdq_threshold
    return out


def new_bank(
    name: str,
    thresholds: Mapping[str, int | None] | None,
    pdq_threshold: int | None,
    match_fields: list[str] | tuple[str, ...] | None,
    registry: Registry,
) -> tuple[Bank, dict[str, Any]]:
    """A bank about to be created (its id still 0), checked, and its audit detail (which
    names match fields only when given: a bank without them follows the default)."""
    validate_bank_name(name)
    own = merge_thresholds({}, with_pdq(thresholds, pdq_threshold), registry)
    detail: dict[str, Any] = {"thresholds": own}
    fields: tuple[str, ...] = DEFAULT_MATCH_FIELDS
    if match_fields is not None:
        fields = parse_match_fields(match_fields)
        detail["match_fields"] = list(fields)
    return Bank(0, name, own, True, fields), detail


def bank_changes(
    bank: Bank,
    thresholds: Mapping[str, int | None] | None,
    pdq_threshold: int | None,
    enabled: bool | None,
    match_fields: list[str] | tuple[str, ...] | None,
    registry: Registry,
) -> dict[str, Any]:
    """What an update changes of ``bank``, checked, as its audit detail: the new
    ``thresholds`` (whole), ``enabled``, ``match_fields``; empty if nothing."""
    detail: dict[str, Any] = {}
    changes = with_pdq(thresholds, pdq_threshold)
    if changes:
        detail["thresholds"] = merge_thresholds(bank.thresholds, changes, registry)
    if enabled is not None:
        detail["enabled"] = enabled
    if match_fields is not None:
        detail["match_fields"] = list(parse_match_fields(match_fields))
    return detail
