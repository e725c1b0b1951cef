"""/openapi.json completed: the body schemas routes document by hand, and every error a
route can answer, each with the one error shape (``ErrorOut``)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from hashguard.api.schemas import EntryIn, ErrorOut, MatchSignals

# Bodies that routes read themselves (the hot path skips FastAPI's parsing) and name in
# their openapi_extra by $ref.
HAND_READ: tuple[type[BaseModel], ...] = (MatchSignals, EntryIn, ErrorOut)

ERROR_DESCRIPTIONS = {
    "400": "MalformedBody: the body does not parse (not JSON, not UTF-8, a broken form)",
    "401": "Unauthorized: no API key, or an unknown or revoked one. An operator makes keys "
    "with `hashguard keys create` (or POST /v1/keys with an admin key)",
    "403": "Forbidden: the key lacks the scope this call needs, or a browser page of another "
    "origin tried to change something",
    "404": "NotFound: no such bank, entry, key or source",
    "409": "Conflict: it exists already",
    "413": "TooLarge: the body, or the image in it, is over the server's limit",
    "415": "UnsupportedMediaType: a body in a content type this route does not take",
    "422": "InvalidValue (or InvalidSignal, UnknownSignalType, MediaError, ListRejected, ...): "
    "it parses but is not acceptable; the message says which field and why",
    "429": "RateLimited: the key is over its requests per second; see Retry-After",
    "503": "NotReady: the indexes are still loading; see Retry-After",
}


def _codes(operation: dict[str, Any]) -> set[str]:
    """The errors any operation of its kind can answer."""
    codes = set()
    if operation.get("security"):
        codes |= {"401", "403", "429"}
    if operation.get("requestBody"):
        codes |= {"400", "413", "415", "422"}
    parameters = operation.get("parameters", [])
    if parameters:
        codes.add("422")
    if any(p.get("in") == "path" for p in parameters):
        codes.add("404")
    return codes


def complete(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in HAND_READ:
        found = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, sub in found.pop("$defs", {}).items():
            components.setdefault(name, sub)
        components.setdefault(model.__name__, found)
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code in _codes(operation) | (set(responses) & set(ERROR_DESCRIPTIONS)):
                answer = responses.setdefault(code, {"content": error})
                if answer.get("content") == error:  # not a route's own non-error 503
                    answer["description"] = ERROR_DESCRIPTIONS[code]
    return schema


def install(app: FastAPI) -> None:
    plain = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(plain())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
