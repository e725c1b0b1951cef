"""A client of NCMEC's CyberTipline reporting API (the ESP "ispws" web service), and the
submission of a report through it.

The API's flow: ``submit`` the ``<report>`` (NCMEC opens a report and gives its id), then
for each file ``upload`` it (a file id) and send its ``fileinfo`` (``<fileDetails>``),
then ``finish``; ``retract`` cancels an opened report that will not be finished. Every
answer is XML with a ``responseCode`` (0: success). HTTP Basic authentication.

Retries: a call that fails in transport, or answers 5xx or 429, is retried with
exponential backoff; a non-zero responseCode (the report was refused) is not. NCMEC keeps
no unfinished report, so a retried ``submit`` leaves at most an unfinished one behind;
once any step fails for good the opened report is retracted, and the report's status is
``failed`` with the reason. Nothing is finished twice: ``Reports.start`` lets one
submitter at a time past a draft or failed report, and a submitted one never again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree as ET

import httpx

from hashguard.errors import HashguardError
from hashguard.reports.http import Retrying

log = logging.getLogger(__name__)

ENVIRONMENTS = {
    "test": "https://exttest.cybertip.org/ispws",
    "production": "https://report.cybertip.org/ispws",
}


class NcmecError(HashguardError):
    """A step of the reporting API that failed for good."""

    http_status = 502
    exit_code = 8

    def __init__(self, step: str, message: str, code: int | None = None) -> None:
        super().__init__(f"CyberTipline {step}: {message}")
        self.step = step
        self.code = code


@dataclass(frozen=True)
class Answer:
    code: int
    description: str
    fields: dict[str, str]
    file_ids: tuple[str, ...] = ()


def _parse(step: str, body: bytes) -> Answer:
    try:
        root = ET.fromstring(body)
    except ET.ParseError as e:
        raise NcmecError(step, f"the answer is not XML ({e})") from None
    fields = {child.tag: (child.text or "").strip() for child in root}
    try:
        code = int(fields.get("responseCode", ""))
    except ValueError:
        raise NcmecError(step, "the answer has no responseCode") from None
    files = tuple((e.text or "").strip() for e in root.iter("fileId") if e.text)
    return Answer(code, fields.get("responseDescription", ""), fields, files)


class CyberTipline:
    """The API's calls; each returns its parsed answer or raises :class:`NcmecError`."""

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        retries: int = 4,
        backoff: float = 0.5,
        timeout: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retrying = Retrying(retries, backoff, sleep)
        self.http = httpx.Client(auth=(username, password), timeout=timeout, transport=transport)

    def close(self) -> None:
        self.http.close()

    def _call(self, step: str, **request: Any) -> Answer:
        r, why = self.retrying.send(self.http, "POST", f"{self.base_url}/{step}", **request)
        if r is None:
            raise NcmecError(step, why)
        if r.status_code in (401, 403):
            raise NcmecError(step, f"HTTP {r.status_code}: the credentials were refused")
        if r.status_code >= 400:
            raise NcmecError(step, f"HTTP {r.status_code}: {r.text[:300]}")
        answer = _parse(step, r.content)
        if answer.code != 0:
            raise NcmecError(
                step, f"refused, code {answer.code}: {answer.description}", answer.code
            )
        return answer

    def submit(self, report_xml: bytes) -> str:
        answer = self._call(
            "submit", content=report_xml, headers={"Content-Type": "text/xml; charset=utf-8"}
        )
        report_id = answer.fields.get("reportId")
        if not report_id:
            raise NcmecError("submit", "the answer gave no reportId")
        return report_id

    def upload(self, report_id: str, name: str, data: bytes) -> str:
        answer = self._call("upload", data={"id": report_id}, files={"file": (name, data)})
        file_id = answer.fields.get("fileId")
        if not file_id:
            raise NcmecError("upload", "the answer gave no fileId")
        return file_id

    def fileinfo(self, details_xml: bytes) -> None:
        self._call(
            "fileinfo", content=details_xml, headers={"Content-Type": "text/xml; charset=utf-8"}
        )

    def finish(self, report_id: str) -> tuple[str, ...]:
        return self._call("finish", data={"id": report_id}).file_ids

    def retract(self, report_id: str) -> None:
        self._call("retract", data={"id": report_id})
