"""The probing detector on the matching routes: what it watches, and what an alarm does.

An alarm is logged (warning), counted (``hashguard_probing_alarms_total{key}``) and written
to the audit log (``key.probing``); then, unless blocking is off, the key gets 429 with
``Retry-After`` on every call for the block period. At most one alarm per key per window
(see :mod:`hashguard.access.probing`), so the audit write is rare; content that matches
nothing never waits for it.
"""

from __future__ import annotations

import logging
import os

from fastapi import Request

from hashguard.access.probing import Alarm
from hashguard.api.auth import Authenticator, Caller
from hashguard.engine import Result, TextResult

log = logging.getLogger(__name__)


def watch(request: Request, caller: Caller, result: Result | TextResult) -> Alarm | None:
    """Show the detector the PDQ hashes of a match-scope key's query, and whether it matched
    by PDQ. For content matching nothing this is a dict insert."""
    if caller.key is None or not isinstance(result, Result):
        return None
    value = result.signals.get("pdq")
    if value is None or caller.key.reads_lists:
        return None
    values = value if isinstance(value, list) else [value]
    matched = any(m.signal_type == "pdq" for m in result.matches)
    auth: Authenticator = request.app.state.auth
    return auth.probes.observe(caller.key.id, [int(v, 16) for v in values], matched=matched)


def report(request: Request, caller: Caller, alarm: Alarm, result: Result) -> None:
    """Log, count and audit an alarm (blocking; run it off the event loop)."""
    limits = request.app.state.auth.probes.limits
    entries = sorted({f"{m.bank}/{m.entry}" for m in result.matches if m.signal_type == "pdq"})
    log.warning(
        "API key %r may be probing the lists: %d near-identical PDQ queries (within %d bits) "
        "matched in %.0f s, near %s; blocked for %.0f s",
        caller.name, alarm.near, limits.bits, limits.window, ", ".join(entries), alarm.blocked,
    )  # fmt: skip
    request.app.state.metrics.probing.labels(caller.name).inc()
    detail = {
        "near_queries": alarm.near,
        "bits": limits.bits,
        "window_s": limits.window,
        "blocked_s": alarm.blocked,
        "entries": entries,
        "pid": os.getpid(),
    }
    try:
        audit = request.app.state.engine.store.audit
        audit.append("hashguard", "key.probing", caller.name, detail)
    except Exception:  # the block and the log line stand without it
        log.exception("could not write the probing alarm of key %r to the audit log", caller.name)
