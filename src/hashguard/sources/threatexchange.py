"""Syncing a bank from one of python-threatexchange's exchanges through its
``SignalExchangeAPI``: the library's own clients (NCMEC hash sharing, StopNCII, Meta
ThreatExchange, a local file), not rewritten here.

Source settings: ``api`` (the exchange's name: ``local_file``, ``ncmec``, ``stop_ncii``,
``fb_threatexchange``) and ``collab`` (the fields of that exchange's collaboration config).
Credentials are found the library's way (its environment variables and files, e.g.
``TX_NCMEC_CREDENTIALS``), never stored by hashguard. For ``local_file`` the source's URL is
the file.

Each batch the exchange yields is applied in one transaction together with its checkpoint.
Updates keyed by (signal type, signal) become entries keyed by their signal; updates keyed by
a record id (NCMEC) become entries with that id. A ``None`` update retracts.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import dacite
from threatexchange.exchanges.impl.fb_threatexchange_api import FBThreatExchangeSignalExchangeAPI
from threatexchange.exchanges.impl.file_api import LocalFileSignalExchangeAPI
from threatexchange.exchanges.impl.ncmec_api import NCMECSignalExchangeAPI
from threatexchange.exchanges.impl.stop_ncii_api import StopNCIISignalExchangeAPI
from threatexchange.signal_type.md5 import VideoMD5Signal
from threatexchange.signal_type.pdq.signal import PdqSignal
from threatexchange.signal_type.sha256 import VideoSHA256Signal

from hashguard.banks.model import ImportReport
from hashguard.errors import ConfigError, FeedUnavailable, InvalidValue, ListRejected, RowError
from hashguard.lists.rows import ListRow, parse_row
from hashguard.signals.registry import Registry
from hashguard.sources.model import Source
from hashguard.store.repositories import Repositories

APIS: dict[str, type[Any]] = {
    api.get_name(): api
    for api in (
        LocalFileSignalExchangeAPI,
        NCMECSignalExchangeAPI,
        StopNCIISignalExchangeAPI,
        FBThreatExchangeSignalExchangeAPI,
    )
}
# python-threatexchange's signal types -> ours. Its "video" digests are digests of bytes.
SIGNAL_TYPES = {PdqSignal: "pdq", VideoMD5Signal: "md5", VideoSHA256Signal: "sha256"}
# By name, as exchanges that key updates by (type name, signal) give them. Its vPDQ type
# cannot be imported without the ``vpdq`` package (built against FFmpeg's development
# files), but its serialized form is what our ``vpdq`` type reads, so the name suffices.
_BY_NAME = {cls.get_name(): ours for cls, ours in SIGNAL_TYPES.items()} | {"vpdq": "vpdq"}
_CAST = dacite.Config(cast=[tuple, set, frozenset], strict=False)


def _api(source: Source) -> tuple[type[Any], Any]:
    name = source.settings.get("api", "")
    api_cls = APIS.get(name)
    if api_cls is None:
        raise InvalidValue(f"unknown exchange {name!r}: use {', '.join(sorted(APIS))}")
    fields = {
        "name": source.name,
        "api": name,
        "enabled": True,
        **source.settings.get("collab", {}),
    }
    if api_cls is LocalFileSignalExchangeAPI:
        fields.setdefault("filename", source.url)
    try:
        collab = dacite.from_dict(api_cls.get_config_cls(), fields, _CAST)
    except (dacite.DaciteError, TypeError, ValueError) as e:
        raise InvalidValue(f"source {source.name}: bad collab settings for {name}: {e}") from None
    try:
        return api_cls, api_cls.for_collab(collab)
    except Exception as e:  # the library's missing/invalid credential errors
        raise ConfigError(f"source {source.name}: cannot set up exchange {name}: {e}") from None


def _metadata(value: Any) -> dict[str, str]:
    """What the exchange says about a signal, kept as the entry's extra columns."""
    try:
        opinions = value.get_as_opinions()
    except Exception:
        return {}
    tags = sorted({tag for o in opinions for tag in o.tags})
    categories = sorted({o.category.name.lower() for o in opinions})
    out = {"opinion": ",".join(categories)} if categories else {}
    return out | ({"tags": ",".join(tags)} if tags else {})


def _records(api_cls: type[Any], collab: Any, updates: dict[Any, Any]) -> Iterator[dict[str, Any]]:
    for key, value in updates.items():
        if isinstance(key, tuple):  # (signal type, signal): the entry is keyed by its signal
            ours = _BY_NAME.get(key[0])
            if ours is not None:
                action = "add" if value is not None else "retract"
                yield {"signal_type": ours, "signal": key[1], "action": action, **_metadata(value)}
        elif value is None:
            yield {"id": str(key), "action": "retract"}
        else:
            converted = api_cls.naive_convert_to_signal_type(
                list(SIGNAL_TYPES), collab, {key: value}
            )
            for signal_type, signals in converted.items():
                for signal, meta in signals.items():
                    ours = SIGNAL_TYPES[signal_type]
                    yield {"id": str(key), "signal_type": ours, "signal": signal, **_metadata(meta)}


def _rows(
    records: Iterator[dict[str, Any]], registry: Registry, errors: list[RowError]
) -> list[ListRow]:
    rows = []
    for line, record in enumerate(records, start=1):
        row = parse_row(record, line, registry)
        if isinstance(row, RowError):
            errors.append(row)
        else:
            rows.append(row)
    return rows


def _checkpoint(api_cls: type[Any], saved: str | None) -> Any:
    if saved is None:
        return None
    try:
        return dacite.from_dict(api_cls.get_checkpoint_cls(), json.loads(saved), _CAST)
    except (dacite.DaciteError, ValueError) as e:
        raise InvalidValue(f"unreadable checkpoint ({e}); remove and re-add the source") from None


def sync_exchange(store: Repositories, source: Source, registry: Registry) -> list[ImportReport]:
    api_cls, api = _api(source)
    checkpoint = _checkpoint(api_cls, source.checkpoint)
    if checkpoint is not None and checkpoint.is_stale():
        checkpoint = None  # the exchange says its state must be fetched from the start
    reports: list[ImportReport] = []
    fetched = api.fetch_iter(list(SIGNAL_TYPES), checkpoint)
    while True:
        try:
            delta = next(fetched, None)
        except (AssertionError, OSError) as e:  # the library asserts on a missing file
            raise FeedUnavailable(f"source {source.name}: {e or type(e).__name__}") from None
        if delta is None:
            return reports
        errors: list[RowError] = []
        rows = _rows(_records(api_cls, api.collab, delta.updates), registry, errors)
        if errors:
            raise ListRejected(f"source {source.name}", errors)
        saved = json.dumps(dataclasses.asdict(delta.checkpoint), default=str)
        reports.append(
            store.import_rows(
                source.bank,
                rows,
                errors,
                f"{source.name} ({api_cls.get_name()})",
                actor=f"source:{source.name}",
                action="source.sync",
                checkpoint=(source.name, saved),
            )
        )
