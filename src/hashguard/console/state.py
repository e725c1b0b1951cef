"""What the console's pages share: the store, the decisions, the options, the templates,
and who is asking (:func:`viewer`), installed on the app by :func:`install`."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import RedirectResponse, Response

from hashguard.access.accounts import Role
from hashguard.console.security import COOKIE, HEADERS, LoginThrottle
from hashguard.errors import Forbidden, HashguardError
from hashguard.reports.options import ReportOptions
from hashguard.review.decide import Decisions
from hashguard.review.options import ReviewOptions
from hashguard.review.sealing import KeyRing
from hashguard.store.store import Store
from hashguard.store.user_table import Session

HERE = Path(__file__).parent


@dataclass
class Console:
    store: Store
    options: ReviewOptions
    ring: KeyRing | None
    clock: Callable[[], float] = time.time
    throttle: LoginThrottle = field(default_factory=LoginThrottle)

    @property
    def decisions(self) -> Decisions:
        return Decisions(self.store, self.options)


templates = Jinja2Templates(directory=HERE / "templates")  # autoescapes .html


class LoginNeeded(HashguardError):
    http_status = 401


def console(request: Request) -> Console:
    found: Console | None = getattr(request.app.state, "console", None)
    if found is None:
        raise HashguardError("the review console needs the SQL store")
    return found


def reporting(request: Request) -> ReportOptions:
    """The server's reporting settings (the profile, NCMEC, DSA)."""
    found: ReportOptions = request.app.state.reporting
    return found


def viewer(request: Request, role: Role = "reviewer") -> tuple[Console, Session]:
    """The console and the session asking, which must hold ``role``: else LoginNeeded
    (no live session) or Forbidden."""
    c = console(request)
    options = c.options
    session = c.store.users.session(
        request.cookies.get(COOKIE, ""), now=c.clock(), idle=options.idle_minutes * 60
    )
    if session is None:
        raise LoginNeeded("log in first")
    if not session.user.may(role):
        raise Forbidden(f"this page is for the {role} role; you are a {session.user.role}")
    return c, session


def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    response = templates.TemplateResponse(request, name, context, status_code=status)
    response.headers.update(HEADERS)
    return response


def error_page(request: Request, error: HashguardError) -> Response:
    """A console error as a page: what happened and what to do, never a trace."""
    if isinstance(error, LoginNeeded):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":  # a form posted after the session ended: back to a page
            target = "/console/queue"
        response: Response = RedirectResponse(f"/console/login?next={quote(target)}", 303)
        response.headers.update(HEADERS)
        return response
    return page(
        request,
        "error.html",
        {"title": type(error).__name__, "message": error.message, "status": error.http_status},
        error.http_status,
    )


def redirect(path: str) -> Response:
    response = RedirectResponse(path, 303)
    response.headers.update(HEADERS)
    return response
