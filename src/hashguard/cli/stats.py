"""`hashguard stats`: transparency statistics (docs/stats.md)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any

from hashguard.cli.common import load_settings, open_store


def cmd_stats(args: argparse.Namespace) -> int:
    from hashguard.reports.stats import csv_lines, date_range, json_chunks, summary_text, totals

    settings = load_settings(args)
    since, until = date_range(args.since, args.until)
    store = open_store(args)
    try:
        if args.summary:
            figures = totals(store.stats, since, until)
            sys.stdout.write(json.dumps(figures, indent=2) + "\n")
            sys.stdout.write("\n" + summary_text(figures, settings.reports.platform) + "\n")
            return 0
        rows = store.stats.rows(since, until)
        chunks = csv_lines(rows) if args.format == "csv" else json_chunks(rows, since, until)
        for chunk in chunks:
            sys.stdout.write(chunk)
        if args.format != "csv":
            sys.stdout.write("\n")
        return 0
    finally:
        store.close()


def add_parser(sub: Any) -> None:
    s = sub.add_parser("stats", help="transparency statistics for a date range")
    s.add_argument("--since", type=date.fromisoformat, help="first day (UTC), YYYY-MM-DD")
    s.add_argument("--until", type=date.fromisoformat, help="last day, inclusive; today")
    s.add_argument("--format", choices=("csv", "json"), default="csv")
    s.add_argument("--summary", action="store_true", help="the range's totals, and in words")
    s.set_defaults(func=cmd_stats)
