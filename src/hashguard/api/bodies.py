"""Reading request bodies: raw, multipart uploads, and the context fields beside them."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Request
from pydantic import ValidationError

from hashguard.api.errors import from_validation
from hashguard.api.schemas import Context
from hashguard.api.uploads import Upload, spool
from hashguard.errors import InvalidValue, MediaError, TooLarge

MULTIPART = "multipart/form-data"


def media_type(request: Request) -> str:
    """The request's media type, without parameters and lower-cased: media types are
    case-insensitive (RFC 9110, 8.3.1), so ``Application/JSON`` is JSON."""
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def is_json(media: str) -> bool:
    """``application/json`` and the structured ``+json`` types (``application/ld+json``)."""
    return media.endswith(("/json", "+json"))


def validation_error(e: ValidationError) -> InvalidValue:
    return from_validation(e.errors())


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, read up to ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"request is {declared} bytes; the limit is {limit}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"request is larger than the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_upload(
    request: Request, limit: int, video_limit: int
) -> tuple[Upload, dict[str, str]]:
    """A multipart ``file`` field (and the form's other fields), or the raw body (and the
    query's fields): in memory within ``limit``, or for a video streamed to a temporary
    file within ``video_limit`` (:mod:`hashguard.api.uploads`). The caller closes it."""
    largest = max(limit, video_limit)
    if media_type(request) != MULTIPART:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > largest:
            raise TooLarge(f"request is {declared} bytes; the limit is {largest}")
        return await spool(request.stream(), limit, video_limit), dict(request.query_params)
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > largest + 64 * 1024:
        raise TooLarge(f"upload is {declared} bytes; the limit is {largest}")
    form = await request.form(max_files=1, max_fields=16)
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise MediaError("multipart upload has no 'file' field")

    async def chunks() -> AsyncIterator[bytes]:
        while chunk := await upload.read(1 << 20):
            yield chunk

    fields = {k: v for k, v in form.items() if k != "file" and isinstance(v, str)}
    return await spool(chunks(), limit, video_limit), fields


def read_context(fields: dict[str, str]) -> Context:
    try:
        return Context.model_validate(
            {k: v for k, v in fields.items() if k in Context.model_fields}
        )
    except ValidationError as e:
        raise validation_error(e) from None
