"""GET /v1/items/{content_id}/spread: where an item was shared. Scope ``spread``: who shared
what where is not for a key that only checks content. See hashguard.seen.spread."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from hashguard.api.auth import Tracer
from hashguard.api.deps import EngineDep
from hashguard.api.schemas import ERRORS
from hashguard.seen.pdq_index import SeenPdqIndex
from hashguard.seen.spread import default_threshold, spread
from hashguard.signals.pdq import MAX_THRESHOLD

router = APIRouter(tags=["spread"], responses=ERRORS)


@router.get("/v1/items/{content_id}/spread", summary="Where an item was shared: its sightings")
def item_spread(
    request: Request,
    caller: Tracer,
    e: EngineDep,
    content_id: Annotated[str, Path(max_length=256)],
    pdq_threshold_: Annotated[
        int | None,
        Query(
            alias="pdq_threshold",
            ge=0,
            le=MAX_THRESHOLD,
            description="default: the largest of the enabled banks'",
        ),
    ] = None,
) -> dict[str, Any]:
    """Every sighting in the seen log of the same content: equal MD5 or SHA-256, or PDQ
    within the threshold; by chat, uploader and surface, first and last seen, by day."""
    index = getattr(request.app.state, "seen_pdq", None)
    if index is None:
        index = request.app.state.seen_pdq = SeenPdqIndex(e.store.seen_log)
    threshold = default_threshold(e.banks) if pdq_threshold_ is None else pdq_threshold_
    return spread(e.store.seen_log, index, content_id, threshold=threshold)
