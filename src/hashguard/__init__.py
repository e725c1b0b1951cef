"""hashguard: detect and stop the spread of known abuse content.

The public surface, importable from here: :class:`Engine` turns content or signals into
matches over a store (:class:`Store` on SQLite or PostgreSQL, :class:`MemoryStore` for
tests; both keep the :class:`Repositories` interfaces); a :class:`Registry` holds the
:class:`SignalType` s (:func:`default_registry`); every error is a :class:`HashguardError`
(:mod:`hashguard.errors`). Anything else may change between versions.

Names are imported on first use, so ``import hashguard`` stays cheap and the modules that
import ``hashguard.plugins`` do not import each other in a circle.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_WHERE = {
    "Engine": "hashguard.engine",
    "Match": "hashguard.engine",
    "Result": "hashguard.engine",
    "Store": "hashguard.store.store",
    "MemoryStore": "hashguard.store.memory",
    "Repositories": "hashguard.store.repositories",
    "Registry": "hashguard.signals.registry",
    "default_registry": "hashguard.signals.registry",
    "Signal": "hashguard.signals.base",
    "SignalType": "hashguard.signals.base",
    "Bank": "hashguard.banks.model",
    "Entry": "hashguard.banks.model",
    "ImportReport": "hashguard.banks.model",
    "HashguardError": "hashguard.errors",
}

__all__ = [
    "Bank",
    "Engine",
    "Entry",
    "HashguardError",
    "ImportReport",
    "Match",
    "MemoryStore",
    "Registry",
    "Repositories",
    "Result",
    "Signal",
    "SignalType",
    "Store",
    "__version__",
    "default_registry",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'hashguard' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from hashguard.banks.model import Bank, Entry, ImportReport
    from hashguard.engine import Engine, Match, Result
    from hashguard.errors import HashguardError
    from hashguard.signals.base import Signal, SignalType
    from hashguard.signals.registry import Registry, default_registry
    from hashguard.store.memory import MemoryStore
    from hashguard.store.repositories import Repositories
    from hashguard.store.store import Store
