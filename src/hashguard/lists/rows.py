"""One row of a list file: checked, canonical, and carrying its line number."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Literal, NamedTuple

from hashguard.errors import HashguardError, InvalidValue, RowError
from hashguard.signals.registry import Registry

Action = Literal["add", "retract"]

REQUIRED = ("signal_type", "signal")
KNOWN = ("signal_type", "signal", "id", "category", "severity", "note", "action", "quality")
_KNOWN = frozenset(KNOWN)
MAX_FIELD = 4096  # characters in one metadata value; lists are hashes, not documents


class ListRow(NamedTuple):
    """A tuple, not a dataclass: millions are made per import, and a tuple is made fastest."""

    line: int
    action: Action
    id: str | None  # None: the entry is keyed by its signal
    signal_type: str | None  # None only on a retraction by id
    value: str | None
    category: str | None = None
    severity: str | None = None
    note: str | None = None
    quality: int | None = None
    extra: str | None = None  # other columns, as a JSON object

    @property
    def key(self) -> str:
        """The entry this row belongs to: the source's id, else ``type:value``."""
        return self.id if self.id is not None else f"{self.signal_type}:{self.value}"


_JSON_TYPES = {dict: "an object", list: "an array", bool: "true or false", float: "a number"}


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored, or None. PostgreSQL refuses NUL in text (SQLite takes
    it, so a SQLite store could not move to PostgreSQL); a lone surrogate (``"\\ud800"``
    in JSON) is no character and has no UTF-8."""
    if "\x00" in text:
        return "contains a NUL character"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "contains a lone surrogate (half of a UTF-16 pair), which is no character"
    return None


def _clean(value: object, name: str) -> str | None:
    """A text field: a string (a JSON integer is taken as its digits), stripped; None if
    empty. Anything else is refused, never turned into Python's spelling of it."""
    if type(value) is str:  # nearly always: first, and by the quickest test
        return value.strip() or None
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    kind = next((v for t, v in _JSON_TYPES.items() if isinstance(value, t)), "not text")
    raise InvalidValue(f"{name} must be a string, not {kind}")


def _check_json(value: object, name: str) -> None:
    """Every string in an extra column's JSON value (keys too) must be storable text."""
    if isinstance(value, str):
        problem = text_problem(value)
        if problem is not None:
            raise InvalidValue(f"{name} {problem}")
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_json(k, name)
            _check_json(v, name)
    elif isinstance(value, list):
        for v in value:
            _check_json(v, name)


def _quality(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        quality = value
    else:
        text = _clean(value, "quality")
        if text is None:
            return None
        if not text.isdigit() and not (text[:1] == "-" and text[1:].isdigit()):
            raise InvalidValue(f"quality must be a whole number 0-100, not {text[:40]!r}")
        quality = int(text)
    if not 0 <= quality <= 100:
        raise InvalidValue(f"quality must be 0-100, not {quality}")
    return quality


def parse_row(
    record: Mapping[str, object], line: int, registry: Registry, *, text_checked: bool = False
) -> ListRow | RowError:
    """Check one record (a CSV row or JSON object) and return its canonical form.
    ``text_checked``: the caller knows no string in it holds NUL or a lone surrogate.

    This runs once per row of lists with millions of rows: keep it lean.
    """
    get = record.get
    try:
        if not text_checked:
            for k, v in record.items():
                _check_json(k, "a column name")
                _check_json(v, k[:40] if text_problem(k) is None else "a column")
        action = _clean(get("action"), "action")
        if action is None:
            action = "add"
        else:
            action = action.lower()
            if action not in ("add", "retract"):
                return RowError(line, f"action must be 'add' or 'retract', not {action!r}")
        row_id = _clean(get("id"), "id")
        type_name = _clean(get("signal_type"), "signal_type")
        raw = _clean(get("signal"), "signal")
        if action == "retract" and row_id is not None and type_name is None and raw is None:
            value = None  # retract a whole entry by its id
        else:
            if type_name is None or raw is None:
                missing = "signal_type" if type_name is None else "signal"
                return RowError(line, f"{missing} is empty")
            signal_type = registry.get(type_name)
            value = signal_type.parse(raw)
            type_name = signal_type.name
        category = _clean(get("category"), "category")
        severity = _clean(get("severity"), "severity")
        note = _clean(get("note"), "note")
        checked = (("id", row_id), ("category", category), ("severity", severity), ("note", note))
        for name, text in checked:
            if text is not None and len(text) > MAX_FIELD:
                return RowError(line, f"{name} is longer than {MAX_FIELD} characters")
        given = get("quality")
        quality = _quality(given) if given is not None and given != "" else None
        extra = None
        if not _KNOWN.issuperset(record):
            others = {k: v for k, v in record.items() if k not in _KNOWN and v not in (None, "")}
            extra = json.dumps(others, sort_keys=True) if others else None
            if extra is not None and len(extra) > MAX_FIELD:
                return RowError(line, f"extra columns are longer than {MAX_FIELD} characters")
        return ListRow(
            line,
            action,  # type: ignore[arg-type]
            row_id,
            type_name,
            value,
            category,
            severity,
            note,
            quality,
            extra,
        )
    except HashguardError as e:
        return RowError(line, e.message)
    except ValueError as e:
        return RowError(line, str(e))


def entry_rows(
    entry_id: str,
    signals: list[tuple[str, str, int | None]],
    metadata: Mapping[str, object],
    registry: Registry,
) -> tuple[list[ListRow], list[RowError]]:
    """One entry given as (type, value, quality) and metadata, as the rows of a one-entry
    list: checked by the same rules, so an entry added by hand behaves like one from a list."""
    rows: list[ListRow] = []
    errors: list[RowError] = []
    if not signals:
        errors.append(RowError(1, "an entry needs at least one signal"))
    for line, (type_name, value, quality) in enumerate(signals, 1):
        record = {
            **metadata, "id": entry_id, "signal_type": type_name, "signal": value,
            "quality": quality, "action": None,
        }  # fmt: skip
        checked = parse_row(record, line, registry)
        if isinstance(checked, RowError):
            errors.append(checked)
        else:
            rows.append(checked)
    return rows, errors
