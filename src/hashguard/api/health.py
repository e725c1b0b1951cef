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
    body = {"ready": ok, "loaded": e.loaded, "index_seq": e.seq}  # no database read
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get(
    "/v1/index", summary="Per signal type: size, last applied sequence, lag", responses=ERRORS
)
def index(caller: Matcher, e: EngineDep) -> dict[str, Any]:
    status = e.status()
    return {
        "ready": status.ready,
        "loaded_from": status.loaded_from,
        "seq": status.seq,
        "last_seq": status.last_seq,
        "lag": status.lag,
        "types": {
            name: {**stats, "seq": status.seq, "lag": status.lag}
            for name, stats in status.types.items()
        },
    }
