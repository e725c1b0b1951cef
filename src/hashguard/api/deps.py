"""What routes get from the app: the store and the engine."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from hashguard.api.bodies import is_json, media_type
from hashguard.engine import Engine
from hashguard.errors import UnsupportedMediaType
from hashguard.store.repositories import Repositories


def engine(request: Request) -> Engine:
    found: Engine = request.app.state.engine
    return found


def store(request: Request) -> Repositories:
    return engine(request).store


async def json_body(request: Request) -> None:
    """Routes that take a JSON body say so when sent something else, rather than failing
    to validate it."""
    if not is_json(media_type(request)):
        sent = request.headers.get("content-type") or "no content type"
        raise UnsupportedMediaType(f"send the body as application/json, not {sent}")


JsonBody = Depends(json_body)

EngineDep = Annotated[Engine, Depends(engine)]
StoreDep = Annotated[Repositories, Depends(store)]
