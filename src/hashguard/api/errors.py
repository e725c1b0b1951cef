"""One JSON error shape everywhere: ``{"error": {"type": ..., "message": ...}}``."""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from hashguard.errors import HashguardError, NotReady, RateLimited, Unauthorized

log = logging.getLogger(__name__)


def error_response(
    status: int, kind: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"error": {"type": kind, "message": message}}
    return JSONResponse(body, status_code=status, headers=headers)


def _headers(exc: HashguardError) -> dict[str, str] | None:
    if isinstance(exc, RateLimited):
        return {"Retry-After": str(max(1, math.ceil(exc.retry_after)))}
    if isinstance(exc, Unauthorized):
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(exc, NotReady):
        return {"Retry-After": "1"}
    return None


def install(app: FastAPI) -> None:
    @app.exception_handler(HashguardError)
    async def _hashguard(_: Request, exc: HashguardError) -> JSONResponse:
        return error_response(exc.http_status, type(exc).__name__, exc.message, _headers(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return error_response(422, "InvalidRequest", f"{where}: {first.get('msg', 'invalid')}")

    @app.exception_handler(ValidationError)
    async def _model(_: Request, exc: ValidationError) -> JSONResponse:
        # A body a route validates itself (the hot path skips FastAPI's own parsing).
        details = exc.errors()
        first: dict[str, Any] = dict(details[0]) if details else {}
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        return error_response(422, "InvalidRequest", f"{where}: {first.get('msg', 'invalid')}")

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        kind = {
            400: "InvalidRequest",
            413: "TooLarge",
            404: "NotFound",
            405: "MethodNotAllowed",
        }.get(exc.status_code, "HTTPError")
        return error_response(exc.status_code, kind, str(exc.detail), dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _bug(_: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error", exc_info=exc)
        return error_response(500, "InternalError", "internal error; the server log has details")
