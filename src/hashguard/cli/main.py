"""The `hashguard` command. Machine output is JSON Lines on stdout; messages go to stderr.

Exit codes: 0 done; 1 internal error (a bug: please report it); 2 bad arguments or values;
3 some inputs could not be read (the others were processed); 4 a list was rejected (nothing
imported); 5 not found; 6 conflict (e.g. the bank exists); 7 configuration or database
error; 8 a feed was rejected (nothing applied); 9 a feed or exchange could not be reached;
10 ``match --fail-on-match`` found a match.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any, NoReturn

from hashguard import __version__
from hashguard.access.api_keys import SCOPES
from hashguard.banks.model import check_pdq_threshold, merge_thresholds, parse_match_fields
from hashguard.cli import dsa as dsa_commands
from hashguard.cli import policy as policy_commands
from hashguard.cli import reports as report_commands
from hashguard.cli import retention as retention_commands
from hashguard.cli import retro as retro_commands
from hashguard.cli import stats as stats_commands
from hashguard.cli import sync
from hashguard.cli import text as text_commands
from hashguard.cli import users as user_commands
from hashguard.cli import webhooks as webhook_commands
from hashguard.cli.common import (
    EXIT_MATCHED,
    EXIT_UNREADABLE,
    actor,
    emit,
    load_settings,
    open_engine,
    open_store,
    progress,
)
from hashguard.cli.files import replacing
from hashguard.errors import HashguardError, InvalidValue, RowError, UnknownSignalType
from hashguard.signals.base import Signal
from hashguard.signals.pdq import DEFAULT_THRESHOLD, MAX_THRESHOLD
from hashguard.signals.registry import default_registry, shared_registry

# commands


def cmd_bank(args: argparse.Namespace) -> int:
    store = open_store(args)
    if args.bank_command == "create":
        bank = store.create_bank(
            args.name,
            args.pdq_threshold,
            thresholds=dict(args.threshold or ()),
            match_fields=args.match_fields,
            actor=actor(),
        )
        emit(bank.as_dict())
    elif args.bank_command == "update":
        enabled = {"enable": True, "disable": False}.get(args.state or "")
        emit(
            store.update_bank(
                args.name,
                pdq_threshold=args.pdq_threshold,
                thresholds=dict(args.threshold or ()),
                enabled=enabled,
                match_fields=args.match_fields,
                actor=actor(),
            ).as_dict()
        )
    elif args.bank_command == "delete":
        emit(
            {
                "deleted": args.name,
                "entries_retracted": store.delete_bank(args.name, actor=actor()),
            }
        )
    else:
        counts = store.bank_counts()
        for bank in store.banks():
            emit(
                {
                    **bank.as_dict(),
                    **{f"{k}_entries": v for k, v in counts.get(bank.name, {}).items()},
                }
            )
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from hashguard.lists import formats

    fmt = formats.get(formats.format_for(args.file, args.format))
    store = open_store(args)
    errors: list[RowError] = []
    with ExitStack() as stack:
        raw: IO[bytes] = (
            sys.stdin.buffer if args.file == "-" else stack.enter_context(open(args.file, "rb"))
        )
        rows = fmt.read(raw, default_registry(), errors)
        report = store.import_rows(args.bank, rows, errors, args.file, actor=actor())
    emit(report.as_dict())
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from hashguard.lists import formats

    fmt = formats.get(args.format)
    store = open_store(args)
    store.bank(args.bank)  # a misspelt bank fails before any file is touched
    if args.spreadsheet_safe and args.format != "csv":
        raise InvalidValue("--spreadsheet-safe is for CSV exports (--format csv)")

    def rows() -> Iterable[dict[str, Any]]:
        found: Iterable[dict[str, Any]] = store.export_rows(
            args.bank, include_retracted=args.include_retracted
        )
        return found

    with ExitStack() as stack:
        out: IO[str] = (
            stack.enter_context(replacing(Path(args.output))) if args.output else sys.stdout
        )
        fmt.write(rows, out, spreadsheet_safe=args.spreadsheet_safe)
    return 0


def cmd_hash(args: argparse.Namespace) -> int:
    from hashguard.batch import hash_paths, iter_paths

    settings = load_settings(args)
    failed = False
    exact = settings.exact_orientations or args.exact_orientations
    hashed = hash_paths(
        iter_paths(args.paths),
        settings.limits,
        args.jobs,
        exact_orientations=exact,
        video=settings.video,
    )
    for path, result in progress(hashed):
        if isinstance(result, str):
            failed = True
            emit({"path": str(path), "error": result})
        elif result.not_image and not args.any_file:
            # A video or a PDF: its digests are what `match` matches; it just has no PDQ.
            line = {k: v for k, v in result.as_dict().items() if k != "media_error"}
            emit({"path": str(path), **line, "note": f"no perceptual hash: {result.media_error}"})
        elif result.media_error is not None and not args.any_file:
            failed = True  # an image that would not decode: corrupt, truncated, too large
            emit({"path": str(path), "error": result.media_error})
        else:
            emit({"path": str(path), **result.as_dict()})
    return EXIT_UNREADABLE if failed else 0


def _read_signals(path: str) -> Iterator[tuple[int, Signal | str]]:
    registry = default_registry()
    with ExitStack() as stack:
        lines = sys.stdin.buffer if path == "-" else stack.enter_context(open(path, "rb"))
        for number, raw in enumerate(lines, start=1):
            try:  # line by line: one bad line is reported, the others still matched
                text = raw.decode("utf-8").strip()
            except UnicodeDecodeError as e:
                yield number, f"not valid UTF-8 at byte {e.start}"
                continue
            if not text or text.startswith("#"):
                continue
            parts = text.split(None, 1)
            if len(parts) != 2:
                yield number, "expected 'TYPE VALUE'"
                continue
            try:
                yield number, registry.parse(parts[0], parts[1])
            except HashguardError as e:
                yield number, e.message


def cmd_match(args: argparse.Namespace) -> int:
    from hashguard.batch import hash_paths, iter_paths

    engine = open_engine(args)
    failed = matched = False
    if args.signals:
        for line, signal in _read_signals(args.signals):
            if isinstance(signal, str):
                failed = True
                emit({"line": line, "error": signal})
                continue
            found = engine.match_signals([signal])
            matched |= bool(found)
            emit({"line": line, "signal_type": signal.type, "signal": signal.value,
                  **_verdict(engine, found), "matches": [m.as_dict() for m in found]})  # fmt: skip
    else:
        hashed = hash_paths(
            iter_paths(args.paths),
            engine.limits,
            args.jobs,
            exact_orientations=engine.exact_orientations,
            video=engine.video,
        )
        for path, result in progress(hashed):
            if isinstance(result, str):
                failed = True
                emit({"path": str(path), "error": result})
                continue
            answer = engine.match_hashed(result)
            matched |= bool(answer.matches)
            emit({"path": str(path), **_verdict(engine, answer.matches), **answer.as_dict()})
    if matched and args.fail_on_match:
        return EXIT_MATCHED
    return EXIT_UNREADABLE if failed else 0


def _verdict(engine: Any, matches: Sequence[Any]) -> dict[str, Any]:
    """What the policy in force makes of ``matches``, as the API answers it."""
    decision = engine.decide(matches)
    return {**decision.as_dict(), "policy_version": decision.policy_version,
            "list_seq": engine.seq}  # fmt: skip


def cmd_index(args: argparse.Namespace) -> int:
    rebuild = args.index_command == "rebuild"
    engine = open_engine(args, load=not rebuild)  # a rebuild reads nothing of the old one
    if rebuild:
        engine.rebuild()
    status = engine.status()
    emit({"seq": status.seq, "loaded_from": status.loaded_from, "types": status.types})
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from hashguard.api.server import serve

    serve(
        load_settings(args),
        host=args.host,
        port=args.port,
        workers=args.workers,
        auth=not args.no_auth,
        allowed_hosts=tuple(args.allow_host or ()),
        deliver=not args.no_deliver,
    )
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    keys = open_store(args).keys
    if args.keys_command == "create":
        key, secret = keys.create(args.name, args.scope, rate_limit=args.rate_limit, actor=actor())
        print(f"made key {key.name!r} with scopes {', '.join(key.scopes)}; it is shown "
              "once, here, and stored only as a hash", file=sys.stderr)  # fmt: skip
        sys.stdout.write(secret + "\n")
    elif args.keys_command == "revoke":
        emit(keys.revoke(args.name, actor=actor()).as_dict())
    else:
        for key in keys.list():
            emit(key.as_dict())
    return 0


# parser


def _threshold(text: str) -> int:
    try:
        return check_pdq_threshold(int(text))
    except (ValueError, InvalidValue) as e:
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to {MAX_THRESHOLD}") from e


def _type_threshold(text: str) -> tuple[str, int | None]:
    """``TYPE=N``, or ``TYPE=default`` to go back to the type's own."""
    name, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError("must be TYPE=N, e.g. pdq=31, or TYPE=default")
    number: int | None = None
    if value.strip().lower() != "default":
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    try:
        merge_thresholds({}, {name: number}, shared_registry())
    except (InvalidValue, UnknownSignalType) as e:
        raise argparse.ArgumentTypeError(e.message) from None
    return name.strip().lower(), number


def _match_fields(text: str) -> list[str]:
    try:
        return list(parse_match_fields(text))
    except InvalidValue as e:
        raise argparse.ArgumentTypeError(e.message) from None


def _port(text: str) -> int:
    value = _whole(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be between 0 and 65535, not {value}")
    return value


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


def _at_least(low: int) -> Callable[[str], int]:
    def check(text: str) -> int:
        value = _whole(text)
        if value < low:
            raise argparse.ArgumentTypeError(f"must be {low} or more, not {value}")
        return value

    return check


class Parser(argparse.ArgumentParser):
    """Bad arguments in one line, like every other error, not the whole usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def _global_options(p: argparse.ArgumentParser, default: object = None) -> None:
    p.add_argument(
        "--db",
        default=default,
        help="SQLAlchemy database URL (default: $HASHGUARD_DB or a per-user SQLite file)",
    )
    p.add_argument("--config", type=Path, default=default, help="TOML settings file")
    p.add_argument("-v", "--verbose", action="store_true", default=default or False)


def _global_options_everywhere(p: argparse.ArgumentParser) -> None:
    """``--db`` and the others after any subcommand too (``hashguard bank list --db X``);
    given there, they win over the ones before it."""
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in set(action.choices.values()):
                _global_options(sub, argparse.SUPPRESS)
                _global_options_everywhere(sub)


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="hashguard", description=__doc__.split("\n")[0])
    p.add_argument("--version", action="version", version=f"hashguard {__version__}")
    _global_options(p)
    sub = p.add_subparsers(dest="command", required=True)

    bank = sub.add_parser("bank", help="create, update and list banks")
    bank_sub = bank.add_subparsers(dest="bank_command", required=True)
    create = bank_sub.add_parser("create")
    create.add_argument("name")
    upd = bank_sub.add_parser("update")
    upd.add_argument("name")
    for parser in (create, upd):
        parser.add_argument(
            "--pdq-threshold", type=_threshold, help=f"default {DEFAULT_THRESHOLD} bits"
        )
        parser.add_argument(
            "--threshold",
            type=_type_threshold,
            action="append",
            metavar="TYPE=N",
            help="the bank's threshold for one signal type (repeatable); TYPE=default "
            "goes back to the type's own",
        )
        parser.add_argument(
            "--match-fields",
            type=_match_fields,
            metavar="FIELDS",
            help="comma-separated entry fields match keys see: category, severity, note, "
            "extra, extra.COLUMN ('' for none; default category,severity)",
        )
    upd.add_argument("--state", choices=["enable", "disable"])
    bank_sub.add_parser("list")
    bank_sub.add_parser("delete", help="retract every entry and free the name").add_argument("name")
    bank.set_defaults(func=cmd_bank)

    imp = sub.add_parser("import", help="import a list file into a bank (atomic)")
    imp.add_argument("file", help="CSV or JSON Lines file, or - for stdin")
    imp.add_argument("--bank", required=True)
    imp.add_argument("--format", help="csv, jsonl or a plugin's; else from the file name")
    imp.set_defaults(func=cmd_import)

    exp = sub.add_parser("export", help="write a bank out as a list")
    exp.add_argument("--bank", required=True)
    exp.add_argument("--format", default="csv", help="csv (default), jsonl or a plugin's")
    exp.add_argument("--include-retracted", action="store_true")
    exp.add_argument("-o", "--output", help="file to write (default: stdout)")
    exp.add_argument(
        "--spreadsheet-safe",
        action="store_true",
        help="CSV for spreadsheets: cells starting = + - @ get a leading ' (not for re-import)",
    )
    exp.set_defaults(func=cmd_export)

    for name, func, text in (
        ("hash", cmd_hash, "hash files (directories are walked; - reads paths from stdin)"),
        ("match", cmd_match, "match files, or precomputed signals, against the banks"),
    ):
        c = sub.add_parser(name, help=text)
        c.add_argument("paths", nargs="*")
        c.add_argument(
            "-j", "--jobs", type=_at_least(1), default=1, help="hashing processes (default 1)"
        )
        c.add_argument(
            "--exact-orientations",
            action="store_true",
            help="hash each rotation/flip from its pixels: every mirrored or rotated copy "
            "matches, for ~4x the hashing time",
        )
        c.set_defaults(func=func)
    sub.choices["hash"].add_argument(
        "--any-file",
        action="store_true",
        help="print the digests of images that cannot be decoded too (with media_error), "
        "rather than an error line",
    )
    sub.choices["match"].add_argument("--signals", help="file of 'TYPE VALUE' lines, or -")
    sub.choices["match"].add_argument(
        "--fail-on-match", action="store_true", help="exit 10 on any match"
    )

    idx = sub.add_parser("index", help="show or rebuild the in-memory indexes' snapshot")
    idx.add_argument("index_command", choices=["status", "rebuild"], nargs="?", default="status")
    idx.set_defaults(func=cmd_index)

    srv = sub.add_parser("serve", help="run the HTTP service")
    srv.add_argument("--host", default="127.0.0.1")
    srv.add_argument(
        "--no-deliver", action="store_true",
        help="leave delivering webhooks to a `hashguard worker` process",
    )  # fmt: skip
    srv.add_argument("--port", type=_port, default=8000, help="0: any free port")
    srv.add_argument("--workers", type=_at_least(1), default=1, help="worker processes (default 1)")
    srv.add_argument(
        "--allow-host",
        action="append",
        metavar="NAME",
        help="a Host header to answer (name or name:port; repeatable); default: any, or "
        "only localhost, 127.0.0.1 and [::1] when --host is loopback",
    )
    srv.add_argument(
        "--no-auth",
        action="store_true",
        help="local development only: no API keys (refused unless --host is loopback)",
    )
    srv.set_defaults(func=cmd_serve)

    keys = sub.add_parser("keys", help="create, list and revoke API keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    kc = keys_sub.add_parser("create", help="print a new key on stdout (shown only this once)")
    kc.add_argument("--scope", action="append", required=True, choices=list(SCOPES))
    kc.add_argument("--name", help="default: the scopes and the key's prefix")
    kc.add_argument(
        "--rate-limit", type=_at_least(0), help="requests/s; 0: none (default: the server's)"
    )
    keys_sub.add_parser("revoke").add_argument("name")
    keys_sub.add_parser("list")
    keys.set_defaults(func=cmd_keys)
    sync.add_parsers(sub)
    text_commands.add_parser(sub)
    policy_commands.add_parser(sub)
    webhook_commands.add_parsers(sub)
    user_commands.add_parsers(sub)
    retention_commands.add_parser(sub)
    report_commands.add_parser(sub)
    dsa_commands.add_parser(sub)
    stats_commands.add_parser(sub)
    retro_commands.add_parser(sub)
    retro_commands.add_spread_parser(sub)
    _global_options_everywhere(p)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="hashguard: %(message)s",
        stream=sys.stderr,
    )
    if args.command == "match" and not args.paths and not args.signals:
        print(
            "hashguard match: give paths, - for paths on stdin, or --signals FILE", file=sys.stderr
        )
        return InvalidValue.exit_code
    try:
        return int(args.func(args))
    except HashguardError as e:
        print(f"hashguard: {e.for_cli()}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
