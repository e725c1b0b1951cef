"""Liveness, readiness and the state of the indexes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from hashguard.api.auth import Matcher
from hashguard.api.deps import EngineDep
from hashguard.api.schemas import ERRORS

router = APIRouter(tags=["service"])


@router.get("/v1/health", summary="Liveness: the process answers")
async def health(request: Request) -> dict[str, Any]:
    return {"status": "ok", "auth": "required" if request.app.state.auth.required else "off"}


@router.get(
    "/v1/ready",
    summary="Readiness: every index loaded and following the change log",
    responses={503: {"description": "not ready: loading, or the database is unreachable"}},
)
async def ready(e: EngineDep) -> JSONResponse:
    ok = e.ready()
    body = {"ready": ok, "loaded": e.loaded, "index_seq": e.indexes.seq}
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get(
    "/v1/index", summary="Per signal type: size, last applied sequence, lag", responses=ERRORS
)
def index(caller: Matcher, e: EngineDep) -> dict[str, Any]:
    last = e.store.last_seq()
    seq = e.indexes.seq
    return {
        "ready": e.ready(),
        "loaded_from": e.indexes.loaded_from,
        "seq": seq,
        "last_seq": last,
        "lag": max(0, last - seq),
        "types": {
            name: {**stats, "seq": seq, "lag": max(0, last - seq)}
            for name, stats in e.indexes.stats().items()
        },
    }
