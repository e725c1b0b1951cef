"""Signal types: one module each, plus the interface and the registry."""

from hashguard.signals.base import HexDigestType, Signal, SignalType
from hashguard.signals.registry import Registry, default_registry

__all__ = ["HexDigestType", "Registry", "Signal", "SignalType", "default_registry"]
