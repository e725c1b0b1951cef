"""Webhook endpoints and their deliveries over HTTP. Scope ``admin``. See docs/webhooks.md."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from hashguard.actions.webhooks import check_events, check_name, check_url
from hashguard.api.auth import Admin
from hashguard.api.deps import JsonBody, StoreDep
from hashguard.api.schemas import ERRORS, SecretIn, WebhookIn
from hashguard.errors import NotFound
from hashguard.store.webhook_table import Webhooks

router = APIRouter(tags=["webhooks"], responses=ERRORS)


def _hooks(s: Any) -> Webhooks:
    hooks = getattr(s, "webhooks", None)
    if hooks is None:
        raise NotFound("this store keeps no webhooks (an in-memory store)")
    return hooks  # type: ignore[no-any-return]


@router.get("/v1/webhooks", summary="Webhook endpoints (never their secrets)")
def list_webhooks(caller: Admin, s: StoreDep) -> dict[str, Any]:
    hooks = _hooks(s)
    return {"webhooks": [h.as_dict() for h in hooks.list()], "deliveries": hooks.counts()}


@router.post("/v1/webhooks", status_code=201, summary="Add an endpoint", dependencies=[JsonBody])
def add_webhook(body: WebhookIn, request: Request, caller: Admin, s: StoreDep) -> dict[str, Any]:
    """The URL must be http(s) and, unless ``webhook_allow_private`` is set, resolve to
    public addresses only."""
    allow = request.app.state.options.webhook_allow_private
    hook = _hooks(s).add(
        check_name(body.name), check_url(body.url, allow_private=allow),
        check_events(body.events), body.secret, actor=caller.actor, from_now=not body.from_start,
    )  # fmt: skip
    return hook.as_dict()


@router.delete("/v1/webhooks/{name}", summary="Remove an endpoint and its deliveries")
def remove_webhook(name: str, caller: Admin, s: StoreDep) -> dict[str, Any]:
    _hooks(s).remove(name, actor=caller.actor)
    return {"removed": name}


@router.post(
    "/v1/webhooks/{name}/secrets", summary="Rotate: a new secret, signing beside the old one",
    dependencies=[JsonBody],
)  # fmt: skip
def rotate_secret(name: str, body: SecretIn, caller: Admin, s: StoreDep) -> dict[str, Any]:
    return _hooks(s).rotate(name, body.secret, actor=caller.actor).as_dict()


@router.delete("/v1/webhooks/{name}/secrets/old", summary="Retire all but the newest secret")
def retire_secrets(name: str, caller: Admin, s: StoreDep) -> dict[str, Any]:
    return _hooks(s).rotate(name, None, actor=caller.actor).as_dict()


@router.get("/v1/webhooks/deliveries", summary="Deliveries, newest first")
def deliveries(
    caller: Admin,
    s: StoreDep,
    failed: Annotated[bool, Query(description="dead ones and those that failed")] = False,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> dict[str, Any]:
    return {"deliveries": _hooks(s).deliveries(failed=failed, limit=limit)}


@router.post("/v1/webhooks/{name}/replay", summary="Send an endpoint's dead deliveries again")
def replay(name: str, caller: Admin, s: StoreDep) -> dict[str, Any]:
    return {"webhook": name, "requeued": _hooks(s).replay(name, actor=caller.actor)}
