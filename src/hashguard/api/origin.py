"""Host and origin checks: what keeps a web page the operator visits from using a server
on their machine (above all one run with ``--no-auth`` on loopback).

Two attacks, two checks, both answered before the request reaches a route:

- **DNS rebinding**: a page on ``evil.example`` makes its name resolve to 127.0.0.1 and
  then calls "its own" server, which is ours; the browser sends ``Host: evil.example``.
  With ``allowed_hosts`` set (``serve`` sets the loopback names when it binds to loopback)
  any other Host gets 421 ``UnknownHost``.
- **Cross-site requests**: a page may POST a form (multipart included) to any address
  without asking. A state-changing request (anything but GET, HEAD, OPTIONS) that a browser
  marks as cross-site (``Sec-Fetch-Site``), or whose ``Origin`` is not the server's own,
  gets 403 ``CrossOrigin``. Clients that are not browsers send neither header and pass.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from hashguard.api.errors import error_response
from hashguard.errors import CrossOrigin, HashguardError, UnknownHost

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SAME_SITE = frozenset({"same-origin", "none"})  # "none": typed by the user, a bookmark


def host_name(host: str) -> str:
    """``host`` without its port: ``[::1]:8000`` -> ``[::1]``."""
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class HostAndOrigin:
    """ASGI middleware. ``allowed_hosts``: names (any port) or ``name:port``; empty: any
    Host. The origin check is always on."""

    def __init__(self, app: ASGIApp, *, allowed_hosts: tuple[str, ...] = ()) -> None:
        self.app = app
        self.allowed = frozenset(h.lower() for h in allowed_hosts)

    def refusal(self, method: str, headers: list[tuple[bytes, bytes]]) -> HashguardError | None:
        host = origin = site = ""
        for name, value in headers:
            if name == b"host":
                host = value.decode("latin-1").lower()
            elif name == b"origin":
                origin = value.decode("latin-1").lower()
            elif name == b"sec-fetch-site":
                site = value.decode("latin-1").lower()
        if self.allowed and host not in self.allowed and host_name(host) not in self.allowed:
            return UnknownHost(
                f"this server does not answer for host {host or '(none)'!r}; it answers "
                f"for {', '.join(sorted(self.allowed))} (serve --allow-host adds names)"
            )
        if method in SAFE_METHODS:
            return None
        if site and site not in SAME_SITE:
            return CrossOrigin(f"refused a {site} {method} from a web page of another origin")
        if origin and urlsplit(origin).netloc != host:
            return CrossOrigin(f"refused a {method} from a web page of another origin, {origin}")
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refused = self.refusal(scope["method"], scope["headers"])
            if refused is not None:
                response = error_response(
                    refused.http_status, type(refused).__name__, refused.message
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
