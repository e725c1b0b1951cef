"""`hashguard users ...` (console accounts) and `hashguard kept ...` (the sealing keys of
content kept for review)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Any

from hashguard.cli.common import actor, emit, load_settings, open_store
from hashguard.errors import ConfigError, InvalidValue


def _password(args: argparse.Namespace) -> str:
    if args.password_env:
        value = os.environ.get(args.password_env)
        if not value:
            raise InvalidValue(f"--password-env {args.password_env}: that variable is not set")
        return value
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")  # piped: one line
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise InvalidValue("the two passwords differ")
    return first


def cmd_users(args: argparse.Namespace) -> int:
    store = open_store(args)
    users = store.users
    try:
        command = args.users_command
        if command == "add":
            emit(users.add(args.name, args.role, _password(args), actor=actor()).as_dict())
        elif command == "list":
            for user in users.list():
                emit(user.as_dict())
        elif command == "disable":
            emit(users.disable(args.name, actor=actor()).as_dict())
        elif command == "password":
            users.set_password(args.name, _password(args), actor=actor())
            emit(users.get(args.name).as_dict())
        return 0
    finally:
        store.close()


def cmd_kept(args: argparse.Namespace) -> int:
    from hashguard.review.sealing import KeyRing, new_key_line

    if args.kept_command == "keygen":
        sys.stdout.write(new_key_line(args.id) + "\n")
        return 0
    settings = load_settings(args)
    if settings.review.keys_file is None:
        raise ConfigError("no review_keys_file is set (HASHGUARD_REVIEW_KEYS_FILE)")
    ring = KeyRing.load(settings.review.keys_file)
    store = open_store(args)
    try:
        emit({"resealed": store.kept.rekey(ring), "key": ring.current})
        return 0
    finally:
        store.close()


def add_parsers(sub: Any) -> None:
    u = sub.add_parser("users", help="review console accounts")
    u_sub = u.add_subparsers(dest="users_command", required=True)
    add = u_sub.add_parser("add", help="a new account; the password is asked for, or piped")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=("reviewer", "lead", "admin"))
    add.add_argument("--password-env", metavar="VAR", help="read the password from this variable")
    u_sub.add_parser("list", help="accounts (never their passwords)")
    u_sub.add_parser("disable", help="disable an account and end its sessions").add_argument("name")
    pw = u_sub.add_parser("password", help="set an account's password (and unlock it)")
    pw.add_argument("name")
    pw.add_argument("--password-env", metavar="VAR")
    u.set_defaults(func=cmd_users)
    k = sub.add_parser("kept", help="sealing keys of content kept for review")
    k_sub = k.add_subparsers(dest="kept_command", required=True)
    gen = k_sub.add_parser("keygen", help="print a new key line for the review keys file")
    gen.add_argument("--id", help="its id (default: random)")
    k_sub.add_parser("rekey", help="reseal kept content with the file's newest key")
    k.set_defaults(func=cmd_kept)
