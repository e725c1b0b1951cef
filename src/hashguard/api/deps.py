"""What routes get from the app: the store and the engine."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from hashguard.engine import Engine
from hashguard.store.store import Store


def engine(request: Request) -> Engine:
    found: Engine = request.app.state.engine
    return found


def store(request: Request) -> Store:
    return engine(request).store


EngineDep = Annotated[Engine, Depends(engine)]
StoreDep = Annotated[Store, Depends(store)]
