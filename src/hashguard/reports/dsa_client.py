"""A client of the DSA Transparency Database's API, and the submission of statements of
reasons through it (docs/dsa.md).

``POST {base}/api/v1/statements`` takes ``{"statements": [...]}``, 1 to 100, all or
nothing: 201 with each created statement (its ``uuid``, ``permalink``), or 422 naming what
is wrong (``errors.statement_N.field``), or naming the puids the database holds already
(``errors.existing_puids``). ``GET {base}/api/v1/statement/existing-puid/{puid}`` answers
302 (it holds one) or 404. Bearer token authentication.

Idempotent: a puid recorded in ``hg_dsa_statements`` is not sent again; puids the
database says it holds are checked one by one and recorded as sent, and the rest of their
batch sent again. A call that fails in transport, or answers 5xx or 429, is retried with
exponential backoff; a batch that still fails is counted ``failed`` and sent by the next
run.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from hashguard.errors import HashguardError, InvalidValue
from hashguard.reports.dsa_schema import validate
from hashguard.reports.http import Retrying
from hashguard.reports.options import ReportOptions
from hashguard.store.dsa_table import DsaStatements

if TYPE_CHECKING:
    from hashguard.store.store import Store

log = logging.getLogger(__name__)
BATCH = 100  # the API's most statements per call
_PUID = re.compile(r"hg-([mr])(\d+)")


class DsaError(HashguardError):
    """The Transparency Database refused the call for good (not a statement's content)."""

    http_status = 409  # the configured address or token is wrong: nothing hashguard can retry
    exit_code = 8


class Unavailable(HashguardError):
    """Calls that kept failing in transport or with 5xx/429; retried by the next run."""

    http_status = 503
    exit_code = 9


class TransparencyDatabase:
    """The API's calls; each retries transient failures, then raises :class:`Unavailable`."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        retries: int = 4,
        backoff: float = 0.5,
        timeout: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retrying = Retrying(retries, backoff, sleep)
        self.http = httpx.Client(
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
            follow_redirects=False,  # existing-puid answers 302 for "found"
        )

    def close(self) -> None:
        self.http.close()

    def _call(self, method: str, path: str, **request: Any) -> httpx.Response:
        r, why = self.retrying.send(self.http, method, f"{self.base_url}{path}", **request)
        if r is None:
            raise Unavailable(f"DSA Transparency Database {path}: {why}")
        if r.status_code in (401, 403):
            raise DsaError(
                f"DSA Transparency Database: HTTP {r.status_code}, the API token was refused",
                cli_hint="check HASHGUARD_DSA_TOKEN_FILE",
                http_hint="HASHGUARD_DSA_TOKEN_FILE, docs/dsa.md",
            )
        return r

    def create(self, statements: list[dict[str, Any]]) -> httpx.Response:
        """POST a batch: the answer (201 or 422) for the caller to read."""
        r = self._call("POST", "/api/v1/statements", json={"statements": statements})
        if r.status_code not in (201, 422):
            raise DsaError(f"DSA Transparency Database: HTTP {r.status_code}: {r.text[:300]}")
        return r

    def exists(self, puid: str) -> bool:
        r = self._call("GET", f"/api/v1/statement/existing-puid/{quote(puid, safe='')}")
        if r.status_code == 302:
            return True
        if r.status_code == 404:
            return False
        raise DsaError(f"DSA Transparency Database existing-puid: HTTP {r.status_code}")


def client(options: ReportOptions) -> TransparencyDatabase:
    if not options.dsa_url:
        raise DsaError("no DSA Transparency Database address: set HASHGUARD_DSA_URL")
    if not options.dsa_url.startswith(("https://", "http://")):
        raise DsaError(f"HASHGUARD_DSA_URL {options.dsa_url!r}: an http(s) address")
    return TransparencyDatabase(options.dsa_url, options.dsa_token())


def _ids(puid: str) -> dict[str, int | None]:
    found = _PUID.fullmatch(puid)
    if found is None:
        return {"match_id": None, "review_id": None}
    n = int(found.group(2))
    return {"match_id": n if found.group(1) == "m" else None,
            "review_id": n if found.group(1) == "r" else None}  # fmt: skip


def _chunks(items: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _refusal(body: Any, batch: list[dict[str, Any]]) -> InvalidValue:
    """The first field the database refused, named with its statement's puid."""
    errors = body.get("errors") if isinstance(body, dict) else None
    for key, problems in (errors or {}).items():
        index = key.removeprefix("statement_")
        if isinstance(problems, dict) and index.isdigit() and int(index) < len(batch):
            for name, messages in problems.items():
                text = messages[0] if isinstance(messages, list) and messages else messages
                return InvalidValue(
                    f"statement {batch[int(index)]['puid']} ({key}): {name}: {text}"
                )
        if isinstance(problems, list) and problems:
            return InvalidValue(f"DSA Transparency Database refused {key}: {problems[0]}")
    message = body.get("message") if isinstance(body, dict) else None
    return InvalidValue(f"DSA Transparency Database refused the batch: {message or body}")


def _send(
    api: TransparencyDatabase, sent: DsaStatements, batch: list[dict[str, Any]], now: float
) -> tuple[int, int]:
    """One batch, to the end: (sent, skipped). Puids the database holds already are
    checked, recorded and left out, and the rest sent again."""
    skipped = 0
    while batch:
        r = api.create(batch)
        try:
            body = r.json()
        except ValueError:
            body = {"message": r.text[:300]}
        if r.status_code == 201:
            made = {s.get("puid"): s for s in body.get("statements", []) if isinstance(s, dict)}
            sent.record([
                {"puid": s["puid"], **_ids(s["puid"]), "sent_at": now,
                 "uuid": made.get(s["puid"], {}).get("uuid"),
                 "permalink": made.get(s["puid"], {}).get("permalink")}
                for s in batch
            ])  # fmt: skip
            return len(batch), skipped
        existing = (body.get("errors") or {}).get("existing_puids") if isinstance(
            body, dict) else None  # fmt: skip
        if not existing:
            raise _refusal(body, batch)
        held = [p for p in existing if isinstance(p, str) and api.exists(p)]
        mine = {s["puid"] for s in batch}
        held = [p for p in held if p in mine]
        if not held:
            raise InvalidValue(
                f"DSA Transparency Database: puids said to exist but not found: {existing[:5]}"
            )
        sent.record([{"puid": p, **_ids(p), "sent_at": now, "uuid": None, "permalink": None}
                     for p in held])  # fmt: skip
        skipped += len(held)
        batch = [s for s in batch if s["puid"] not in set(held)]
    return 0, skipped


def submit(
    store: Store,
    statements: Iterable[dict[str, Any]],
    options: ReportOptions,
    *,
    api: TransparencyDatabase | None = None,
    now: float | None = None,
) -> dict[str, int]:
    """Send the statements not sent yet, 100 a call; ``{"sent", "skipped", "failed"}``.
    Each is validated first (InvalidValue naming its puid and field); a refusal by the
    database raises InvalidValue naming the statement and field, after what was sent
    before it is recorded."""
    own = api is None
    api = api or client(options)
    sent = DsaStatements(store.engine)
    counts = {"sent": 0, "skipped": 0, "failed": 0}
    try:
        for chunk in _chunks(statements, BATCH):
            for s in chunk:
                try:
                    validate(s)
                except InvalidValue as e:
                    raise InvalidValue(f"statement {s.get('puid')}: {e.message}") from None
            known = sent.known(s["puid"] for s in chunk)
            counts["skipped"] += len(known)
            todo = [s for s in chunk if s["puid"] not in known]
            if not todo:
                continue
            try:
                done, skipped = _send(api, sent, todo, time.time() if now is None else now)
            except Unavailable as e:
                log.warning("DSA statements not sent: %s", e.message)
                counts["failed"] += len(todo)
                continue
            counts["sent"] += done
            counts["skipped"] += skipped
    finally:
        if own:
            api.close()
    return counts
