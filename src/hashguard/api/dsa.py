"""DSA statements of reasons (docs/dsa.md): GET /v1/dsa/statements gives a date range's
statements as JSON Lines, written as they are read; POST /v1/dsa/submit sends those not
sent yet to the DSA Transparency Database. Scope ``report``."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import StreamingResponse

from hashguard.api.auth import Compliance
from hashguard.api.schemas import ERRORS
from hashguard.console.state import console, reporting
from hashguard.errors import ConfigError, Conflict
from hashguard.reports.dsa import as_jsonl, statements

router = APIRouter(tags=["dsa"], responses=ERRORS)


@router.get(
    "/v1/dsa/statements",
    summary="DSA statements of reasons for a date range, as JSON Lines",
    responses={200: {"content": {"application/jsonl": {}}}},
)
def get_statements(
    request: Request, caller: Compliance, since: date, until: date
) -> StreamingResponse:
    """One statement per restriction decided from ``since`` to ``until`` (UTC days, both
    included): blocks, and held items a reviewer confirmed."""
    store = console(request).store
    found = statements(store, since, until, reporting(request).dsa)  # the range checked here
    return StreamingResponse(as_jsonl(found), media_type="application/jsonl")


class RangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    since: date = Field(description="the first day (UTC) of decisions to send")
    until: date = Field(description="the last day (UTC), included")


@router.post("/v1/dsa/submit", summary="Send a date range's statements not sent yet")
def submit_statements(request: Request, body: RangeIn, caller: Compliance) -> dict[str, Any]:
    """Answers ``{"sent", "skipped", "failed"}``: skipped were sent before (or the
    database holds them already), failed could not be sent now and go with the next run.
    409 when no DSA address or token is set."""
    from hashguard.reports.dsa_client import submit

    store = console(request).store
    options = reporting(request)
    found = statements(store, body.since, body.until, options.dsa)
    for setting, value in (("HASHGUARD_DSA_URL", options.dsa_url),
                           ("HASHGUARD_DSA_TOKEN_FILE", options.dsa_token_file)):  # fmt: skip
        if not value:
            raise Conflict(
                f"statements cannot be sent from this server: {setting} is not set",
                http_hint=f"{setting}, docs/dsa.md",
            )
    try:
        options.dsa_token()
    except ConfigError as e:
        raise Conflict(e.message, http_hint="HASHGUARD_DSA_TOKEN_FILE, docs/dsa.md") from None
    return submit(store, found, options)
