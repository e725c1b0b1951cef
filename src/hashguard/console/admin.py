"""The admin's pages: users (add, disable), and an overview of banks, webhooks and the
policy in force, which can be set here (checked as `hashguard policy set` checks it)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from hashguard.console import security
from hashguard.console.pages import Text, _base, handled
from hashguard.console.state import Console, page, redirect, viewer
from hashguard.errors import PolicyRejected
from hashguard.policy.parse import MAX_DOCUMENT
from hashguard.policy.versions import set_policy
from hashguard.store.user_table import Session

router = APIRouter(include_in_schema=False)


@router.get("/console/users")
@handled
def users(request: Request) -> Response:
    c, s = viewer(request, "admin")
    return page(request, "users.html", {**_base(c, s), "users": c.store.users.list()})


@router.post("/console/users")
@handled
def add_user(
    request: Request, csrf: Text = "", name: Text = "", role: Text = "reviewer",
    password: Text = "",
) -> Response:  # fmt: skip
    c, s = viewer(request, "admin")
    security.check_csrf(csrf, s.csrf)
    c.store.users.add(name, role, password, actor=f"user:{s.user.name}")
    return redirect("/console/users")


@router.post("/console/users/{name}/disable")
@handled
def disable_user(request: Request, name: str, csrf: Text = "") -> Response:
    c, s = viewer(request, "admin")
    security.check_csrf(csrf, s.csrf)
    c.store.users.disable(name, actor=f"user:{s.user.name}")
    return redirect("/console/users")


def _overview(request: Request, c: Console, s: Session, **extra: Any) -> dict[str, Any]:
    engine = request.app.state.engine
    counts = c.store.bank_counts()
    banks = [{"bank": b, "counts": counts.get(b.name, {})} for b in c.store.banks()]
    hooks = c.store.webhooks.list()
    current = engine.policy
    return {
        **_base(c, s), "banks": banks, "hooks": hooks, "deliveries": c.store.webhooks.counts(),
        "policy": current, "document": json.dumps(current.policy.as_dict(), indent=2),
        "suppressing": c.options.suppress_bank in current.policy.suppress_banks,
        "own_bank": c.options.own_bank, "suppress_bank": c.options.suppress_bank,
        "problems": [], **extra,
    }  # fmt: skip


@router.get("/console/admin")
@handled
def overview(request: Request) -> Response:
    c, s = viewer(request, "admin")
    return page(request, "admin.html", _overview(request, c, s))


@router.post("/console/admin/policy")
@handled
def put_policy(
    request: Request, csrf: Text = "",
    document: Annotated[str, Form(max_length=MAX_DOCUMENT)] = "",
) -> Response:  # fmt: skip
    c, s = viewer(request, "admin")
    security.check_csrf(csrf, s.csrf)
    engine = request.app.state.engine
    try:
        set_policy(c.store, engine.registry, document, actor=f"user:{s.user.name}")
    except PolicyRejected as e:
        context = _overview(request, c, s, problems=e.problems, document=document)
        return page(request, "admin.html", context, 422)
    engine.reload_policy()
    return redirect("/console/admin?saved=1")
