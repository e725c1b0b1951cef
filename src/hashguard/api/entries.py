"""Entries of a bank: add one (as JSON or by uploading the content), read one, retract one,
and import a whole list file. Scope ``curate``; every call is in the audit log."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import IO, Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from hashguard.api.auth import Curator
from hashguard.api.bodies import MULTIPART, is_json, media_type, read_body, read_upload
from hashguard.api.deps import EngineDep, StoreDep
from hashguard.api.schemas import ERRORS, EntryIn, EntryOut
from hashguard.banks.model import Entry
from hashguard.engine import Engine
from hashguard.errors import InvalidValue, ListRejected, MediaError, RowError, UnknownFormat
from hashguard.lists import formats
from hashguard.lists.rows import entry_rows

router = APIRouter(tags=["entries"], responses=ERRORS)

_ENTRY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/EntryIn"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "id": {"type": "string"},
                        "category": {"type": "string"},
                        "severity": {"type": "string"},
                        "note": {"type": "string"},
                    },
                    "required": ["file"],
                }
            },
        },
    }
}
_IMPORT_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
            "text/csv": {"schema": {"type": "string"}},
            "application/x-ndjson": {"schema": {"type": "string"}},
        },
    }
}


def _entry_out(entry: Entry) -> EntryOut:
    return EntryOut(
        bank=entry.bank,
        id=entry.id,
        status=entry.status,
        signals=[
            {"type": s.type, "value": s.value, **({"quality": s.quality} if s.quality else {})}
            for s in entry.signals
        ],
        metadata=entry.metadata(),
    )


def _signals_of_content(e: Engine, data: bytes | Path) -> list[tuple[str, str, int | None]]:
    return e.hash(data, query=False).listed()


@router.post(
    "/v1/banks/{bank}/entries",
    status_code=201,
    summary="Add an entry: its signals as JSON, or the content itself to hash",
    openapi_extra=_ENTRY_DOC,
)
async def add_entry(
    bank: str,
    request: Request,
    caller: Curator,
    e: EngineDep,
) -> dict[str, Any]:
    """Same rules as a one-entry list: adding an existing id adds the signals it lacks and
    reactivates it if retracted. An uploaded file is hashed (digests, and PDQ if it is an
    image) and then forgotten: only the hashes are stored."""
    media = media_type(request)
    if is_json(media):
        body = EntryIn.model_validate_json(await read_body(request, e.limits.max_bytes))
        entry_id, metadata = body.id, body.metadata
        signals: list[tuple[str, str, int | None]] = [(s.type, s.value, None) for s in body.signals]
    else:
        upload, fields = await read_upload(request, e.limits.max_bytes, e.video.limits.max_bytes)
        try:
            if upload.size == 0:  # its digests would make every empty upload "known material"
                raise InvalidValue("the uploaded content is empty (0 bytes): nothing to list")
            signals = await run_in_threadpool(_signals_of_content, e, upload.source)
        finally:
            upload.close()
        if media != MULTIPART:
            fields = {}  # the raw body's metadata comes in the query only for matching
        sha256 = next(v for t, v, _ in signals if t == "sha256")
        entry_id = fields.pop("id", "") or f"sha256:{sha256}"
        metadata = {k: v for k, v in fields.items() if k in ("category", "severity", "note")}
    rows, errors = entry_rows(entry_id, signals, metadata, e.registry)
    if errors:
        raise ListRejected(f"entry {entry_id!r}", errors)
    # Answered once the transaction holding it has committed; adds arriving meanwhile
    # share the next one (group commit), and no request thread waits for it.
    report, entry = await asyncio.wrap_future(
        e.store.submit_entry(bank, rows, actor=caller.actor, action="entry.add")
    )
    return {"entry": _entry_out(entry).model_dump(), "report": report.as_dict()}


@router.get("/v1/banks/{bank}/entries/{entry_id}", summary="One entry, with its signals")
def get_entry(bank: str, entry_id: str, caller: Curator, s: StoreDep) -> EntryOut:
    return _entry_out(s.entry(bank, entry_id))


@router.delete("/v1/banks/{bank}/entries/{entry_id}", summary="Retract an entry")
def retract_entry(bank: str, entry_id: str, caller: Curator, s: StoreDep) -> EntryOut:
    """When this answers, the entry no longer matches on this process; every other serving
    process follows the change log within a second."""
    return _entry_out(s.retract_entry(bank, entry_id, actor=caller.actor))


async def _spool(request: Request) -> tuple[IO[bytes], str | None]:
    """The list file, spooled to a temporary file (lists can be gigabytes), and its name."""
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)  # noqa: SIM115
    name = None
    if media_type(request) == MULTIPART:
        form = await request.form(max_files=1, max_fields=4)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise MediaError("multipart upload has no 'file' field")
        name = upload.filename
        while chunk := await upload.read(1 << 20):
            spool.write(chunk)
    else:
        async for chunk in request.stream():
            spool.write(chunk)
    spool.seek(0)
    return spool, name


@router.post(
    "/v1/banks/{bank}/import",
    summary="Import a list file into a bank, atomically",
    openapi_extra=_IMPORT_DOC,
)
async def import_list(
    bank: str,
    request: Request,
    caller: Curator,
    e: EngineDep,
    format: Annotated[
        str | None, Query(description="csv or jsonl; else from the file name")
    ] = None,
) -> dict[str, Any]:
    """Every row is checked first; one bad row rejects the file (422, every bad row listed
    with its line number) and nothing changes. Re-importing the same file changes nothing."""
    e.store.bank(bank)  # 404 before reading a large upload
    spool, name = await _spool(request)
    try:
        fmt = formats.get(formats.format_for(name or "list", format, media_type(request)))
    except UnknownFormat:
        what = f"unknown list format {format!r}" if format else "cannot tell the list format"
        raise UnknownFormat(
            f"{what}: send ?format=csv or ?format=jsonl, a content type of text/csv or "
            "application/x-ndjson, or a file whose name ends in .csv or .jsonl"
        ) from None

    def run() -> dict[str, Any]:
        errors: list[RowError] = []
        with spool:
            rows = fmt.read(spool, e.registry, errors)
            return e.store.import_rows(
                bank, rows, errors, name or "upload", actor=caller.actor
            ).as_dict()

    return await run_in_threadpool(run)
