"""Console sessions, CSRF and login throttling.

- The session cookie holds a random token (the store keeps its hash). It is ``HttpOnly``,
  ``SameSite=Strict``, limited to ``/console``, and ``Secure`` except over plain HTTP to a
  loopback address (a browser drops Secure cookies there). A login always starts a new
  session, whatever cookie came with it (no session fixation).
- Every state-changing request carries the session's CSRF token in its form (field
  ``csrf``), compared in constant time; the login form, which has no session yet, carries
  a token that must equal its own cookie (double submit). The app's origin check
  (api/origin.py) refuses cross-site writes besides.
- Logins are throttled per client address (:class:`LoginThrottle`), and accounts lock
  after repeated failures (access/accounts.py).
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from ipaddress import ip_address

from fastapi import Request
from starlette.responses import Response

from hashguard.errors import Forbidden

COOKIE = "hg_session"
LOGIN_COOKIE = "hg_login"
PATH = "/console"
LOGIN_ATTEMPTS = 10  # per client address per LOGIN_WINDOW, in each process
LOGIN_WINDOW = 300.0
HEADERS = {
    # Everything from hashguard itself; no inline script, no framing, forms post here only.
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self'; media-src 'self'; style-src 'self'; "
        "script-src 'self'; object-src 'none'; frame-ancestors 'none'; form-action 'self'; "
        "base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    # Not "no-referrer": with it, Chromium sends "Origin: null" on the console's own form
    # posts, which the origin check (rightly) refuses. Other sites get no referrer.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",  # pages and previews of abuse content are not cached
    "X-Frame-Options": "DENY",
}


class CsrfRefused(Forbidden):
    """A console form without the session's token: forged, or from an expired page."""


def secure(request: Request) -> bool:
    """Whether cookies get ``Secure``: always, but over plain HTTP to loopback."""
    if request.url.scheme == "https":
        return True
    host = (request.url.hostname or "").strip("[]")
    if host == "localhost":
        return False
    try:
        return not ip_address(host).is_loopback
    except ValueError:
        return True


def set_cookie(
    response: Response, request: Request, name: str, value: str, max_age: int | None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=PATH,
        httponly=True,
        samesite="strict",
        secure=secure(request),
    )


def clear_cookie(response: Response, request: Request, name: str) -> None:
    response.delete_cookie(
        name, path=PATH, httponly=True, samesite="strict", secure=secure(request)
    )


def login_token(request: Request) -> str:
    """The login form's token: the cookie's, or a new one (set by the login page)."""
    current = request.cookies.get(LOGIN_COOKIE, "")
    return current if 20 <= len(current) <= 100 else secrets.token_urlsafe(32)


def same(given: str | None, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(str(given).encode(), expected.encode())


def check_csrf(given: str | None, expected: str) -> None:
    if not same(given, expected):
        raise CsrfRefused(
            "this form was not sent from a page of this console (or the page was older "
            "than your session): reload the page and try again"
        )


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class LoginThrottle:
    """At most :data:`LOGIN_ATTEMPTS` login attempts per address per :data:`LOGIN_WINDOW`."""

    def __init__(self, attempts: int = LOGIN_ATTEMPTS, window: float = LOGIN_WINDOW) -> None:
        self.attempts = attempts
        self.window = window
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait(self, address: str, now: float | None = None) -> float:
        """0 and the attempt counted, or the seconds until one is allowed again."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._seen) > 100_000:
                self._seen.clear()
            times = self._seen.setdefault(address, deque())
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) >= self.attempts:
                return times[0] + self.window - now
            times.append(now)
            return 0.0
