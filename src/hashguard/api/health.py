"""GET /v1/health: liveness, and how far the indexes have followed the change log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from hashguard.engine import Engine

router = APIRouter()


@router.get("/v1/health", summary="Liveness")
async def health(request: Request) -> dict[str, Any]:
    engine: Engine = request.app.state.engine
    return {"status": "ok", "index_seq": engine.indexes.seq}
