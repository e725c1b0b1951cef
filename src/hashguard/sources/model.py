"""An upstream list as the store keeps it: which bank it feeds, its checkpoint, its last
outcome. No I/O."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hashguard.banks.model import validate_name
from hashguard.errors import InvalidValue, NotFound

DEFAULT_INTERVAL = 900  # seconds between scheduled syncs of one source


@dataclass(frozen=True)
class Source:
    name: str
    kind: str
    bank: str
    url: str
    settings: dict[str, Any] = field(default_factory=dict)
    checkpoint: str | None = None
    enabled: bool = True
    last_attempt_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None

    @property
    def interval(self) -> int:
        return int(self.settings.get("interval", DEFAULT_INTERVAL))

    def as_dict(self) -> dict[str, Any]:
        def when(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment else None

        return {
            "name": self.name, "kind": self.kind, "bank": self.bank, "url": self.url,
            "settings": self.settings, "enabled": self.enabled,
            "checkpoint": decoded_checkpoint(self.checkpoint),
            "last_attempt_at": when(self.last_attempt_at),
            "last_success_at": when(self.last_success_at), "last_error": self.last_error,
        }  # fmt: skip


def decoded_checkpoint(checkpoint: str | None) -> Any:
    """A checkpoint as JSON for people, even a damaged one (to be reset, not to crash on)."""
    if not checkpoint:
        return None
    try:
        return json.loads(checkpoint)
    except ValueError:
        return {"unreadable": checkpoint}


def check_new_source(name: str, kind: str) -> None:
    """Refuse a bad name or a kind no installed plugin provides (:mod:`hashguard.plugins`)."""
    from hashguard import plugins  # the built-in kinds import this module

    validate_name(name, "source")
    kinds = plugins.load(plugins.SOURCE_KINDS)
    if kind not in kinds:
        raise InvalidValue(f"unknown source kind {kind!r}: use {', '.join(kinds)}")


def no_source(name: str) -> NotFound:
    return NotFound(
        f"no source named {name!r}",
        cli_hint="see `hashguard sources list`",
        http_hint="see GET /v1/sources",
    )
