"""One row of a list file: checked, canonical, and carrying its line number."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from hashguard.errors import HashguardError, RowError
from hashguard.signals.registry import Registry

Action = Literal["add", "retract"]

REQUIRED = ("signal_type", "signal")
KNOWN = ("signal_type", "signal", "id", "category", "severity", "note", "action", "quality")
MAX_FIELD = 4096  # characters in one metadata value; lists are hashes, not documents


@dataclass(frozen=True, slots=True)
class ListRow:
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


def _text(record: Mapping[str, object], name: str) -> str | None:
    value = record.get(name)
    if value is None:
        return None
    text = str(value).strip()
    if len(text) > MAX_FIELD:
        raise ValueError(f"{name} is longer than {MAX_FIELD} characters")
    return text or None


def parse_row(record: Mapping[str, object], line: int, registry: Registry) -> ListRow | RowError:
    """Check one record (a CSV row or JSON object) and return its canonical form."""
    try:
        action = (_text(record, "action") or "add").lower()
        if action not in ("add", "retract"):
            return RowError(line, f"action must be 'add' or 'retract', not {action!r}")
        row_id = _text(record, "id")
        type_name = _text(record, "signal_type")
        raw = _text(record, "signal")
        if action == "retract" and row_id is not None and type_name is None and raw is None:
            signal_type = value = None  # retract a whole entry by its id
        else:
            if type_name is None or raw is None:
                missing = "signal_type" if type_name is None else "signal"
                return RowError(line, f"{missing} is empty")
            signal_type = registry.get(type_name)
            value = signal_type.parse(raw)
            type_name = signal_type.name
        quality_text = _text(record, "quality")
        quality = None
        if quality_text is not None:
            quality = int(quality_text)
            if not 0 <= quality <= 100:
                return RowError(line, f"quality must be 0-100, not {quality}")
        extra = {k: v for k, v in record.items() if k not in KNOWN and v not in (None, "")}
        return ListRow(
            line=line,
            action=action,  # type: ignore[arg-type]
            id=row_id,
            signal_type=type_name,
            value=value,
            category=_text(record, "category"),
            severity=_text(record, "severity"),
            note=_text(record, "note"),
            quality=quality,
            extra=json.dumps(extra, sort_keys=True, default=str) if extra else None,
        )
    except HashguardError as e:
        return RowError(line, e.message)
    except ValueError as e:
        return RowError(line, str(e))
