"""A ceiling on every request body, checked before and while it is read."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hashguard.api.errors import error_response


class BodyLimit:
    """ASGI middleware: 413 for a body over the limit of its route, declared or streamed.

    List imports (paths ending in ``/import``) may be larger than uploads to match.
    """

    def __init__(self, app: ASGIApp, *, default: int, imports: int) -> None:
        self.app = app
        self.default = default
        self.imports = imports

    def limit_for(self, path: str) -> int:
        return self.imports if path.endswith("/import") else self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await _too_large(scope, receive, send, limit)
                return
        seen = 0

        async def limited_receive() -> Message:
            # Raised inside the app, where the error handlers turn it into the JSON 413
            # (FastAPI passes HTTPException through its body parsing; other errors become 400).
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise HTTPException(
                        413, f"request body is larger than the limit of {limit} bytes"
                    )
            return message

        await self.app(scope, limited_receive, send)


async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    response = error_response(
        413, "TooLarge", f"request body is larger than the limit of {limit} bytes"
    )
    await response(scope, receive, send)
