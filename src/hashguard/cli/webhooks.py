"""`hashguard webhooks ...` (endpoints, deliveries, replays) and `hashguard worker` (the
outbox deliverer as a process of its own)."""

from __future__ import annotations

import argparse
import logging
import os
import socket
import time
from typing import Any

from hashguard.cli.common import actor, emit, load_settings, open_store
from hashguard.errors import InvalidValue

log = logging.getLogger(__name__)
LEASE_SECONDS = 30.0


def cmd_webhooks(args: argparse.Namespace) -> int:
    from hashguard.actions.webhooks import check_events, check_name, check_secret, check_url

    settings = load_settings(args)
    store = open_store(args)
    hooks = store.webhooks
    try:
        command = args.webhooks_command
        if command == "add":
            secret = _secret(args)
            url = check_url(args.url, allow_private=settings.webhook_allow_private)
            hook = hooks.add(
                check_name(args.name), url,
                check_events(args.events.split(",")), check_secret(secret), actor=actor(),
                from_now=not args.from_start,
            )  # fmt: skip
            emit(hook.as_dict())
        elif command == "list":
            for hook in hooks.list():
                emit(hook.as_dict())
        elif command == "remove":
            hooks.remove(args.name, actor=actor())
        elif command == "rotate":
            emit(hooks.rotate(args.name, check_secret(_secret(args)), actor=actor()).as_dict())
        elif command == "retire":
            emit(hooks.rotate(args.name, None, actor=actor()).as_dict())
        elif command == "deliveries":
            for row in hooks.deliveries(failed=args.failed, limit=args.limit):
                emit(row)
        elif command == "replay":
            emit({"webhook": args.name, "requeued": hooks.replay(args.name, actor=actor())})
        return 0
    finally:
        store.close()


def _secret(args: argparse.Namespace) -> str:
    if args.secret_env:
        value = os.environ.get(args.secret_env)
        if not value:
            raise InvalidValue(f"--secret-env {args.secret_env}: that variable is not set")
        return value
    if args.secret:
        return str(args.secret)
    raise InvalidValue("give the signing secret: --secret S or --secret-env VAR")


def cmd_worker(args: argparse.Namespace) -> int:
    """Deliver the outbox until stopped (or once): one deliverer across replicas, by lease."""
    from hashguard.actions.deliver import Deliverer

    settings = load_settings(args)
    store = open_store(args)
    deliverer = Deliverer(store.webhooks, allow_private=settings.webhook_allow_private)
    owner = f"{socket.gethostname()}:{os.getpid()}"
    try:
        while True:
            if store.webhooks.claim(owner, LEASE_SECONDS):
                done = deliverer.run_once()
                if args.once or done.delivered or done.failed:
                    emit({"queued": done.queued, "delivered": done.delivered,
                          "failed": done.failed, "dead": done.dead, "held": done.held})  # fmt: skip
            if args.once:
                return 0
            time.sleep(args.every)
    except KeyboardInterrupt:
        return 0
    finally:
        deliverer.close()
        store.close()


def add_parsers(sub: Any) -> None:
    w = sub.add_parser("webhooks", help="webhook endpoints for verdict events, and deliveries")
    w_sub = w.add_subparsers(dest="webhooks_command", required=True)
    add = w_sub.add_parser("add", help="a new endpoint (its URL is checked)")
    add.add_argument("url")
    add.add_argument("--name", required=True)
    add.add_argument("--events", default="block,report", help="of review,block,report")
    add.add_argument("--secret", help="the signing secret (16+ characters)")
    add.add_argument("--secret-env", metavar="VAR", help="read the secret from this variable")
    add.add_argument("--from-start", action="store_true",
                     help="also every event already in the outbox")  # fmt: skip
    w_sub.add_parser("list", help="endpoints (never their secrets)")
    w_sub.add_parser("remove", help="remove an endpoint and its deliveries").add_argument("name")
    rot = w_sub.add_parser("rotate", help="a new secret, the old one still signing beside it")
    rot.add_argument("name")
    rot.add_argument("--secret")
    rot.add_argument("--secret-env", metavar="VAR")
    w_sub.add_parser("retire", help="stop signing with all but the newest secret").add_argument(
        "name"
    )
    dl = w_sub.add_parser("deliveries", help="deliveries, newest first")
    dl.add_argument("--failed", action="store_true", help="dead ones and those that failed")
    dl.add_argument("--limit", type=int, default=1000)
    w_sub.add_parser("replay", help="send an endpoint's dead deliveries again").add_argument("name")
    w.set_defaults(func=cmd_webhooks)
    worker = sub.add_parser("worker", help="deliver the outbox to webhooks (also inside serve)")
    worker.add_argument("--once", action="store_true", help="one pass, then exit")
    worker.add_argument("--every", type=float, default=0.25, help="seconds between passes")
    worker.set_defaults(func=cmd_worker)
