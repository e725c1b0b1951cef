"""POST /v1/match and /v1/match/batch: content or precomputed hashes in, verdicts and matches out.

The hot path of the service. It never touches the database unless something matched: then
it may read the matched entries' metadata, and a verdict other than a plain allow is
written to the match log (with its outbox event) before it is answered. It answers without
reading entries' hash values back: a ``match`` key learns verdicts, never the lists. What a
match key is told of each match is shaped by :mod:`hashguard.access.visibility`; its PDQ
queries are watched for probing (:mod:`hashguard.api.probing`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from hashguard.access.visibility import BankFields, View, matches_shown
from hashguard.actions.model import Checked, checked, content_key
from hashguard.api import probing
from hashguard.api.auth import Caller, Matcher
from hashguard.api.bodies import (
    is_json,
    media_type,
    read_body,
    read_context,
    read_upload,
    validation_error,
)
from hashguard.api.deps import JsonBody
from hashguard.api.schemas import (
    ERRORS,
    MAX_BATCH,
    Batch,
    BatchItem,
    BatchResponse,
    Context,
    MatchResponse,
    MatchSignals,
    MatchText,
    SignalIn,
    TextResponse,
)
from hashguard.api.uploads import Upload
from hashguard.engine import Engine, Result, TextResult
from hashguard.errors import HashguardError, InvalidValue, NotReady, TooLarge
from hashguard.media.budget import BatchTally
from hashguard.media.video import looks_like_video
from hashguard.signals.base import Signal
from hashguard.store.review_table import HELD
from hashguard.store.seen_log import seen_row

log = logging.getLogger(__name__)
router = APIRouter(tags=["match"])
INLINE_TEXT = 4096  # characters of text matched on the event loop rather than a thread
_BANK_FIELDS = BankFields()  # what each bank shows match keys

_UPLOAD_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/MatchSignals"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "content_id": {"type": "string"},
                        "chat_id": {"type": "string"},
                        "uploader_id": {"type": "string"},
                    },
                    "required": ["file"],
                }
            },
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


def _json(payload: dict[str, Any], status: int = 200) -> Response:
    # Built by hand rather than through a response model: this is the hottest path.
    return Response(json.dumps(payload, ensure_ascii=False), status, media_type="application/json")


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    if not engine.loaded:
        raise NotReady("the indexes are still loading; retry in a moment")
    return engine


def _parse_signals(engine: Engine, items: list[SignalIn]) -> list[Signal]:
    return [engine.registry.parse(s.type, s.value) for s in items]


def _signals_out(signals: list[Signal]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for s in signals:
        if s.type in out:
            prior = out[s.type]
            out[s.type] = [*prior, s.value] if isinstance(prior, list) else [prior, s.value]
        else:
            out[s.type] = s.value
    return out


Answer = tuple[dict[str, Any], Checked | None]  # the answer, and its verdict's record if kept


def _answer(
    request: Request, result: Result | TextResult, context: Context, engine: Engine,
    view: View, seq: int, text: str | None = None,
) -> Answer:  # fmt: skip
    """The policy's verdict, then the matches as ``view`` may see them, both counted in
    the metrics; and what the match log is to keep of it (see :func:`_keep`). ``seq``:
    where the indexes stood before the search; ``text``: the message matched, if one was
    (only its digest is kept)."""
    decision = engine.decide(result.matches, surface=context.surface)
    out = decision.as_dict(distance=view.distance)
    out["policy_version"] = decision.policy_version
    out["list_seq"] = seq
    out.update(result.as_dict())
    if result.matches and not view.full:
        fields = _BANK_FIELDS.of(engine.banks)
        out["matches"] = matches_shown(result.matches, view, fields)
    given = context.given()
    if given:
        out["context"] = given
    metrics = request.app.state.metrics
    metrics.decided(decision)
    metrics.matched(out["matches"])
    signals = result.signals if isinstance(result, Result) else {}
    key = content_key(given, signals, text)
    found = [m.as_dict() for m in result.matches]
    kept = checked(decision, found, list_seq=seq, content_key=key, signals=signals, context=given)
    if kept is None:  # a kept verdict is seen once written, with its match_id (_keep)
        groups = tuple(sorted({(str(m.get("bank") or ""), str(m.get("category") or ""))
                               for m in found})) if found else ()  # fmt: skip
        row = seen_row(
            datetime.now(UTC), "allow", key, signals, given, list_seq=seq, matched=groups
        )
        engine.store.seen_log.record(row)
    return out, kept


async def _answer_soon(
    request: Request, result: Result | TextResult, context: Context, engine: Engine,
    view: View, seq: int, text: str | None = None,
) -> Answer:  # fmt: skip
    """:func:`_answer`, on a worker thread when something matched: the policy step may then
    count a capped rule in the store. Nothing matched (most checks): on the loop."""
    args = (request, result, context, engine, view, seq, text)
    return await run_in_threadpool(_answer, *args) if result.matches else _answer(*args)


async def _keep(engine: Engine, answers: list[Answer]) -> None:
    """Make each kept verdict durable (its match-log row and outbox event, one transaction)
    before it is answered; an answer gets its ``match_id`` and ``event_id``. One that could
    not be kept becomes an error: a block that was not recorded is not answered as one."""
    store = engine.store
    pending = [(out, k, store.match_log.submit(k)) for out, k in answers if k is not None]
    for out, kept, future in pending:
        match_id = None
        try:
            logged = await asyncio.wrap_future(future)
        except Exception:
            log.exception("a verdict could not be recorded")
            out.clear()
            out["error"] = {"type": "NotReady", "message": NOT_KEPT}
        else:
            match_id = out["match_id"] = logged.match_id
            if logged.event_id is not None:
                out["event_id"] = logged.event_id
        store.seen_log.record(seen_row(
            datetime.now(UTC), kept.verdict.label, kept.content_key, kept.signals,
            kept.context, match_id, kept.list_seq,
        ))  # fmt: skip


NOT_KEPT = "the verdict could not be recorded (the database is unavailable?); retry"


async def _answered(engine: Engine, answer: Answer) -> Response:
    await _keep(engine, [answer])
    out = answer[0]
    if "error" in out:
        raise NotReady(NOT_KEPT)
    return _json(out)


EMPTY_NOTE = "the content is empty (0 bytes): there is nothing to match, and it matches nothing"


def _nothing_if_empty(result: Result, data: bytes) -> Result:
    """Empty content is no known item, whatever a list says about the digest of no bytes."""
    return result if data else Result([], result.signals)


@router.post(
    "/v1/match",
    summary="Match one item: uploaded content, or hashes the platform computed",
    response_model=MatchResponse,
    responses=ERRORS,
    openapi_extra=_UPLOAD_DOC,
)
async def match(request: Request, caller: Matcher) -> Response:
    """The content may be an image, a video (streamed to a temporary file within
    ``max_video_bytes``, its frames matched as vPDQ and against the image banks) or any
    other file (its digests)."""
    engine = _engine(request)
    seq = engine.seq
    keep: bytes | None = None  # the content, if it is to be kept for review
    if is_json(media_type(request)):
        raw = await read_body(request, engine.limits.max_bytes)
        try:
            query = MatchSignals.model_validate_json(raw)
        except ValidationError as e:
            raise validation_error(e) from None
        signals = _parse_signals(engine, query.signals)
        result = Result(engine.match_signals(signals), _signals_out(signals))
        context: Context = query
        empty = False
    else:
        upload, fields = await read_upload(
            request, engine.limits.max_bytes, engine.video.limits.max_bytes
        )
        try:
            context = read_context(fields)
            found = await run_in_threadpool(engine.match_content, upload.source)
            keep = _keepable(request, engine, upload) if found.matches else None
        finally:
            upload.close()  # a video's temporary file: gone before the answer is sent
        empty = upload.size == 0
        result = Result([], found.signals) if empty else found
    if alarm := probing.watch(request, caller, result):
        await run_in_threadpool(probing.report, request, caller, alarm, result)
        _refuse_if_probing(request, caller)
    answer = await _answer_soon(request, result, context, engine, caller.view, seq)
    if empty:
        answer[0]["note"] = EMPTY_NOTE
    response = await _answered(engine, answer)
    if keep is not None and answer[1] is not None and answer[0].get("verdict") in HELD:
        await run_in_threadpool(_keep_content, request, answer[1].content_key, keep)
    return response


def _keep_limit(request: Request, engine: Engine) -> int:
    """The largest content to keep for review: 0 unless the policy keeps content and the
    server can seal it."""
    c = getattr(request.app.state, "console", None)
    if c is None or c.ring is None or not engine.policy.policy.keep_for_review:
        return 0
    return int(c.options.keep_max_bytes)


def _keepable(request: Request, engine: Engine, upload: Upload) -> bytes | None:
    """The upload's bytes, if the policy keeps content for review and it may be kept."""
    if not 0 < upload.size <= _keep_limit(request, engine):
        return None
    return upload.data if upload.path is None else upload.path.read_bytes()


def _keep_content(request: Request, content_key: str, data: bytes) -> None:
    """Sealed beside its held item; a failure loses the preview, never the verdict."""
    c = request.app.state.console
    kind = "video" if looks_like_video(data[:64]) else "image"
    try:
        c.store.kept.put(c.ring, content_key, kind, data, now=time.time(),
                         days=c.options.keep_days)  # fmt: skip
    except Exception:
        log.exception("content held for review could not be kept")


def _refuse_if_probing(request: Request, caller: Caller) -> None:
    if caller.key is not None:
        request.app.state.auth.refuse_if_probing(caller.key)


def _match_item(
    request: Request, engine: Engine, caller: Caller, item: BatchItem, batch: BatchTally,
    seq: int,
) -> Answer:  # fmt: skip
    try:
        _refuse_if_probing(request, caller)  # the rest of a batch that raised the alarm
        given = [x is not None for x in (item.signals, item.content, item.text)]
        if sum(given) != 1:
            raise InvalidValue("give one of 'signals', 'content' (base64) or 'text'")
        if item.text is not None:
            found = engine.match_text(item.text)
            return _answer(request, found, item, engine, caller.view, seq, item.text)
        if item.signals is not None:
            signals = _parse_signals(engine, item.signals)
            result = Result(engine.match_signals(signals), _signals_out(signals))
        else:
            assert item.content is not None
            if len(item.content) > engine.limits.max_bytes * 4 // 3 + 4:
                raise TooLarge(f"content is larger than the limit of {engine.limits.max_bytes}")
            try:
                data = base64.b64decode(item.content, validate=True)
            except (binascii.Error, ValueError):
                raise InvalidValue("content is not valid base64") from None
            result = _nothing_if_empty(engine.match_content(data, batch), data)
        if alarm := probing.watch(request, caller, result):
            probing.report(request, caller, alarm, result)  # on a worker thread already
            _refuse_if_probing(request, caller)
        answer = _answer(request, result, item, engine, caller.view, seq)
        if item.content is not None and not data:
            answer[0]["note"] = EMPTY_NOTE
        return answer
    except HashguardError as e:
        return {"error": {"type": type(e).__name__, "message": e.message}}, None


@router.post(
    "/v1/match/text",
    summary="Match a message's links and words against URL and keyword lists",
    response_model=TextResponse,
    responses=ERRORS,
    dependencies=[JsonBody],
)
async def match_text(request: Request, body: MatchText, caller: Matcher) -> Response:
    """Every URL in the text (also obfuscated: ``hxxp://``, ``example[.]com``, ...) is
    canonicalised and looked up by exact URL, path prefix and host suffix; keyword entries
    are found through case, accents, look-alike letters, leetspeak and spacing. Each match
    has the ``span`` of the message it covers and what ``matched``."""
    engine = _engine(request)
    seq = engine.seq
    if len(body.text) <= INLINE_TEXT:  # tens of microseconds: cheaper than a thread hop
        result = engine.match_text(body.text)
    else:
        result = await run_in_threadpool(engine.match_text, body.text)
    answer = await _answer_soon(request, result, body, engine, caller.view, seq, body.text)
    return await _answered(engine, answer)


@router.post(
    "/v1/match/batch",
    summary=f"Match up to {MAX_BATCH} items in one call",
    response_model=BatchResponse,
    responses=ERRORS,
    dependencies=[JsonBody],
)
async def match_batch(request: Request, batch: Batch, caller: Matcher) -> Response:
    """Each item is answered in order, with its matches or its own error; one bad item does
    not fail the others. Each item counts as one request against the key's rate limit."""
    engine = _engine(request)
    if len(batch.items) > 1:
        request.app.state.auth.charge(caller, len(batch.items))
    tally = BatchTally(engine.limits.max_batch_decode_bytes)  # the items' images, together
    seq = engine.seq
    answers = await run_in_threadpool(
        lambda: [_match_item(request, engine, caller, i, tally, seq) for i in batch.items]
    )
    await _keep(engine, answers)  # the batch's verdicts share the writer's transactions
    limit = _keep_limit(request, engine)
    pairs = zip(batch.items, answers, strict=True)
    held = [(item.content, kept.content_key) for item, (out, kept) in pairs
            if item.content and kept is not None and out.get("verdict") in HELD
            and len(item.content) * 3 // 4 <= limit]  # fmt: skip
    for content, key in held:  # valid base64 already: it was matched
        await run_in_threadpool(_keep_content, request, key, base64.b64decode(content))
    return _json({"results": [out for out, _ in answers]})
