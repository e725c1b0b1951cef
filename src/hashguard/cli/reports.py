"""`hashguard report ...`: authority reports (docs/reports.md)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from hashguard.cli.common import emit, load_settings, open_store


def cmd_report(args: argparse.Namespace) -> int:
    from hashguard.reports.export import as_json, as_xml

    settings = load_settings(args)
    store = open_store(args)
    try:
        command = args.report_command
        if command == "list":
            for report in store.reports.recent(args.status, limit=args.limit):
                emit(report.as_dict())
        elif command == "export":
            report = store.reports.get(args.id)
            profile = settings.reports.profile
            if args.format == "xml":
                sys.stdout.buffer.write(as_xml(report, profile))
            else:
                sys.stdout.write(json.dumps(as_json(report, profile), indent=2) + "\n")
        elif command == "submit":
            import time

            from hashguard.cli.common import actor
            from hashguard.reports.submit import submit_now
            from hashguard.review.sealing import KeyRing

            keys = settings.review.keys_file
            ring = KeyRing.load(keys) if keys else None
            done = submit_now(store, args.id, settings.reports, ring=ring, actor=actor(),
                              now=time.time())  # fmt: skip
            emit(done.as_dict())
            return 0 if done.status == "submitted" else 8
        elif command == "evidence":
            for row in store.reports.evidence(args.id):
                emit(row)
        return 0
    finally:
        store.close()


def add_parser(sub: Any) -> None:
    from hashguard.store.report_table import STATUSES

    r = sub.add_parser("report", help="authority reports (NCMEC CyberTipline)")
    r_sub = r.add_subparsers(dest="report_command", required=True)
    ls = r_sub.add_parser("list", help="reports, newest first")
    ls.add_argument("--status", choices=STATUSES)
    ls.add_argument("--limit", type=int, default=100)
    ex = r_sub.add_parser("export", help="a report as the CyberTipline's XML, or JSON")
    ex.add_argument("id", type=int)
    ex.add_argument("--format", choices=("xml", "json"), default="xml")
    r_sub.add_parser("submit", help="submit a report to the CyberTipline now").add_argument(
        "id", type=int
    )
    r_sub.add_parser("evidence", help="a submitted report's preserved evidence").add_argument(
        "id", type=int
    )
    r.set_defaults(func=cmd_report)
