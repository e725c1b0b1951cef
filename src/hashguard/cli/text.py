"""`hashguard match-text`: messages in (one per line), URL and keyword matches out."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from typing import IO, Any

from hashguard.cli.common import EXIT_MATCHED, EXIT_UNREADABLE, emit, open_engine
from hashguard.errors import HashguardError


def cmd_match_text(args: argparse.Namespace) -> int:
    engine = open_engine(args)
    failed = matched = False
    with ExitStack() as stack:
        raw: IO[bytes] = (
            sys.stdin.buffer
            if args.file in (None, "-")
            else stack.enter_context(open(args.file, "rb"))
        )
        for number, line in enumerate(raw, start=1):
            try:
                text = line.rstrip(b"\r\n").decode("utf-8")
            except UnicodeDecodeError as e:
                failed = True
                emit({"line": number, "error": f"not UTF-8 (byte {e.start}); line skipped"})
                continue
            try:
                result = engine.match_text(text)
            except HashguardError as e:
                failed = True
                emit({"line": number, "error": e.message})
                continue
            matched |= bool(result.matches)
            decision = engine.decide(result.matches)
            emit({"line": number, **decision.as_dict(), "policy_version": decision.policy_version,
                  **result.as_dict()})  # fmt: skip
    if args.fail_on_match and matched:
        return EXIT_MATCHED
    return EXIT_UNREADABLE if failed else 0


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "match-text", help="match messages (one per line) against URL and keyword lists"
    )
    p.add_argument("file", nargs="?", help="a file of messages, one per line (default: stdin)")
    p.add_argument("--fail-on-match", action="store_true", help="exit 10 on any match")
    p.set_defaults(func=cmd_match_text)
