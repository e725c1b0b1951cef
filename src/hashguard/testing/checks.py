"""``require``: the kits' assert, which ``python -O`` does not strip."""

from __future__ import annotations

from typing import Any


def require(condition: Any, message: Any = "a kit check failed") -> None:
    if not condition:
        raise AssertionError(message)
