"""API keys and the audit log over HTTP. Scope ``admin``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from hashguard.api.auth import Admin
from hashguard.api.deps import JsonBody, StoreDep
from hashguard.api.schemas import ERRORS, KeyCreated, KeyIn, KeyOut

router = APIRouter(tags=["admin"], responses=ERRORS)


@router.get("/v1/keys", summary="Every API key (never the keys themselves)")
def list_keys(caller: Admin, s: StoreDep) -> dict[str, Any]:
    return {"keys": [KeyOut(**k.as_dict()) for k in s.keys.list()]}


@router.post(
    "/v1/keys",
    status_code=201,
    summary="Make a key; the answer is the only copy",
    dependencies=[JsonBody],
)
def create_key(body: KeyIn, caller: Admin, s: StoreDep) -> KeyCreated:
    key, secret = s.keys.create(
        body.name, body.scopes, rate_limit=body.rate_limit, actor=caller.actor
    )
    return KeyCreated(**key.as_dict(), key=secret)


@router.delete("/v1/keys/{name}", summary="Revoke a key")
def revoke_key(name: str, request: Request, caller: Admin, s: StoreDep) -> KeyOut:
    """This process refuses the key at once; every other one within a second."""
    revoked = s.keys.revoke(name, actor=caller.actor)
    request.app.state.auth.refresh()
    return KeyOut(**revoked.as_dict())


@router.get("/v1/audit", summary="The audit log: who changed what, when")
def audit_log(
    caller: Admin,
    s: StoreDep,
    after: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> dict[str, Any]:
    return {"records": s.audit.read(after=after, limit=limit)}
