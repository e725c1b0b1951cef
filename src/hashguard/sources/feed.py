"""Syncing a bank from a hashguard feed (see :mod:`hashguard.feeds`).

Source settings: ``public_keys`` (PEM text of every trusted key), optional ``feed`` (the
feed's name, pinned), ``headers_env`` (header name -> environment variable holding its value:
secrets stay out of the database) and ``max_file_bytes``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hashguard.banks.model import ImportReport
from hashguard.errors import ConfigError, InvalidValue, RowError
from hashguard.feeds.manifest import Checkpoint
from hashguard.feeds.signing import trusted_keys
from hashguard.feeds.sync import Limits, open_feed
from hashguard.signals.registry import Registry
from hashguard.sources.model import Source
from hashguard.store.repositories import Repositories
from hashguard.store.workdir import private_workspace


def public_keys(pems: list[str]) -> dict[str, Ed25519PublicKey]:
    keys = []
    for pem in pems:
        try:
            key = ser.load_pem_public_key(pem.encode())
        except ValueError:
            raise InvalidValue("a feed source's public_keys must be PEM public keys") from None
        if not isinstance(key, Ed25519PublicKey):
            raise InvalidValue("feed keys are Ed25519 keys")
        keys.append(key)
    if not keys:
        raise InvalidValue("a feed source needs at least one public key to verify it with")
    return trusted_keys(keys)


def _headers(settings: Mapping[str, Any]) -> dict[str, str]:
    headers = {}
    for name, variable in settings.get("headers_env", {}).items():
        if variable not in os.environ:
            raise ConfigError(f"header {name} comes from ${variable}, which is not set")
        headers[name] = os.environ[variable]
    return headers


def _checkpoint(source: Source) -> Checkpoint:
    if not source.checkpoint:
        return Checkpoint()
    try:
        return Checkpoint.from_json(source.checkpoint)
    except ValueError as e:
        raise ConfigError(
            f"source {source.name}'s checkpoint is unreadable ({e}); `hashguard sources reset "
            f"{source.name}` resyncs it from the snapshot"
        ) from None


def sync_feed(
    store: Repositories,
    source: Source,
    registry: Registry,
    *,
    limits: Limits | None = None,
    now: datetime | None = None,
) -> list[ImportReport]:
    """Apply every version of the feed the bank lacks, each in one transaction together with
    the checkpoint that records it. ``limits`` and ``now`` replace the source's own limits
    and the clock (tests of timeouts and expiry)."""
    checkpoint = _checkpoint(source)
    if limits is None:
        limits = Limits(file_bytes=int(source.settings.get("max_file_bytes", Limits.file_bytes)))
    reports = []
    # Downloads are kept beside the store, owner-only, not in the shared /tmp.
    with (
        private_workspace(store.work_dir, "feed-") as workdir,
        open_feed(
            source.url,
            public_keys(source.settings.get("public_keys", [])),
            checkpoint,
            feed=source.settings.get("feed"),
            headers=_headers(source.settings),
            limits=limits,
            workdir=workdir,
            now=now,
        ) as sync,
    ):
        for step in sync.steps:
            errors: list[RowError] = []
            current = store.export_rows(source.bank) if step.file.kind == "snapshot" else None
            saved = step.checkpoint.to_json()
            reports.append(
                store.import_rows(
                    source.bank,
                    step.rows(errors, registry, current),
                    errors,
                    step.source,
                    actor=f"source:{source.name}",
                    action="source.sync",
                    checkpoint=(source.name, saved),
                )
            )
    return reports
