"""What every command shares: output, settings, the store and the engine."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import Any

from hashguard.errors import MatchFound, MediaError

# Exit codes that are no error's own (see each error class's exit_code).
EXIT_UNREADABLE = MediaError.exit_code  # some inputs could not be read, the rest were
EXIT_MATCHED = MatchFound.exit_code  # match --fail-on-match found a match


def actor() -> str:
    """Who the audit log names for a CLI call: the operating-system user."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def emit(record: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")


def progress(items: Iterator[Any]) -> Iterator[Any]:
    """A progress bar on a terminal, nothing when stderr is redirected."""
    if not sys.stderr.isatty():
        return items
    from tqdm import tqdm

    return iter(tqdm(items, unit="file", file=sys.stderr, leave=False))


def load_settings(args: argparse.Namespace) -> Any:
    from hashguard.settings import Settings

    return Settings.load(db=args.db, config=args.config)


def open_store(args: argparse.Namespace) -> Any:
    from hashguard.store.store import Store

    return Store(load_settings(args).db_url)


def open_engine(args: argparse.Namespace, *, load: bool = True) -> Any:
    from hashguard.engine import Engine
    from hashguard.store.store import Store

    config = load_settings(args)
    return Engine(
        Store(config.db_url),
        index_dir=config.index_dir,
        limits=config.limits,
        video=config.video,
        exact_orientations=config.exact_orientations or getattr(args, "exact_orientations", False),
        load=load,
    )
