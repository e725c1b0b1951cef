"""The reviewer's pages: login, the queue, an item, its preview and the decisions on it.

Every route is a plain function (FastAPI runs it on a worker thread: each makes a few
store calls), asks :func:`viewer` who is calling, and answers a page; errors become pages
too (:func:`handled`). Every POST checks the session's CSRF token first.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Request
from starlette.responses import Response

from hashguard.api.schemas import MAX_ROW_ID
from hashguard.console import security
from hashguard.console.state import Console, error_page, page, redirect, viewer
from hashguard.errors import HashguardError, MediaError, NotFound, RateLimited
from hashguard.review.model import INDUSTRY, Item
from hashguard.review.preview import preview
from hashguard.review.sealing import Unsealable
from hashguard.seen.pdq_index import SeenPdqIndex
from hashguard.seen.spread import default_threshold, spread
from hashguard.store.review_table import COUNT_CAP
from hashguard.store.user_table import Session

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form(max_length=4000)]
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]


def handled(route: Callable[..., Response]) -> Callable[..., Response]:
    @functools.wraps(route)
    def run(request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            return route(request, *args, **kwargs)
        except HashguardError as e:
            return error_page(request, e)

    return run


def _safe_next(target: str) -> str:
    """Only a path of this console: never an open redirect."""
    if target.startswith("/console") and not target.startswith("//") and "\\" not in target:
        return target
    return "/console/queue"


def _base(c: Console, s: Session) -> dict[str, Any]:
    """What every page's frame shows: who, the CSRF token, the queue's size, exposure."""
    now = c.clock()
    hour = c.store.reviews.reveals_since(now - 3600, s.user.id).get(s.user.id, 0)
    return {
        "user": s.user,
        "csrf": s.csrf,
        "counts": c.store.reviews.counts(),
        "count_cap": COUNT_CAP,
        "reveals_hour": hour,
        "reveals_per_hour": c.options.reveals_per_hour,
    }


def _when(t: float | str | None) -> str:
    if t is None:
        return ""
    if isinstance(t, str):
        return t[:19].replace("T", " ")
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S")


@router.get("/console")
def home() -> Response:
    return redirect("/console/queue")


# Logging in and out


@router.get("/console/login")
def login_page(request: Request, next: str = "/console/queue") -> Response:
    token = security.login_token(request)
    response = page(request, "login.html", {"csrf": token, "next": _safe_next(next), "error": None})
    security.set_cookie(response, request, security.LOGIN_COOKIE, token, max_age=3600)
    return response


@router.post("/console/login")
def login(
    request: Request,
    name: Text = "",
    password: Text = "",
    csrf: Text = "",
    next: Text = "/console/queue",
) -> Response:
    c: Console = request.app.state.console
    target = _safe_next(next)

    def again(message: str, status: int) -> Response:
        token = secrets.token_urlsafe(32)
        response = page(
            request,
            "login.html",
            {"csrf": token, "next": target, "error": message, "name": name},
            status,
        )
        security.set_cookie(response, request, security.LOGIN_COOKIE, token, max_age=3600)
        return response

    if not security.same(csrf, request.cookies.get(security.LOGIN_COOKIE, "")):
        return again("The login form had expired. Please try again.", 403)
    address = security.client_address(request)
    wait = c.throttle.wait(address)
    if wait:
        c.store.users.login_throttled(name, address)
        return again(f"Too many login attempts from your address: wait {wait:.0f} s.", 429)
    try:
        user = c.store.users.login(name, password, now=c.clock(), address=address)
    except RateLimited as e:
        return again(e.message, 429)
    except HashguardError as e:
        return again(e.message, e.http_status)
    # A new session, whatever cookie came in (no fixation).
    token = c.store.users.start(
        user, now=c.clock(), lifetime=c.options.session_hours * 3600, address=address
    )
    response = redirect(target)
    security.set_cookie(
        response, request, security.COOKIE, token, max_age=int(c.options.session_hours * 3600)
    )
    security.clear_cookie(response, request, security.LOGIN_COOKIE)
    return response


@router.post("/console/logout")
@handled
def logout(request: Request, csrf: Text = "") -> Response:
    c, s = viewer(request)
    security.check_csrf(csrf, s.csrf)
    c.store.users.end(s, now=c.clock())
    response = redirect("/console/login")
    security.clear_cookie(response, request, security.COOKIE)
    return response


# The queue


@router.get("/console/queue")
@handled
def queue(request: Request, bank: str = "", category: str = "", status: str = "open") -> Response:
    c, s = viewer(request, "lead" if status == "escalated" else "reviewer")
    statuses = ("escalated",) if status == "escalated" else ("open",)
    items = c.store.reviews.queue(statuses, bank=bank or None, category=category or None)
    names = c.store.users.names([i.claimed_by for i in items if i.claimed_by])
    now = c.clock()
    rows = [
        {
            "item": i,
            "age": _when(i.created_at),
            "claimed": names.get(i.claimed_by or 0)
            if i.held_by_other(s.user.id, now)
            else ("you" if i.claimed(s.user.id, now) else None),
        }
        for i in items
    ]
    return page(
        request,
        "queue.html",
        {
            **_base(c, s),
            "rows": rows,
            "bank": bank,
            "category": category,
            "status": status,
            "facets": c.store.reviews.facets(),
            "title": "Escalated" if status == "escalated" else "Queue",
        },
    )


@router.post("/console/next")
@handled
def next_item(
    request: Request, csrf: Text = "", bank: Text = "", category: Text = "", status: Text = "open"
) -> Response:
    c, s = viewer(request, "lead" if status == "escalated" else "reviewer")
    security.check_csrf(csrf, s.csrf)
    statuses = ("escalated",) if status == "escalated" else ("open",)
    item = c.store.reviews.claim_next(
        s.user.id,
        now=c.clock(),
        seconds=c.options.claim_seconds,
        statuses=statuses,
        bank=bank or None,
        category=category or None,
    )
    if item is None:
        query = f"?bank={quote(bank)}&category={quote(category)}&status={quote(status)}&empty=1"
        return redirect(f"/console/queue{query}")
    return redirect(f"/console/items/{item.id}")


# An item


def _revealed(c: Console, s: Session, item: Item) -> bool:
    since = c.clock() - c.options.reveal_minutes * 60
    return c.store.reviews.revealed(s.user.id, item.id, since)


def _spread(request: Request, c: Console, key: str) -> dict[str, Any] | None:
    engine = request.app.state.engine
    index = getattr(request.app.state, "seen_pdq", None)
    if index is None:
        index = request.app.state.seen_pdq = SeenPdqIndex(c.store.seen_log)
    content_id = key.removeprefix("id:") if key.startswith("id:") else key
    try:
        return spread(
            c.store.seen_log, index, content_id, threshold=default_threshold(engine.banks)
        )
    except NotFound:
        return None


@router.get("/console/items/{item_id}")
@handled
def item_page(request: Request, item_id: RowId) -> Response:
    c, s = viewer(request)
    item = c.store.reviews.get(item_id)
    now = c.clock()
    try:
        record: dict[str, Any] | None = c.decisions.match_record(item.match_id)
    except NotFound:
        record = None
    names = c.store.users.names([i for i in (item.claimed_by, item.decided_by) if i])
    policy = request.app.state.engine.policy.policy
    history = c.store.reviews.history(item.content_key)
    for h in history:
        h["when"] = _when(h["at"])
    return page(
        request,
        "item.html",
        {
            **_base(c, s),
            "item": item,
            "record": record,
            "history": history,
            "spread": _spread(request, c, item.content_key),
            "guidance": policy.guidance_for(item.category),
            "kept": c.store.kept.has(item.content_key, now=now) and c.ring is not None,
            "revealed": _revealed(c, s, item),
            "mine": item.claimed(s.user.id, now),
            "other": names.get(item.claimed_by or 0)
            if item.held_by_other(s.user.id, now)
            else None,
            "decided_by": names.get(item.decided_by or 0),
            "decided_when": _when(item.decided_at),
            "industry": INDUSTRY,
            "categories": sorted(
                {*c.store.reviews.facets()["category"], *dict(policy.guidance)} - {"*"}
            ),
            "created": _when(item.created_at),
            "report": c.store.reports.for_item(item.id) if s.user.may("lead") else None,
            "may_decide": item.undecided
            and (item.claimed(s.user.id, now) or s.user.may("lead"))
            and (item.status == "open" or s.user.may("lead")),
        },
    )


@router.post("/console/items/{item_id}/claim")
@handled
def claim(request: Request, item_id: RowId, csrf: Text = "") -> Response:
    c, s = viewer(request)
    security.check_csrf(csrf, s.csrf)
    statuses = ("open", "escalated") if s.user.may("lead") else ("open",)
    c.store.reviews.claim(
        item_id, s.user.id, now=c.clock(), seconds=c.options.claim_seconds, statuses=statuses
    )
    return redirect(f"/console/items/{item_id}")


@router.post("/console/items/{item_id}/decide")
@handled
def decide(
    request: Request,
    item_id: RowId,
    csrf: Text = "",
    action: Text = "",
    classification: Text = "",
    category: Text = "",
    note: Text = "",
) -> Response:
    c, s = viewer(request)
    security.check_csrf(csrf, s.csrf)
    now = c.clock()
    d = c.decisions
    if action == "confirm":
        d.confirm(
            s.user,
            item_id,
            now=now,
            classification=classification or None,
            category=category or None,
            note=note or None,
        )
    elif action == "false_positive":
        d.false_positive(s.user, item_id, now=now, note=note)
    elif action == "escalate":
        d.escalate(s.user, item_id, now=now, note=note)
    elif action == "skip":
        c.store.reviews.release(item_id, s.user.id, actor=f"user:{s.user.name}", now=now)
        item = c.store.reviews.claim_next(
            s.user.id, now=now, seconds=c.options.claim_seconds, skip=[item_id]
        )
        return redirect(f"/console/items/{item.id}" if item else "/console/queue?empty=1")
    else:
        return error_page(request, HashguardError(f"unknown decision {action!r}"))
    # On to the next item in the queue the reviewer works.
    item = c.store.reviews.claim_next(s.user.id, now=now, seconds=c.options.claim_seconds)
    return redirect(
        f"/console/items/{item.id}?done={item_id}" if item else f"/console/queue?done={item_id}"
    )


@router.post("/console/items/{item_id}/reveal")
@handled
def reveal(request: Request, item_id: RowId, csrf: Text = "") -> Response:
    c, s = viewer(request)
    security.check_csrf(csrf, s.csrf)
    item = c.store.reviews.get(item_id)
    now = c.clock()
    if not _revealed(c, s, item):
        used = {
            "hour": c.store.reviews.reveals_since(now - 3600, s.user.id).get(s.user.id, 0),
            "day": c.store.reviews.reveals_since(now - 86400, s.user.id).get(s.user.id, 0),
        }
        limits = {"hour": c.options.reveals_per_hour, "day": c.options.reveals_per_day}
        over = [w for w in ("hour", "day") if used[w] >= limits[w]]
        if over:
            c.store.audit.append(
                f"user:{s.user.name}",
                "review.reveal_refused",
                str(item_id),
                {"used": used, "limits": limits},
            )
            return page(
                request,
                "break.html",
                {**_base(c, s), "used": used, "limits": limits, "window": over[0], "item": item},
                429,
            )
        c.store.reviews.reveal(s.user.id, item_id, actor=f"user:{s.user.name}", now=now)
    return redirect(f"/console/items/{item_id}#preview")


@router.get("/console/items/{item_id}/preview")
@handled
def preview_image(request: Request, item_id: RowId) -> Response:
    c, s = viewer(request)
    item = c.store.reviews.get(item_id)
    kept = c.store.kept.get(c.ring, item.content_key, now=c.clock()) if c.ring else None
    if kept is None:
        raise NotFound(
            "this item's content is not kept: it was never kept (hashes only), "
            "or it was deleted when the item was decided or its retention ended"
        )
    try:
        jpeg = preview(
            kept.data,
            reveal=_revealed(c, s, item),
            greyscale=bool(s.user.settings.get("greyscale", True)),
        )
    except (MediaError, Unsealable) as e:
        raise NotFound(f"the kept content cannot be shown: {e}") from None
    response = Response(jpeg, media_type="image/jpeg")
    response.headers.update(security.HEADERS)
    return response
