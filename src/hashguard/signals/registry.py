"""The signal type registry. Built-in types register the way a plugin does.

A plugin package exposes an entry point in the ``hashguard.signal_types`` group that names a
:class:`SignalType` subclass; :func:`default_registry` loads those after the built-ins.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from hashguard.errors import UnknownSignalType
from hashguard.signals.base import Signal, SignalType
from hashguard.signals.digests import DIGESTS
from hashguard.signals.keyword import Keyword
from hashguard.signals.pdq import Pdq
from hashguard.signals.photodna import PhotoDna
from hashguard.signals.url import Url, UrlSha256

ENTRY_POINT_GROUP = "hashguard.signal_types"


class Registry:
    def __init__(self) -> None:
        self._types: dict[str, SignalType] = {}

    def register(self, signal_type: SignalType) -> None:
        if signal_type.name in self._types:
            raise ValueError(f"signal type {signal_type.name!r} is already registered")
        self._types[signal_type.name] = signal_type

    def get(self, name: str) -> SignalType:
        try:
            return self._types[name.strip().lower()]
        except KeyError:
            known = ", ".join(sorted(self._types))
            raise UnknownSignalType(f"unknown signal type {name!r} (known: {known})") from None

    def names(self) -> list[str]:
        return sorted(self._types)

    def parse(self, type_name: str, raw: str) -> Signal:
        """A checked, canonical :class:`Signal` from user text."""
        signal_type = self.get(type_name)
        return Signal(signal_type.name, signal_type.parse(raw))


def default_registry() -> Registry:
    registry = Registry()
    for builtin in (*DIGESTS, Pdq(), PhotoDna(), Url(), UrlSha256(), Keyword()):
        registry.register(builtin)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        registry.register(ep.load()())
    return registry
