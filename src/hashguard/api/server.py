"""Building the app around an Engine, and running it with uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI

from hashguard import __version__
from hashguard.api import errors, health, match
from hashguard.engine import Engine
from hashguard.settings import Settings
from hashguard.store.store import Store

log = logging.getLogger(__name__)
REFRESH_SECONDS = 0.5  # how often the index follows the change log


def create_app(engine: Engine) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async def follow() -> None:
            while True:
                await asyncio.sleep(REFRESH_SECONDS)
                try:
                    await asyncio.to_thread(engine.refresh)
                except Exception:  # keep serving on the last good index
                    log.exception("could not follow the change log")

        task = asyncio.create_task(follow())
        yield
        task.cancel()

    app = FastAPI(title="hashguard", version=__version__, lifespan=lifespan)
    app.state.engine = engine
    errors.install(app)
    app.include_router(match.router)
    app.include_router(health.router)
    return app


def serve(settings: Settings, *, host: str, port: int) -> None:
    import uvicorn

    engine = Engine(
        Store(settings.db_url),
        index_dir=settings.index_dir,
        limits=settings.limits,
        exact_orientations=settings.exact_orientations,
    )
    uvicorn.run(create_app(engine), host=host, port=port, log_level="info")
