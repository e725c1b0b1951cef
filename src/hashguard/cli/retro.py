"""`hashguard retro status|run` (retroactive matching of the seen log against new entries;
``serve`` runs it in one process across replicas) and `hashguard spread` (where an item was
shared, from the seen log)."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from hashguard.cli.common import emit, open_engine


def cmd_retro(args: argparse.Namespace) -> int:
    from hashguard.seen.retro import Retro

    engine = open_engine(args)
    try:
        # A run at the command line waits for nothing: checks answered in the last second
        # may still be in a serving process's buffer (serve's own passes wait for them).
        retro = Retro(engine, grace=0)
        if args.retro_command == "run":
            engine.refresh()
            emit(dataclasses.asdict(retro.run_once()))
        emit(retro.status())
        return 0
    finally:
        engine.store.close()


def add_parser(sub: Any) -> None:
    p = sub.add_parser("retro", help="retroactive matching of the seen log against new entries")
    p_sub = p.add_subparsers(dest="retro_command", required=True)
    p_sub.add_parser("status", help="where it stands in the change log, and its lag")
    p_sub.add_parser("run", help="one pass now, up to the end of the change log")
    p.set_defaults(func=cmd_retro)


def cmd_spread(args: argparse.Namespace) -> int:
    from hashguard.seen.pdq_index import SeenPdqIndex
    from hashguard.seen.spread import default_threshold, spread

    engine = open_engine(args)
    try:
        seen = engine.store.seen_log
        threshold = (
            default_threshold(engine.banks) if args.pdq_threshold is None else args.pdq_threshold
        )
        emit(spread(seen, SeenPdqIndex(seen), args.content_id, threshold=threshold))
        return 0
    finally:
        engine.store.close()


def add_spread_parser(sub: Any) -> None:
    p = sub.add_parser("spread", help="where an item was shared: its sightings in the seen log")
    p.add_argument("content_id")
    p.add_argument("--pdq-threshold", type=int, help="default: the largest of the banks'")
    p.set_defaults(func=cmd_spread)
