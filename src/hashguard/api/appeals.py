"""POST /v1/appeals: the platform appeals a restriction on behalf of its user; leads
decide it in the console (docs/console.md#appeals). GET /v1/appeals/{id}: its outcome."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from hashguard.api.auth import Matcher
from hashguard.api.schemas import ERRORS, MAX_ROW_ID
from hashguard.console.state import console

router = APIRouter(tags=["appeals"], responses=ERRORS)


class AppealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    match_id: int = Field(
        ge=1, le=MAX_ROW_ID, description="the blocked item's match_id, from its answer"
    )
    reason: str | None = Field(default=None, max_length=2000, description="the user's words")


@router.post("/v1/appeals", status_code=201, summary="Appeal a block or report verdict")
def file_appeal(request: Request, body: AppealIn, caller: Matcher) -> dict[str, Any]:
    """One appeal per match: a second answers 409."""
    c = console(request)
    appeal = c.decisions.file_appeal(
        body.match_id, requester=caller.actor, reason=body.reason, now=time.time()
    )
    return appeal.as_dict()


@router.get("/v1/appeals/{appeal_id}", summary="An appeal and its outcome")
def get_appeal(
    request: Request, appeal_id: Annotated[int, Path(ge=1, le=MAX_ROW_ID)], caller: Matcher
) -> dict[str, Any]:
    appeal = console(request).store.reviews.get_appeal(appeal_id)
    return appeal.as_dict()
