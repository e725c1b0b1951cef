"""The signal type registry: every type an installed package registers, built-ins included,
through the ``hashguard.signal_types`` entry points (see :mod:`hashguard.plugins`)."""

from __future__ import annotations

from functools import cache

from hashguard import plugins
from hashguard.errors import ConfigError, UnknownSignalType
from hashguard.signals.base import Signal, SignalType


class Registry:
    def __init__(self, types: list[SignalType] | None = None) -> None:
        self._types: dict[str, SignalType] = {}
        self._hashers: list[SignalType] | None = None
        for signal_type in types or ():
            self.register(signal_type)

    def register(self, signal_type: SignalType) -> None:
        if signal_type.name in self._types:
            raise ValueError(f"signal type {signal_type.name!r} is already registered")
        self._types[signal_type.name] = signal_type
        self._hashers = None

    def get(self, name: str) -> SignalType:
        try:
            return self._types[name.strip().lower()]
        except KeyError:
            known = ", ".join(sorted(self._types))
            raise UnknownSignalType(f"unknown signal type {name!r} (known: {known})") from None

    def names(self) -> list[str]:
        return sorted(self._types)

    def types(self) -> list[SignalType]:
        return [self._types[n] for n in self.names()]

    def hashers(self) -> list[SignalType]:
        """The types that hash content: those of any bytes first, then the rest, by name."""
        if self._hashers is None:
            found = [t for t in self.types() if t.hashes is not None]
            self._hashers = sorted(found, key=lambda t: (t.hashes != "bytes", t.name))
        return self._hashers

    def parse(self, type_name: str, raw: str) -> Signal:
        """A checked, canonical :class:`Signal` from user text."""
        signal_type = self.get(type_name)
        return Signal(signal_type.name, signal_type.parse(raw))


def default_registry() -> Registry:
    """A registry of every installed signal type."""
    registry = Registry()
    for name, cls in plugins.load(plugins.SIGNAL_TYPES).items():
        signal_type = cls()
        if not isinstance(signal_type, SignalType) or signal_type.name != name:
            raise ConfigError(f"signal type entry point {name!r} does not make a {name!r} type")
        registry.register(signal_type)
    return registry


@cache
def shared_registry() -> Registry:
    """One :func:`default_registry` for callers that are given none (types are immutable)."""
    return default_registry()
