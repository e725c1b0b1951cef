"""`hashguard dsa ...`: DSA statements of reasons (docs/dsa.md)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from hashguard.cli.common import emit, load_settings, open_store


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def _checked(found: Iterator[dict[str, Any]], validate: Any) -> Iterator[dict[str, Any]]:
    for s in found:
        validate(s)
        yield s


def cmd_dsa(args: argparse.Namespace) -> int:
    from hashguard.reports.dsa import as_jsonl, statements, validate

    settings = load_settings(args)
    store = open_store(args)
    try:
        found = statements(store, args.since, args.until, settings.reports.dsa)
        if args.dsa_command == "export":
            checked = _checked(found, validate)
            if args.out is None:
                for line in as_jsonl(checked):
                    sys.stdout.write(line)
            else:
                from hashguard.cli.files import replacing

                with replacing(args.out) as out:
                    for line in as_jsonl(checked):
                        out.write(line)
        else:
            from hashguard.reports.dsa_client import submit

            counts = submit(store, found, settings.reports)
            emit(counts)
            return 9 if counts["failed"] else 0
        return 0
    finally:
        store.close()


def add_parser(sub: Any) -> None:
    d = sub.add_parser("dsa", help="DSA statements of reasons (EU Transparency Database)")
    d_sub = d.add_subparsers(dest="dsa_command", required=True)
    for name, text in (
        ("export", "a date range's statements as JSON Lines"),
        ("submit", "send a date range's statements not sent yet"),
    ):
        c = d_sub.add_parser(name, help=text)
        c.add_argument("--since", type=_day, required=True, help="first day (UTC), YYYY-MM-DD")
        c.add_argument("--until", type=_day, required=True, help="last day, included")
        if name == "export":
            c.add_argument("--out", type=Path, help="write to this file (owner-only), not stdout")
    d.set_defaults(func=cmd_dsa)
