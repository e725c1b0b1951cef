"""`hashguard policy show|set`: the policy in force, and setting the next version."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from hashguard.cli.common import actor, emit, open_store
from hashguard.errors import InvalidValue
from hashguard.policy import load, parse
from hashguard.policy.parse import MAX_DOCUMENT
from hashguard.policy.versions import in_force, set_policy, stored
from hashguard.signals.registry import shared_registry


def cmd_policy(args: argparse.Namespace) -> int:
    store = open_store(args)
    registry = shared_registry()
    try:
        if args.policy_command == "show":
            out = in_force(store, registry).as_dict()
            if args.history:
                records = store.policies.history(limit=args.history + 1)[1:]
                out["history"] = [stored(r, registry).as_dict() for r in records]
            emit(out)
            return 0
        text, fmt = _read(args.file, args.format)
        if args.check:
            banks = [b.name for b in store.banks()]
            policy = parse(load(text, fmt), signal_types=registry.names(), banks=banks)
            emit({"valid": True, "policy": policy.as_dict()})
            return 0
        new = set_policy(store, registry, text, fmt=fmt, actor=actor())
        print(f"hashguard: policy version {new.version} is in force", file=sys.stderr)
        emit(new.as_dict())
        return 0
    finally:
        store.close()


def _read(file: str, fmt: str | None) -> tuple[str, str | None]:
    if file == "-":
        data = sys.stdin.buffer.read(MAX_DOCUMENT + 1)
    else:
        path = Path(file)
        try:
            with path.open("rb") as f:
                data = f.read(MAX_DOCUMENT + 1)
        except OSError as e:
            raise InvalidValue(f"cannot read {file}: {e.strerror}") from None
        if fmt is None and path.suffix.lower() in (".toml", ".json"):
            fmt = path.suffix.lower()[1:]
    try:
        return data.decode(), fmt
    except UnicodeDecodeError:
        raise InvalidValue(f"{file} is not UTF-8 text") from None


def add_parser(sub: Any) -> None:
    p = sub.add_parser("policy", help="show the policy in force, or set a new version")
    p_sub = p.add_subparsers(dest="policy_command", required=True)
    show = p_sub.add_parser("show", help="the policy in force (version 0: the built-in one)")
    show.add_argument("--history", type=int, default=0, metavar="N", help="and N earlier ones")
    put = p_sub.add_parser("set", help="check FILE and make it the next version")
    put.add_argument("file", help="a TOML or JSON policy document (docs/policy.md); - for stdin")
    put.add_argument("--format", choices=["toml", "json"], help="default: from the file name")
    put.add_argument("--check", action="store_true", help="only check it; change nothing")
    p.set_defaults(func=cmd_policy)
