"""Extension points, all registered the same way: Python entry points, built-ins included.

A package extends hashguard by declaring entry points in these groups (see
docs/architecture.md for a whole plugin):

- ``hashguard.signal_types``: a :class:`~hashguard.signals.base.SignalType` subclass, under
  its signal type's name;
- ``hashguard.list_formats``: a :class:`~hashguard.lists.formats.ListFormat` subclass, under
  the format's name;
- ``hashguard.source_kinds``: a sync function (``sync(store, source, registry)``, see
  :mod:`hashguard.sources.runner`), under the kind's name.

hashguard's own are declared in its ``pyproject.toml``, so they are found only in an
installed hashguard (``pip install -e .`` for a checkout).
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points
from typing import Any

from hashguard.errors import ConfigError

SIGNAL_TYPES = "hashguard.signal_types"
LIST_FORMATS = "hashguard.list_formats"
SOURCE_KINDS = "hashguard.source_kinds"


@cache
def load(group: str) -> dict[str, Any]:
    """What the installed packages register in ``group``, by name (in name order). Two
    packages registering one name is a configuration error, not a silent override."""
    found: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for ep in sorted(entry_points(group=group), key=lambda e: e.name):
        where = ep.dist.name if ep.dist is not None else ep.value
        if ep.name in found:
            raise ConfigError(
                f"{group} {ep.name!r} is registered twice: by {origin[ep.name]} and by {where}"
            )
        try:
            found[ep.name] = ep.load()
        except Exception as e:  # a broken plugin must say which one it is
            raise ConfigError(f"cannot load {group} {ep.name!r} from {where}: {e}") from e
        origin[ep.name] = where
    if not found:
        raise ConfigError(
            f"nothing is registered in {group}: hashguard's own entry points are missing, "
            "so it is not installed (run `pip install -e .` in a checkout)"
        )
    return found
