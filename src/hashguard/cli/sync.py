"""`hashguard sources ...` (upstream lists a bank follows) and `hashguard feed ...`
(publishing a bank as a signed feed)."""

from __future__ import annotations

import argparse
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from hashguard.cli.common import actor, emit, open_store
from hashguard.errors import ConfigError, InvalidValue

EXIT_REJECTED = 8  # a feed or list failed verification: nothing applied (FeedError's code)
EXIT_UNAVAILABLE = 9


def _passphrase(variable: str | None) -> bytes | None:
    if variable is None:
        return None
    if variable not in os.environ:
        raise ConfigError(f"the passphrase is to come from ${variable}, which is not set")
    return os.environ[variable].encode()


def _pairs(items: list[str], what: str) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidValue(f"{what} must be KEY=VALUE, not {item!r}")
        out[key] = value
    return out


def cmd_sources(args: argparse.Namespace) -> int:
    store = open_store(args)
    if args.sources_command == "add":
        store.bank(args.bank)
        settings: dict[str, Any] = {"interval": args.interval}
        if args.feed:
            from hashguard.feeds.signing import load_public_key, public_pem

            keys = [public_pem(load_public_key(Path(p))).decode() for p in args.public_key or []]
            if not keys:
                raise InvalidValue("a feed source needs --public-key (the publisher's .pub file)")
            settings |= {
                "public_keys": keys,
                "headers_env": _pairs(args.header_env, "--header-env"),
            }
            if args.feed_name:
                settings["feed"] = args.feed_name
            kind, url = "feed", args.feed
        else:
            from hashguard.sources.threatexchange import APIS

            if args.exchange not in APIS:
                raise InvalidValue(f"unknown exchange {args.exchange!r}: use {', '.join(APIS)}")
            settings |= {"api": args.exchange, "collab": _pairs(args.collab, "--collab")}
            kind, url = "threatexchange", args.file or args.exchange
        emit(store.sources.add(args.name, kind, args.bank, url, settings, actor=actor()).as_dict())
        return 0
    if args.sources_command == "remove":
        store.sources.remove(args.name, actor=actor())
        return 0
    if args.sources_command == "reset":
        emit(store.sources.reset_checkpoint(args.name, actor=actor()).as_dict())
        return 0
    if args.sources_command == "list":
        for source in store.sources.list():
            emit(source.as_dict())
        return 0
    from hashguard.signals.registry import default_registry
    from hashguard.sources.runner import sync_source

    chosen = [store.sources.get(n) for n in args.names] or store.sources.list()
    statuses = set()
    for source in chosen:
        outcome = sync_source(store, source, default_registry())
        statuses.add(outcome.status)
        emit(outcome.as_dict())
    if "rejected" in statuses:
        return EXIT_REJECTED
    return EXIT_UNAVAILABLE if statuses - {"ok"} else 0


def cmd_feed(args: argparse.Namespace) -> int:
    from hashguard.feeds import signing

    if args.feed_command == "keygen":
        kid = signing.generate_key(
            args.private_key, args.public_key, _passphrase(args.passphrase_env)
        )
        emit(
            {
                "key_id": kid,
                "private_key": str(args.private_key),
                "public_key": str(args.public_key),
            }
        )
        return 0
    from hashguard.feeds.publish import publish

    store = open_store(args)
    report = publish(
        args.dir,
        store.export_rows(args.bank),
        signing.load_private_key(args.private_key, _passphrase(args.passphrase_env)),
        feed=args.feed or args.bank,
        previous_keys=[signing.load_public_key(p) for p in args.previous_key or []],
        snapshot_every=args.snapshot_every,
        keep_deltas=args.keep_deltas,
        valid_for=timedelta(days=args.valid_days),
    )
    emit(report.as_dict())
    return 0


def add_parsers(sub: Any) -> None:
    src = sub.add_parser("sources", help="upstream lists that banks follow: add, list, sync")
    src_sub = src.add_subparsers(dest="sources_command", required=True)
    add = src_sub.add_parser("add", help="make a bank follow a feed or an exchange")
    add.add_argument("name")
    add.add_argument("--bank", required=True)
    what = add.add_mutually_exclusive_group(required=True)
    what.add_argument("--feed", metavar="URL", help="a hashguard feed: https://, file:// or a path")
    what.add_argument("--exchange", help="a python-threatexchange exchange, e.g. local_file, ncmec")
    add.add_argument("--public-key", type=Path, action="append", help="trusted feed key (.pub)")
    add.add_argument("--feed-name", help="pin the feed's name")
    add.add_argument(
        "--header-env",
        action="append",
        default=[],
        metavar="HEADER=VAR",
        help="send HEADER with the value of $VAR (Authorization=TOKEN_VAR)",
    )
    add.add_argument("--file", help="the local_file exchange's file")
    add.add_argument(
        "--collab",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a field of the exchange's collaboration config",
    )
    add.add_argument("--interval", type=int, default=900, help="seconds between syncs (900)")
    src_sub.add_parser("list")
    src_sub.add_parser("remove").add_argument("name")
    src_sub.add_parser(
        "reset", help="forget the checkpoint: the next sync starts over from the snapshot"
    ).add_argument("name")
    sync = src_sub.add_parser("sync", help="sync now: the sources named, or all")
    sync.add_argument("names", nargs="*")
    src.set_defaults(func=cmd_sources)

    feed = sub.add_parser("feed", help="publish a bank as a signed feed")
    feed_sub = feed.add_subparsers(dest="feed_command", required=True)
    gen = feed_sub.add_parser("keygen", help="make an Ed25519 key pair for signing a feed")
    pub = feed_sub.add_parser("publish", help="write the next version of a bank's feed")
    for p in (gen, pub):
        p.add_argument("--private-key", type=Path, required=True)
        p.add_argument("--passphrase-env", metavar="VAR", help="the private key's passphrase")
    gen.add_argument("--public-key", type=Path, required=True)
    pub.add_argument("--bank", required=True)
    pub.add_argument("--dir", type=Path, required=True, help="the feed's directory")
    pub.add_argument("--feed", help="the feed's name (default: the bank's)")
    pub.add_argument("--snapshot-every", type=int, default=10)
    pub.add_argument("--keep-deltas", type=int, default=30)
    pub.add_argument("--valid-days", type=float, default=7)
    pub.add_argument("--previous-key", type=Path, action="append", help="after a key rotation")
    feed.set_defaults(func=cmd_feed)
