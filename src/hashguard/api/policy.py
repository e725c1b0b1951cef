"""GET and PUT /v1/policy: the policy in force, and setting the next version. Scope
``admin``: a policy decides what is blocked and reported."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from hashguard.api.auth import Admin
from hashguard.api.bodies import is_json, media_type, read_body
from hashguard.api.deps import EngineDep
from hashguard.api.schemas import ERRORS
from hashguard.errors import MalformedBody, UnsupportedMediaType
from hashguard.policy import load, parse
from hashguard.policy.parse import MAX_DOCUMENT
from hashguard.policy.versions import set_policy, stored

router = APIRouter(tags=["policy"], responses=ERRORS)
TOML = ("application/toml", "text/toml")

_BODY_DOC = {
    "requestBody": {
        "required": True,
        "description": "The policy document (docs/policy.md), as JSON or TOML",
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "application/toml": {"schema": {"type": "string"}},
        },
    }
}


@router.get("/v1/policy", summary="The policy in force, and earlier versions")
def get_policy(
    caller: Admin,
    e: EngineDep,
    history: Annotated[int, Query(ge=0, le=1000, description="earlier versions to list")] = 0,
) -> dict[str, Any]:
    """Version 0 is the built-in policy, in force until one is set."""
    out = e.policy.as_dict()
    if history:
        out["history"] = [
            stored(r, e.registry).as_dict() for r in e.store.policies.history(limit=history + 1)
        ][1:]  # fmt: skip
    return out


@router.put(
    "/v1/policy",
    summary="Set the next version of the policy (or only check it: dry_run)",
    openapi_extra=_BODY_DOC,
)
async def put_policy(
    request: Request,
    caller: Admin,
    e: EngineDep,
    dry_run: Annotated[bool, Query(description="check the document; change nothing")] = False,
) -> dict[str, Any]:
    """Checked against the signal types and banks there are; a refused document (422,
    every problem listed with its field or line) changes nothing. In force in this process
    at once, in every other within a follower round."""
    media = media_type(request)
    if is_json(media):
        fmt = "json"
    elif media in TOML:
        fmt = "toml"
    else:
        raise UnsupportedMediaType(
            f"send the policy as application/json or application/toml, not {media or 'nothing'}"
        )
    raw = await read_body(request, MAX_DOCUMENT)
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        raise MalformedBody("the policy is not UTF-8 text") from None

    def check() -> dict[str, Any]:
        banks = [b.name for b in e.store.banks()]
        policy = parse(load(text, fmt), signal_types=e.registry.names(), banks=banks)
        return {"valid": True, "policy": policy.as_dict()}

    def put() -> dict[str, Any]:
        new = set_policy(e.store, e.registry, text, fmt=fmt, actor=caller.actor)
        e.reload_policy()
        return new.as_dict()

    return await run_in_threadpool(check if dry_run else put)  # database work: off the loop
