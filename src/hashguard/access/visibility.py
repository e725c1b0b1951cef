"""What a caller sees of a match: everything, or what a platform needs to act on.

A ``match`` key is told which entry matched (bank, id, signal type) and the entry fields its
bank shows match keys (``Bank.match_fields``: category and severity unless the curator says
otherwise). It is not told how close the match was — PDQ distance, a video's shares of
matching frames, or for text the listed URL expression or keyword that matched — unless it
holds ``match:distance`` (a video's matched time ranges it is told): a distance per
query lets a caller walk a near copy onto the listed hash, one bit at a time. Several matches
are listed in a fixed order (bank, entry, type) rather than closest first, which would
rank distances too. Keys that may read the lists (curate, admin) see everything, as does the
local operator (the CLI, ``serve --no-auth``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hashguard.access.api_keys import DISTANCE, ApiKey
from hashguard.banks.model import DEFAULT_MATCH_FIELDS, Bank

if TYPE_CHECKING:
    from hashguard.engine import Match

_HOW = ("matched", "mode")  # in a text match's ``found``: what on the list matched, and how
# In a video match: how much of it matched, a closeness like a distance (where: the times).
_SHARES = ("query_match_percent", "compared_match_percent")


@dataclass(frozen=True)
class View:
    full: bool = True  # everything, as the engine reports it
    distance: bool = True  # how close: PDQ distance, the text expression that matched

    @classmethod
    def of(cls, key: ApiKey | None) -> View:
        if key is None or key.reads_lists:
            return FULL
        return View(full=False, distance=DISTANCE in key.scopes)


FULL = View()


class BankFields:
    """Bank name -> the entry fields match keys see, rebuilt when the banks change."""

    def __init__(self) -> None:
        self._cached: tuple[Mapping[int, Bank] | None, dict[str, tuple[str, ...]]] = (None, {})

    def of(self, banks: Mapping[int, Bank]) -> dict[str, tuple[str, ...]]:
        # The index set replaces its banks dict whenever a bank changes: identity suffices.
        # One tuple, swapped whole, so a thread never pairs one version's banks with another's.
        cached = self._cached
        if cached[0] is not banks:
            cached = (banks, {b.name: b.match_fields for b in banks.values()})
            self._cached = cached
        return cached[1]


def shown(match: Match, view: View, fields: Mapping[str, tuple[str, ...]]) -> dict[str, Any]:
    """``match`` as ``view`` may see it; ``fields``: each bank's ``match_fields``."""
    if view.full:
        return match.as_dict()
    out: dict[str, Any] = {
        "bank": match.bank, "entry": match.entry, "signal_type": match.signal_type,
    }  # fmt: skip
    if view.distance:
        out["distance"] = match.distance
    meta = match.metadata
    for name in fields.get(match.bank, DEFAULT_MATCH_FIELDS):
        if name == "extra":
            if meta.get("extra"):
                out["extra"] = {**out.get("extra", {}), **meta["extra"]}
        elif name.startswith("extra."):
            column = name[6:]
            if column in meta.get("extra", {}):
                out.setdefault("extra", {})[column] = meta["extra"][column]
        elif name in meta:
            out[name] = meta[name]
    if match.variant:
        out["variant"] = match.variant
    if match.low_quality:
        out["low_quality"] = True
    if match.found:
        out.update((k, v) for k, v in match.found.items() if view.distance or k not in _HOW)
    if match.result:  # a video's time ranges, always; its shares of matching frames, with distance
        out.update((k, v) for k, v in match.result.items() if view.distance or k not in _SHARES)
    return out


def matches_shown(
    matches: list[Match], view: View, fields: Mapping[str, tuple[str, ...]]
) -> list[dict[str, Any]]:
    if view.full:
        return [m.as_dict() for m in matches]
    ordered = matches if view.distance else sorted(matches, key=_fixed_order)
    return [shown(m, view, fields) for m in ordered]


def _fixed_order(m: Match) -> tuple[Any, ...]:
    span = m.found["span"] if m.found else [0]
    return (span, m.bank, m.entry, m.signal_type)
