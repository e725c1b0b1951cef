"""GET /v1/changes: the change log, for replicas and audits. Scope ``curate`` (it carries
hash values)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from hashguard.api.auth import Curator
from hashguard.api.deps import StoreDep
from hashguard.api.schemas import ERRORS

router = APIRouter(tags=["changes"], responses=ERRORS)


@router.get("/v1/changes", summary="Changes logged after a sequence number, in order")
def changes(
    caller: Curator,
    s: StoreDep,
    after: Annotated[
        int, Query(ge=0, le=2**63 - 1, description="the last sequence number already seen")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> dict[str, Any]:
    """Page through with ``after`` = the ``next`` of the previous page."""
    names = {b.id: b.name for b in s.banks()}
    rows = s.changes_after(after, limit)
    return {
        "changes": [
            {
                "seq": c.seq,
                "kind": c.kind,
                # a policy change is to no bank
                **({} if c.kind == "policy" else {"bank": names.get(c.bank_id, f"#{c.bank_id}")}),
                **({"signal_type": c.signal_type, "value": c.value} if c.signal_type else {}),
            }
            for c in rows
        ],
        "next": rows[-1].seq if rows else after,
        "last_seq": s.last_seq(),
    }
