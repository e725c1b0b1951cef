"""The long-running loops: the change-log follower and periodic jobs, as asyncio tasks that
do their work on threads. A loop never dies of its work's failure: it logs and goes on (the
last good index keeps serving; /v1/ready says when it is stale)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable

from hashguard.actions.deliver import Deliverer
from hashguard.engine import Engine
from hashguard.runtime.metrics import Metrics
from hashguard.seen.retro import Retro
from hashguard.sources.runner import Outcome, sync_due
from hashguard.store.repositories import Wakeup
from hashguard.store.webhook_table import Webhooks

log = logging.getLogger(__name__)

REFRESH_SECONDS = 0.25  # how often each process follows the change log (SQLite, fallback)
LISTEN_POLL_SECONDS = 2.0  # the same while notifications of changes arrive (PostgreSQL)
ROUND_GAP = 0.05  # seconds from the start of one round to the next, at least
DELIVERY_LEASE = 30.0  # seconds the deliverer's lease lasts unless renewed
DELIVERY_CLAIM = 10.0  # seconds between claims (renewals) of it
DELIVER_EVERY = 0.25  # seconds between delivery passes


async def follow(
    engine: Engine,
    step: Callable[[], None],
    *,
    listen: bool = True,
    listen_poll: float = LISTEN_POLL_SECONDS,
    on_listener: Callable[[Wakeup | None], None] = lambda _: None,
) -> None:
    """Run ``step`` (load, then catch up; see :func:`follow_step`) whenever the change log
    may have moved. Where the change log can announce changes (PostgreSQL's NOTIFY, see
    store/notify.py) it wakes at once after each change committed anywhere, and the poll is
    only the fallback; on SQLite, or while not listening, it polls every REFRESH_SECONDS."""
    wake = asyncio.Event()
    loop = asyncio.get_running_loop()
    listener = engine.store.listen(lambda: loop.call_soon_threadsafe(wake.set)) if listen else None
    on_listener(listener)
    try:
        while True:
            wake.clear()  # a change committed while catching up wakes the next round
            started = loop.time()
            try:
                await asyncio.to_thread(step)
            except Exception:  # keep serving on the last good index
                log.exception("could not follow the change log")
            listening = listener is not None and listener.listening
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), listen_poll if listening else REFRESH_SECONDS)
            # Woken at once after a quiet spell; under a stream of changes, a round at most
            # every ROUND_GAP takes all that came meanwhile (each round costs both cores).
            await asyncio.sleep(max(0.0, started + ROUND_GAP - loop.time()))
    finally:
        if listener is not None:
            await asyncio.to_thread(listener.close)


def follow_step(engine: Engine, after_load: Callable[[], None] = lambda: None) -> None:
    """One round of following: load the indexes if not yet loaded, else catch up."""
    if not engine.loaded:
        engine.load()
        after_load()
    else:
        engine.refresh()


async def every(seconds: float, job: Callable[[], None], name: str) -> None:
    """Run ``job`` on a thread every ``seconds``, for ever."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await asyncio.to_thread(job)
        except Exception:
            log.exception("could not %s", name)


def deliver_job(hooks: Webhooks, allow_private: bool, metrics: Metrics) -> Callable[[], None]:
    """One delivery pass, by the process holding the delivery lease (one deliverer across
    every replica; a holder that dies lets the lease run out). The lease is claimed or
    renewed every DELIVERY_CLAIM seconds, not every pass: a claim is a write."""
    owner = f"{socket.gethostname()}:{os.getpid()}"
    deliverer = Deliverer(hooks, allow_private=allow_private)
    state = {"held": False, "claimed": -DELIVERY_CLAIM}

    def job() -> None:
        now = time.monotonic()
        if now - state["claimed"] >= DELIVERY_CLAIM:
            state["held"] = hooks.claim(owner, DELIVERY_LEASE)
            state["claimed"] = now
        if state["held"]:
            metrics.delivered(deliverer.run_once())

    return job


def retro_job(engine: Engine, metrics: Metrics) -> Callable[[], None]:
    """A pass of retroactive matching, by the process holding its lease (the seen log's PDQ
    index lives in that process)."""
    owner = f"{socket.gethostname()}:{os.getpid()}"
    retro = Retro(engine)
    state = {"held": False, "claimed": -DELIVERY_CLAIM}

    def job() -> None:
        now = time.monotonic()
        if now - state["claimed"] >= DELIVERY_CLAIM:
            state["held"] = engine.store.seen_log.claim(owner, DELIVERY_LEASE)
            state["claimed"] = now
        if state["held"] and engine.loaded:
            metrics.retro(retro.run_once(), engine.store.last_seq())

    return job


def sync_sources_job(
    engine: Engine, every_seconds: float, on_outcome: Callable[[Outcome], None]
) -> Callable[[], None]:
    """Sync the sources that are due. Every process looks; the one holding the sync lease
    syncs (one fetcher at a time across replicas)."""
    owner = f"{socket.gethostname()}:{os.getpid()}"
    lease = max(60.0, every_seconds * 6)

    def job() -> None:
        for outcome in sync_due(engine.store, engine.registry, owner, lease):
            on_outcome(outcome)

    return job
