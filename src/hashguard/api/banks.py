"""Banks: list, create, read, change settings (threshold, what match keys see, on/off),
delete. Scope ``curate``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from hashguard.api.auth import Curator
from hashguard.api.deps import JsonBody, StoreDep
from hashguard.api.schemas import ERRORS, BankIn, BankOut, BankPatch

router = APIRouter(tags=["banks"], responses=ERRORS)


@router.get("/v1/banks", summary="Every bank, with entry counts")
def list_banks(caller: Curator, s: StoreDep) -> dict[str, list[BankOut]]:
    counts = s.bank_counts()
    return {"banks": [BankOut(**b.as_dict(), entries=counts.get(b.name, {})) for b in s.banks()]}


@router.post("/v1/banks", status_code=201, summary="Create a bank", dependencies=[JsonBody])
def create_bank(body: BankIn, caller: Curator, s: StoreDep) -> BankOut:
    bank = s.create_bank(
        body.name,
        body.pdq_threshold,
        thresholds=body.thresholds,
        match_fields=body.match_fields,
        actor=caller.actor,
    )
    if not body.enabled:
        bank = s.update_bank(body.name, enabled=False, actor=caller.actor)
    return BankOut(**bank.as_dict(), entries={})


@router.get("/v1/banks/{bank}", summary="One bank, with entry counts")
def get_bank(bank: str, caller: Curator, s: StoreDep) -> BankOut:
    found = s.bank(bank)
    return BankOut(**found.as_dict(), entries=s.bank_counts().get(found.name, {}))


@router.patch(
    "/v1/banks/{bank}",
    summary="Change a bank's thresholds or what match keys see, or switch it on or off",
    dependencies=[JsonBody],
)
def patch_bank(bank: str, body: BankPatch, caller: Curator, s: StoreDep) -> BankOut:
    changed = s.update_bank(
        bank,
        pdq_threshold=body.pdq_threshold,
        thresholds=body.thresholds,
        enabled=body.enabled,
        match_fields=body.match_fields,
        actor=caller.actor,
    )
    return BankOut(**changed.as_dict())


@router.delete("/v1/banks/{bank}", summary="Delete a bank: every entry retracted, name freed")
def delete_bank(bank: str, caller: Curator, s: StoreDep) -> dict[str, Any]:
    return {"deleted": bank, "entries_retracted": s.delete_bank(bank, actor=caller.actor)}
