"""`hashguard purge`: delete what is past its retention (kept verdicts, delivered outbox
events) now; ``serve`` does it every hour."""

from __future__ import annotations

import argparse
from typing import Any

from hashguard.cli.common import emit, load_settings, open_store


def cmd_purge(args: argparse.Namespace) -> int:
    """Delete what is past its retention now (``serve`` does it every hour)."""
    from hashguard.runtime.retention import Retention

    settings = load_settings(args)
    store = open_store(args)
    try:
        retention = Retention(settings.match_log_days, settings.outbox_days, settings.seen_days)
        emit(retention.purge(store))
        return 0
    finally:
        store.close()


def add_parser(sub: Any) -> None:
    p = sub.add_parser("purge", help="delete kept verdicts and outbox events past retention")
    p.set_defaults(func=cmd_purge)
