"""Sources over HTTP: what each bank follows and how its last sync went, and a sync now.
Scope ``curate``. Sources are added with `hashguard sources add` (they name key files)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from hashguard.api.auth import Curator
from hashguard.api.deps import EngineDep
from hashguard.api.schemas import ERRORS
from hashguard.sources.runner import sync_source

router = APIRouter(tags=["sources"], responses=ERRORS)


def _public(source: dict[str, Any]) -> dict[str, Any]:
    settings = {k: v for k, v in source["settings"].items() if k != "public_keys"}
    return source | {"settings": settings}


@router.get("/v1/sources", summary="Upstream lists, their checkpoints and last outcomes")
def list_sources(caller: Curator, e: EngineDep) -> dict[str, Any]:
    return {"sources": [_public(s.as_dict()) for s in e.store.sources.list()]}


@router.post("/v1/sources/{name}/sync", summary="Sync one source now")
async def sync_now(name: str, caller: Curator, e: EngineDep) -> dict[str, Any]:
    """Answers the outcome: ``ok``, ``rejected`` (nothing applied: alert), ``unavailable``
    or ``error``, with the reason and message."""
    source = await run_in_threadpool(e.store.sources.get, name)
    outcome = await run_in_threadpool(sync_source, e.store, source, e.registry)
    return outcome.as_dict()
