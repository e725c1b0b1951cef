"""Building the app around an Engine, and running it with uvicorn, in one or more workers.

Each worker process holds its own indexes (memory-mapped from one snapshot, so the pages are
shared) and follows the change log on its own: woken by PostgreSQL's NOTIFY after each
change, else every runtime.loops.REFRESH_SECONDS.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import ipaddress
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from hashguard import __version__
from hashguard.access.probing import ProbeLimits
from hashguard.api import (
    admin,
    appeals,
    banks,
    changes,
    dsa,
    entries,
    errors,
    health,
    home,
    items,
    match,
    metrics,
    openapi,
    policy,
    reports,
    sources,
    stats,
    webhooks,
)
from hashguard.api import workers as workers_module
from hashguard.api.auth import Authenticator
from hashguard.api.limits import BodyLimit
from hashguard.api.origin import HostAndOrigin
from hashguard.console import app as console
from hashguard.engine import Engine
from hashguard.errors import ConfigError
from hashguard.reports.options import ReportOptions
from hashguard.review.options import ReviewOptions
from hashguard.runtime import loops
from hashguard.runtime.loops import DELIVER_EVERY, LISTEN_POLL_SECONDS
from hashguard.runtime.metrics import Metrics
from hashguard.runtime.metrics import metrics as runtime_metrics
from hashguard.runtime.retention import PURGE_EVERY, Retention
from hashguard.settings import Settings
from hashguard.store.repositories import Wakeup
from hashguard.store.store import Store

log = logging.getLogger(__name__)
_OPTIONS_ENV = "HASHGUARD_SERVE_OPTIONS"
STATUS_SECONDS = 1.0  # the index gauges (lag, sizes) are read at most this often


@dataclass(frozen=True)
class ServeOptions:
    auth: bool = True  # False only for local development, on a loopback address
    workers: int = 1
    rate_limit: int = 0  # requests/s for keys without their own limit; 0: none
    max_list_bytes: int = 4 << 30
    sync_every: float = 10.0  # seconds between looks for sources due a sync; 0: never
    # seconds between passes delivering the outbox to webhooks (one process at a time
    # across replicas holds the delivery lease); 0: never, a `hashguard worker` delivers
    deliver_every: float = DELIVER_EVERY
    webhook_allow_private: bool = False
    match_log_days: int = 365  # retention (hashguard.runtime.retention)
    outbox_days: int = 30
    seen_days: int = 90
    purge_every: float = PURGE_EVERY  # 0: never
    retro_every: float = 0.5  # seconds between passes of retroactive matching; 0: never
    # gc.freeze() once the indexes are loaded: `serve` sets it for its worker processes (an
    # app inside another program, tests say, leaves that program's collector alone).
    freeze_loaded: bool = False
    # The probing detector (hashguard.access.probing): see docs/operations.md.
    probe_window: float = 60.0
    probe_bits: int = 2
    probe_limit: int = 32
    probe_block: float = 300.0

    def probing(self) -> ProbeLimits:
        return ProbeLimits(self.probe_window, self.probe_bits, self.probe_limit, self.probe_block)

    # Host headers answered (names, or name:port); empty: any. See api/origin.py.
    allowed_hosts: tuple[str, ...] = ()
    # PostgreSQL: wake the follower by LISTEN/NOTIFY, polling every listen_poll seconds as
    # the fallback (it also keeps /v1/ready's 5 s staleness bound when nothing changes).
    listen: bool = True
    listen_poll: float = LISTEN_POLL_SECONDS


def _after_round(
    engine: Engine,
    auth: Authenticator,
    m: Metrics,
    step: Callable[[], None],
    listener: Callable[[], Wakeup | None],
) -> Callable[[], None]:
    """A follower round, then what the HTTP adapter keeps current: keys and metrics.

    While adds stream in, rounds run every ROUND_GAP in every worker; each read here is a
    database round trip, so the keys are reloaded only when a listener says they changed
    (every round while polling), and the index gauges at most every STATUS_SECONDS.
    """
    loaded_keys: int | None = None  # the listener's key_changes the keys were loaded at
    status_at = -STATUS_SECONDS

    def round_() -> None:
        nonlocal loaded_keys, status_at
        step()
        wakeup = listener()
        keys = wakeup.key_changes if wakeup is not None and wakeup.listening else None
        if keys is None or keys != loaded_keys:
            auth.refresh()  # read ``keys`` first: a change during the reload moves it again
            loaded_keys = keys
        if time.monotonic() - status_at >= STATUS_SECONDS:
            m.index(engine.status())  # the lag read afresh: what came in during the round
            status_at = time.monotonic()
        m.entries(*engine.entry_reads)

    return round_


def create_app(
    engine: Engine,
    options: ServeOptions | None = None,
    review: ReviewOptions | None = None,
    reporting: ReportOptions | None = None,
) -> FastAPI:
    """The app. If ``engine`` was made with ``load=False`` it loads in the background and
    the app answers 503 on matching (and /v1/ready) until it is done."""
    options = options or ServeOptions()
    auth = Authenticator(
        engine.store.keys,
        required=options.auth,
        default_rate=options.rate_limit,
        share=1.0 / max(1, options.workers),
        probing=options.probing(),
    )
    m = runtime_metrics()

    def freeze() -> None:
        if options.freeze_loaded:
            # What is loaded now (indexes, keyword lists, the app) lives as long as the
            # process: out of the collector's way, each full collection no longer walks it
            # (~15% of a text match's time went to collections walking these objects).
            gc.freeze()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not options.auth:
            log.warning(
                "API KEYS ARE OFF: anyone who can reach this port may match, curate and "
                "administer. Local development only."
            )
        step = _after_round(
            engine,
            auth,
            m,
            lambda: loops.follow_step(engine, freeze),
            lambda: getattr(app.state, "listener", None),
        )
        follower = loops.follow(
            engine,
            step,
            listen=options.listen,
            listen_poll=options.listen_poll,
            on_listener=lambda listener: setattr(app.state, "listener", listener),
        )
        tasks = [asyncio.create_task(follower)]
        if options.sync_every > 0:
            job = loops.sync_sources_job(
                engine, options.sync_every, lambda o: m.synced(o.source, o.status)
            )
            tasks.append(asyncio.create_task(loops.every(options.sync_every, job, "sync sources")))
        if options.purge_every > 0:
            retention = Retention(options.match_log_days, options.outbox_days, options.seen_days)
            tasks.append(asyncio.create_task(loops.every(
                options.purge_every, lambda: log.info("purged %s", retention.purge(engine.store)),
                "purge what is past its retention",
            )))  # fmt: skip
        if options.retro_every > 0:
            retro = loops.retro_job(engine, m)
            tasks.append(asyncio.create_task(
                loops.every(options.retro_every, retro, "match the seen log retroactively")
            ))  # fmt: skip
        hooks = getattr(engine.store, "webhooks", None)  # the SQL store's; memory has none
        if options.deliver_every > 0 and hooks is not None:
            deliver = loops.deliver_job(hooks, options.webhook_allow_private, m)
            tasks.append(asyncio.create_task(
                loops.every(options.deliver_every, deliver, "deliver webhooks")
            ))  # fmt: skip
        yield
        for task in tasks:
            task.cancel()

    # FastAPIOffline: /docs and /redoc from assets in the package, never a CDN (deployments
    # are often offline or air-gapped).
    app = FastAPIOffline(
        title="hashguard",
        version=__version__,
        lifespan=lifespan,
        description="Match content against lists of known abuse material. See docs/api.md.",
    )
    app.state.engine = engine
    app.state.auth = auth
    app.state.metrics = m
    app.state.options = options
    errors.install(app)
    openapi.install(app)
    routers = (
        home,
        match,
        banks,
        entries,
        changes,
        sources,
        policy,
        webhooks,
        items,
        appeals,
        reports,
        dsa,
        stats,
        admin,
        health,
        metrics,
    )
    for module in routers:
        app.include_router(module.router)
    app.state.reporting = reporting or ReportOptions()
    if isinstance(engine.store, Store):  # the console needs the SQL store
        console.install(app, engine.store, review or ReviewOptions())
    # The last added runs first: HostAndOrigin refuses foreign hosts and cross-site writes,
    # then BodyLimit an oversized body before anything reads it (neither shows in Timing's
    # figures).
    upload = engine.limits.max_bytes
    app.add_middleware(metrics.Timing, metrics=m)
    app.add_middleware(
        BodyLimit, default=upload * 4 // 3 + (1 << 20), imports=options.max_list_bytes
    )
    app.add_middleware(HostAndOrigin, allowed_hosts=tuple(options.allowed_hosts))
    return app


def app_from_environment() -> FastAPI:
    """The factory each uvicorn worker calls: settings and options from the environment."""
    settings = Settings.load()
    raw = json.loads(os.environ.get(_OPTIONS_ENV, "{}"))
    raw["allowed_hosts"] = tuple(raw.get("allowed_hosts", ()))
    options = ServeOptions(**raw)
    engine = Engine(
        Store(settings.db_url, create=False),
        index_dir=settings.index_dir,
        limits=settings.limits,
        video=settings.video,
        exact_orientations=settings.exact_orientations,
        load=False,
    )
    return create_app(engine, options, settings.review, settings.reports)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def loopback_hosts(port: int) -> tuple[str, ...]:
    """The Host headers a browser sends to a loopback server on ``port``."""
    names = ("localhost", "127.0.0.1", "[::1]")
    return (*names, *(f"{name}:{port}" for name in names))


def banner(
    *,
    host: str,
    port: int,
    workers: int,
    store_url: str,
    auth: bool,
    keys: int,
    users: int = 0,
) -> list[str]:
    """What ``serve`` prints before its workers start (to stderr, like every message)."""
    url = f"http://{_url_host(host)}:{port}"
    lines = [
        f"hashguard {__version__} listening on {url} "
        f"({workers} worker{'s' if workers != 1 else ''})",
        f"  API docs: {url}/docs",
        f"  console:  {url}/console"
        + ("" if users else " (no users yet: `hashguard users add NAME --role admin`)"),
        f"  store:    {store_url}",
    ]
    if not auth:
        lines.append("  API keys: OFF (--no-auth): anyone who can reach the port may do anything")
    else:
        lines.append(f"  API keys: required ({keys} active)")
        if not keys:
            lines.append("  no API keys yet: make one with `hashguard keys create --scope match`")
    return lines


def serve(
    settings: Settings,
    *,
    host: str,
    port: int,
    workers: int = 1,
    auth: bool = True,
    allowed_hosts: tuple[str, ...] = (),
    deliver: bool = True,
) -> None:
    if not auth and not _loopback(host):
        raise ConfigError(
            f"--no-auth is for local development and needs a loopback address, not {host!r}; "
            "make keys with `hashguard keys create` instead"
        )
    if workers < 1:
        raise ConfigError(f"--workers must be 1 or more, not {workers}")
    # Bound first, so a port in use fails at once rather than after loading the indexes;
    # connections queue on the sockets until the workers are up.
    sockets = workers_module.bind(host, port, workers)
    try:
        port = sockets[0].getsockname()[1]
        # Migrate and bring the snapshot up to date once, here, so workers start from it in
        # milliseconds instead of each rebuilding (and racing to save) the same indexes.
        store = Store(settings.db_url)
        Engine(store, index_dir=settings.index_dir, limits=settings.limits)
        keys = sum(1 for key in store.keys.list() if key.active)
        users = sum(1 for user in store.users.list() if not user.disabled)
        store_url = store.safe_url
        store.close()
        if not allowed_hosts and _loopback(host):
            # A server on loopback answers only to loopback names: a web page the operator
            # visits cannot reach it through a DNS name of its own (DNS rebinding).
            allowed_hosts = loopback_hosts(port)
        options = ServeOptions(
            auth=auth,
            workers=workers,
            rate_limit=settings.rate_limit,
            max_list_bytes=settings.max_list_bytes,
            freeze_loaded=True,
            probe_window=settings.probe_window,
            probe_bits=settings.probe_bits,
            probe_limit=settings.probe_limit,
            probe_block=settings.probe_block,
            allowed_hosts=allowed_hosts,
            deliver_every=DELIVER_EVERY if deliver else 0.0,
            webhook_allow_private=settings.webhook_allow_private,
            match_log_days=settings.match_log_days,
            outbox_days=settings.outbox_days,
            seen_days=settings.seen_days,
        )
        os.environ.update(settings.to_env())
        os.environ[_OPTIONS_ENV] = json.dumps(dataclasses.asdict(options))
        if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="hashguard-metrics-")
        lines = banner(
            host=host,
            port=port,
            workers=workers,
            store_url=store_url,
            auth=auth,
            keys=keys,
            users=users,
        )
        print("\n".join(lines), file=sys.stderr, flush=True)
        workers_module.run(sockets)
    finally:
        for sock in sockets:
            sock.close()
