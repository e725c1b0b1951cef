"""POST /v1/match: content in (multipart file or raw body), matches and hashes out."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from hashguard.engine import Engine
from hashguard.errors import MediaError, TooLarge

router = APIRouter()


async def _body(request: Request, limit: int) -> bytes:
    """The upload, read up to ``limit`` bytes: a multipart ``file`` field or the raw body."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise TooLarge(f"upload is {declared} bytes; the limit is {limit}")
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=16)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise MediaError("multipart upload has no 'file' field")
        data = await upload.read(limit + 1)
    else:
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                break
            chunks.append(chunk)
        data = b"".join(chunks)
    if len(data) > limit:
        raise TooLarge(f"upload is larger than the limit of {limit} bytes")
    return data


@router.post("/v1/match", summary="Match uploaded content against every enabled bank")
async def match(request: Request) -> dict[str, Any]:
    engine: Engine = request.app.state.engine
    data = await _body(request, engine.limits.max_bytes)
    result = await run_in_threadpool(engine.match_content, data)
    return result.as_dict()
