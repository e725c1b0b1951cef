"""Request and response bodies: what /openapi.json documents and requests are checked against."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from hashguard.engine import MAX_TEXT_CHARS
from hashguard.signals.pdq import MAX_THRESHOLD

MAX_SIGNALS = 64  # per item: one piece of content has a handful of hashes, not thousands
MAX_BATCH = 100  # items per /v1/match/batch call
CONTEXT = 256  # characters in a context field
SURFACE = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # an event_time before this is a client's bug
_IDS = ("content_id", "chat_id", "uploader_id", "surface")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignalIn(Strict):
    type: str = Field(max_length=32, examples=["pdq"])
    value: str = Field(max_length=4096)


class Context(Strict):
    """Pseudonymous ids the platform chooses; echoed back so verdicts can be joined up."""

    content_id: str | None = Field(None, max_length=CONTEXT)
    chat_id: str | None = Field(None, max_length=CONTEXT)
    uploader_id: str | None = Field(None, max_length=CONTEXT)
    surface: str | None = Field(
        None, pattern=SURFACE, examples=["public_channel", "group", "private_chat"],
        description="where the item was shared, in the platform's own words: policy rules "
        "may fit some surfaces only",
    )  # fmt: skip
    event_time: AwareDatetime | None = Field(
        None, description="when the item was shared: ISO 8601 with a time zone"
    )

    @field_validator("event_time")
    @classmethod
    def _plausible(cls, value: datetime | None) -> datetime | None:
        if value is not None and not EARLIEST <= value <= datetime.now(UTC) + timedelta(days=1):
            raise ValueError(f"must lie between {EARLIEST.date()} and tomorrow")
        return value

    def given(self) -> dict[str, str]:
        out = {k: v for k in _IDS if (v := getattr(self, k)) is not None}
        if self.event_time is not None:
            out["event_time"] = self.event_time.astimezone(UTC).isoformat()
        return out


class MatchSignals(Context):
    signals: list[SignalIn] = Field(min_length=1, max_length=MAX_SIGNALS)


class MatchText(Context):
    text: str = Field(max_length=MAX_TEXT_CHARS, description="a message: its links and words")


class BatchItem(Context):
    """One item: hashes computed by the platform, the content in base64, or message text."""

    signals: list[SignalIn] | None = Field(None, min_length=1, max_length=MAX_SIGNALS)
    content: str | None = Field(None, description="the content, base64-encoded")
    text: str | None = Field(None, max_length=MAX_TEXT_CHARS, description="message text")


class Batch(Strict):
    items: list[BatchItem] = Field(min_length=1, max_length=MAX_BATCH)


class MatchOut(BaseModel):
    model_config = ConfigDict(extra="allow")  # the entry's metadata: category, severity, ...

    bank: str
    entry: str
    signal_type: str
    distance: int | None = Field(None, description="PDQ bits apart: curate keys and match:distance")
    variant: str | None = None
    low_quality: bool | None = None


class ReasonOut(BaseModel):
    rule: str
    verdict: str
    bank: str
    entry: str
    signal_type: str
    distance: int | None = Field(None, description="as for matches: who may see it")
    mode: str | None = Field(None, description="shadow, for a shadow rule's reason")
    capped: bool | None = Field(None, description="the rule's flood guard lowered it to review")


class Verdicts(BaseModel):
    """What the policy made of the matches."""

    verdict: str = Field(description="allow, review, block or report: the strictest rule's")
    reasons: list[ReasonOut] = Field(description="every live rule that fired, strictest first")
    shadow: dict[str, Any] | None = Field(
        None, description="the verdict and reasons if the shadow rules were live"
    )
    suppressed: list[dict[str, Any]] | None = Field(
        None, description="matches in suppress banks, which cancelled the others"
    )
    policy_version: int = Field(description="the policy applied; 0 is the built-in one")
    list_seq: int = Field(description="the change-log position the indexes were at")
    match_id: int | None = Field(
        None, description="the verdict's match-log record: any verdict but a plain allow"
    )
    event_id: str | None = Field(
        None, description="its outbox event (review, block, report): the idempotency key"
    )


class TextResponse(Verdicts):
    matches: list[MatchOut]
    urls: list[dict[str, Any]]
    context: dict[str, str] | None = None


class MatchResponse(Verdicts):
    matches: list[MatchOut]
    signals: dict[str, Any]
    context: dict[str, str] | None = None
    note: str | None = None  # e.g. why empty content matched nothing


class BatchResult(BaseModel):
    verdict: str | None = None
    reasons: list[ReasonOut] | None = None
    shadow: dict[str, Any] | None = None
    suppressed: list[dict[str, Any]] | None = None
    policy_version: int | None = None
    list_seq: int | None = None
    match_id: int | None = None
    event_id: str | None = None
    matches: list[MatchOut] | None = None
    urls: list[dict[str, Any]] | None = None
    signals: dict[str, Any] | None = None
    context: dict[str, str] | None = None
    note: str | None = None
    error: dict[str, str] | None = None


class BatchResponse(BaseModel):
    results: list[BatchResult]


_MATCH_FIELDS = (
    "entry fields match-scope keys see: category, severity, note, extra (the list's other "
    "columns) or extra.COLUMN; default category and severity"
)


_THRESHOLDS = (
    'the bank\'s match threshold per signal type, e.g. {"pdq": 31}; a type left out '
    "matches at its default. In a PATCH, types not named keep theirs and null restores "
    "the default"
)


class BankIn(Strict):
    name: str = Field(max_length=64, examples=["iwf-hashes"])
    pdq_threshold: int | None = Field(None, ge=0, le=MAX_THRESHOLD, description="default 31")
    thresholds: dict[str, int] | None = Field(None, max_length=32, description=_THRESHOLDS)
    enabled: bool = True
    match_fields: list[str] | None = Field(None, max_length=64, description=_MATCH_FIELDS)


class BankPatch(Strict):
    pdq_threshold: int | None = Field(None, ge=0, le=MAX_THRESHOLD)
    thresholds: dict[str, int | None] | None = Field(None, max_length=32, description=_THRESHOLDS)
    enabled: bool | None = None
    match_fields: list[str] | None = Field(None, max_length=64, description=_MATCH_FIELDS)


class BankOut(BaseModel):
    name: str
    pdq_threshold: int
    thresholds: dict[str, int]
    enabled: bool
    match_fields: list[str]
    entries: dict[str, int] | None = None


class EntryIn(Strict):
    id: str = Field(min_length=1, max_length=4096)
    signals: list[SignalIn] = Field(min_length=1, max_length=MAX_SIGNALS)
    metadata: dict[str, str] = Field(default_factory=dict, max_length=64)


class EntryOut(BaseModel):
    bank: str
    id: str
    status: str
    signals: list[dict[str, Any]]
    metadata: dict[str, Any]


class KeyIn(Strict):
    name: str = Field(max_length=64)
    scopes: list[str] = Field(min_length=1, max_length=4, examples=[["match"]])
    rate_limit: int | None = Field(None, ge=0, le=10_000_000, description="requests/s; 0: none")


class KeyOut(BaseModel):
    name: str
    prefix: str
    scopes: list[str]
    rate_limit: int | None
    created_at: str | None
    revoked_at: str | None


class KeyCreated(KeyOut):
    key: str = Field(description="the key itself: shown this once, stored only as a hash")


class ErrorBody(BaseModel):
    type: str
    message: str


class ErrorOut(BaseModel):
    error: ErrorBody


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut} for code in (401, 403, 404, 409, 413, 422, 429, 503)
}


class WebhookIn(Strict):
    name: str = Field(max_length=64)
    url: str = Field(max_length=2000, examples=["https://hooks.example.org/hashguard"])
    events: list[str] = Field(min_length=1, max_length=3, examples=[["block", "report"]])
    secret: str = Field(min_length=16, max_length=256, description="signs every delivery")
    from_start: bool = Field(False, description="also every event already in the outbox")


class SecretIn(Strict):
    secret: str = Field(min_length=16, max_length=256)


MAX_ROW_ID = 2**63 - 1  # the largest row id either database holds: ids past it are 422
