"""Platform enrichment: before a report is submitted, a callback the platform runs may add
what hashguard does not hold: the reported account's email and profile, IP capture events,
original file names. hashguard POSTs the report (JSON, as ``GET /v1/reports/{id}`` gives
it) and merges the answer::

    {"personOrUserReported": {"email": [...], "ipCaptureEvent": [...], ...},
     "files": {"<item id>": {"originalFileName": "...", ...}}}

The answer is checked against the CyberTipline schema like any edit; a callback that
fails or answers nonsense stops the submission (nothing is sent to NCMEC).
"""

from __future__ import annotations

import copy
from typing import Any

import httpx

from hashguard.errors import InvalidValue
from hashguard.reports.cybertip import check

ANSWER_KEYS = ("personOrUserReported", "files")


class EnrichError(InvalidValue):
    """The platform's enrichment callback failed or answered out of the schema."""

    http_status = 502


def enrich(
    url: str, report: dict[str, Any], *, timeout: float = 30.0,
    transport: httpx.BaseTransport | None = None,
) -> tuple[dict[str, Any], dict[int, dict[str, Any]]]:  # fmt: skip
    """What the callback at ``url`` adds: (person fields, file details per item id)."""
    try:
        with httpx.Client(timeout=timeout, transport=transport) as http:
            r = http.post(url, json=report)
    except httpx.HTTPError as e:
        raise EnrichError(f"enrichment callback {url}: {type(e).__name__}: {e}") from None
    if r.status_code != 200:
        raise EnrichError(f"enrichment callback {url}: HTTP {r.status_code}")
    try:
        answer = r.json()
    except ValueError:
        raise EnrichError(f"enrichment callback {url}: the answer is not JSON") from None
    if not isinstance(answer, dict) or set(answer) - set(ANSWER_KEYS):
        raise EnrichError(f"enrichment callback {url}: it answers with {', '.join(ANSWER_KEYS)}")
    person = answer.get("personOrUserReported") or {}
    files_in = answer.get("files") or {}
    if not isinstance(person, dict) or not isinstance(files_in, dict):
        raise EnrichError(f"enrichment callback {url}: objects expected")
    try:
        check("personOrUserReported", person, "enrichment")
        files = {int(k): v for k, v in files_in.items()}
        for details in files.values():
            check("fileDetails", details, "enrichment")
    except (InvalidValue, ValueError) as e:
        raise EnrichError(f"enrichment callback {url}: {e}") from None
    return person, files


def merged(document: dict[str, Any], person: dict[str, Any]) -> dict[str, Any]:
    """``document`` with the callback's person fields; hashguard's own (the user's id)
    stay as they are."""
    out = copy.deepcopy(document)
    mine = out.setdefault("personOrUserReported", {})
    for key, value in person.items():
        mine.setdefault(key, value)
    return out
