"""The `hashguard` command: :mod:`~hashguard.cli.main` holds the parser and the core
commands, :mod:`~hashguard.cli.sync` the list-sync ones (sources and feeds)."""

from hashguard.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
