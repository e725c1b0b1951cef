"""One JSON error shape everywhere: ``{"error": {"type": ..., "message": ...}}``.

``type`` is the name of a class in hashguard.errors (or ``MethodNotAllowed``,
``InternalError``), whichever route and whichever layer refused the request. The rule for
bodies: one that does not parse (not JSON, not UTF-8, a broken multipart form) is 400
``MalformedBody``; one that parses but breaks the schema is 422 ``InvalidValue``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from hashguard.errors import (
    HashguardError,
    InvalidValue,
    MalformedBody,
    NotReady,
    RateLimited,
    Unauthorized,
)

log = logging.getLogger(__name__)
CLIENT_GONE = 499  # what the metrics count for a client that left mid-request (nginx's code)


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


_NOT_AN_OBJECT = ("model_type", "model_attributes_type", "dict_type")


def from_validation(details: Sequence[Any]) -> InvalidValue:
    """Pydantic's or FastAPI's complaint about a request, as one of our errors: the first
    problem, named by where it is (``signals.0.value``; ``query.after``)."""
    first: dict[str, Any] = dict(details[0]) if details else {}
    loc = [str(p) for p in first.get("loc", ())]
    if first.get("type") == "json_invalid":
        why = str(first.get("ctx", {}).get("error", "")) or first.get("msg", "")
        why = why.removeprefix("Invalid JSON: ")
        return MalformedBody(f"the body is not valid JSON: {why}" if why else "body is not JSON")
    if loc in ([], ["body"]) and first.get("type") in _NOT_AN_OBJECT:
        return InvalidValue("body: must be a JSON object")
    if loc[:1] == ["body"] and len(loc) > 1:
        loc = loc[1:]  # body fields by their own names, as routes that parse bodies say them
    return InvalidValue(f"{'.'.join(loc) or 'body'}: {first.get('msg', 'invalid')}")


def _answer(exc: HashguardError) -> JSONResponse:
    return error_response(exc.http_status, type(exc).__name__, exc.for_http(), _headers(exc))


def _unparsed(request: Request, exc: HTTPException) -> str:
    # FastAPI's and Starlette's own words for a body they could not parse.
    if request.headers.get("content-type", "").split(";")[0].strip().lower().endswith("json"):
        return "the body is not valid JSON"
    return f"the body does not parse: {exc.detail}"


def install(app: FastAPI) -> None:
    @app.exception_handler(HashguardError)
    async def _hashguard(_: Request, exc: HashguardError) -> JSONResponse:
        return _answer(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _answer(from_validation(exc.errors()))

    @app.exception_handler(ValidationError)
    async def _model(_: Request, exc: ValidationError) -> JSONResponse:
        # A body a route validates itself (the hot path skips FastAPI's own parsing).
        return _answer(from_validation(exc.errors()))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        kind, message = {
            400: ("MalformedBody", _unparsed(request, exc)),
            404: ("NotFound", f"no route {request.url.path}; the API is described at /docs"),
            405: ("MethodNotAllowed", f"{request.method} is not allowed on {request.url.path}"),
            413: ("TooLarge", str(exc.detail)),
        }.get(exc.status_code, ("HTTPError", str(exc.detail)))
        return error_response(exc.status_code, kind, message, dict(exc.headers or {}))

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, exc: ClientDisconnect) -> Response:
        # Not a bug and nothing to answer: one line in the log, no traceback.
        log.warning(
            "client disconnected before sending all of %s %s", request.method, request.url.path
        )
        return Response(status_code=CLIENT_GONE)

    @app.exception_handler(Exception)
    async def _bug(_: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error", exc_info=exc)
        return error_response(500, "InternalError", "internal error; the server log has details")
