"""The leads' pages: decisions and undo, appeals, exposure, the audit log; and everyone's
own settings."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from hashguard.console import security
from hashguard.console.pages import RowId, Text, _base, _when, handled
from hashguard.console.state import page, redirect, viewer

router = APIRouter(include_in_schema=False)


@router.get("/console/decided")
@handled
def decided(request: Request) -> Response:
    c, s = viewer(request, "lead")
    items = c.store.reviews.decided(limit=200)
    names = c.store.users.names([i.decided_by for i in items if i.decided_by])
    now = c.clock()
    rows = [
        {
            "item": i,
            "by": names.get(i.decided_by or 0, "?"),
            "when": _when(i.decided_at),
            "undoable": (i.decided_at or 0) > now - c.options.undo_window,
        }
        for i in items
    ]
    return page(
        request,
        "decided.html",
        {**_base(c, s), "rows": rows, "undo_hours": c.options.undo_window / 3600},
    )


@router.post("/console/items/{item_id}/undo")
@handled
def undo(request: Request, item_id: RowId, csrf: Text = "", note: Text = "") -> Response:
    c, s = viewer(request, "lead")
    security.check_csrf(csrf, s.csrf)
    c.decisions.undo(s.user, item_id, now=c.clock(), note=note or None)
    return redirect(f"/console/items/{item_id}")


@router.get("/console/appeals")
@handled
def appeals(request: Request, status: str = "open") -> Response:
    c, s = viewer(request, "lead")
    rows = c.store.reviews.appeals(status if status != "all" else None, limit=200)
    return page(
        request,
        "appeals.html",
        {
            **_base(c, s),
            "appeals": [{"appeal": a, "when": _when(a.created_at)} for a in rows],
            "status": status,
            "appeal_counts": c.store.reviews.appeal_counts(),
        },
    )


@router.post("/console/appeals/{appeal_id}")
@handled
def decide_appeal(
    request: Request, appeal_id: RowId, csrf: Text = "", outcome: Text = "", note: Text = ""
) -> Response:
    c, s = viewer(request, "lead")
    security.check_csrf(csrf, s.csrf)
    c.decisions.decide_appeal(s.user, appeal_id, outcome, now=c.clock(), note=note or None)
    return redirect("/console/appeals")


@router.get("/console/exposure")
@handled
def exposure(request: Request) -> Response:
    c, s = viewer(request, "lead")
    now = c.clock()
    hour = c.store.reviews.reveals_since(now - 3600)
    day = c.store.reviews.reveals_since(now - 86400)
    users = c.store.users.list()
    rows = [{"user": u, "hour": hour.get(u.id, 0), "day": day.get(u.id, 0)} for u in users]
    return page(
        request,
        "exposure.html",
        {
            **_base(c, s),
            "rows": rows,
            "per_hour": c.options.reveals_per_hour,
            "per_day": c.options.reveals_per_day,
        },
    )


@router.get("/console/audit")
@handled
def audit_log(request: Request) -> Response:
    c, s = viewer(request, "lead")
    rows = c.store.audit.latest(300)
    return page(request, "audit.html", {**_base(c, s), "rows": rows})


@router.get("/console/settings")
@handled
def settings_page(request: Request) -> Response:
    c, s = viewer(request)
    return page(request, "settings.html", {**_base(c, s)})


@router.post("/console/settings")
@handled
def save_settings(request: Request, csrf: Text = "", greyscale: Text = "") -> Response:
    c, s = viewer(request)
    security.check_csrf(csrf, s.csrf)
    c.store.users.set_settings(s.user, {"greyscale": greyscale == "on"})
    return redirect("/console/settings?saved=1")
