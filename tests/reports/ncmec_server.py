"""A local CyberTipline reporting API on loopback, implementing the documented ESP flow
(https://report.cybertip.org/ispws/documentation): HTTP Basic auth; POST /submit takes a
``<report>`` and opens a report; /upload (multipart ``id``, ``file``) adds a file and
answers its id and MD5; /fileinfo takes a ``<fileDetails>`` for an uploaded file; /finish
closes the report; /retract cancels an open one. Each answer is a ``reportResponse``
(``reportDoneResponse`` for /finish) with responseCode 0, or an error code.

It refuses what NCMEC refuses: a step out of order (a file for an unknown, finished or
retracted report; fileinfo for a file not uploaded; finishing twice), elements out of the
schema's order or unknown, a missing required element, a bad industry classification.
Its element order is written out here on its own, from the documentation, so that it
checks hashguard's rather than repeating it.

``faults`` makes a step fail first: ``{"upload": ["500", "500"]}`` answers two uploads
with HTTP 500, ``["code:4100"]`` with responseCode 4100, ``["drop"]`` drops the
connection.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs
from xml.etree import ElementTree as ET

from tests.helpers import Loopback, reply

USER, PASSWORD = "esp-user", "esp-secret"
DOCUMENTED = {
    "report": ["batchedReport", "incidentSummary", "internetDetails", "lawEnforcement", "reporter",
               "personOrUserReported", "intendedRecipient", "victim", "additionalInfo"],
    "incidentSummary": ["incidentType", "escalateToHighPriority", "reportAnnotations",
                        "incidentDateTime", "incidentDateTimeDescription"],
    "reporter": ["reportingPerson", "contactPerson", "companyTemplate", "termsOfService",
                 "legalURL"],
    "personOrUserReported": ["personOrUserReportedPerson", "vehicleDescription",
                             "espIdentifier", "espService", "screenName", "displayName",
                             "profileUrl", "ipCaptureEvent", "deviceId",
                             "thirdPartyUserReported", "priorCTReports", "groupIdentifier",
                             "accountTemporarilyDisabled", "accountPermanentlyDisabled",
                             "estimatedLocation", "additionalInfo"],
    "fileDetails": ["reportId", "fileId", "fileName", "originalFileName",
                    "uploadedToEspTimestamp", "locationOfFile",
                    "fileViewedByEsp", "exifViewedByEsp", "publiclyAvailable", "fileRelevance",
                    "fileAnnotations", "industryClassification", "originalFileHash",
                    "ipCaptureEvent", "deviceId", "details", "additionalInfo"],
}  # fmt: skip
MUST = {
    "report": ["incidentSummary", "reporter"],
    "incidentSummary": ["incidentType", "incidentDateTime"],
    "fileDetails": ["reportId", "fileId"],
}
INCIDENT_TYPES = {
    "Child Pornography (possession, manufacture, and distribution)",
    "Child Sex Trafficking", "Child Sex Tourism", "Child Sexual Molestation",
    "Misleading Domain Name", "Misleading Words or Digital Images on the Internet",
    "Online Enticement of Children for Sexual Acts", "Unsolicited Obscene Material Sent to a Child",
}  # fmt: skip


class Refused(Exception):
    def __init__(self, code: int, why: str) -> None:
        super().__init__(why)
        self.code = code


def _check_order(el: ET.Element, path: str = "") -> None:
    where = f"{path}/{el.tag}"
    order = DOCUMENTED.get(el.tag)
    if order is None:
        return
    names = [c.tag for c in el]
    for name in names:
        if name not in order:
            raise Refused(4100, f"{where}: unexpected element {name}")
    ranks = [order.index(n) for n in names]
    if ranks != sorted(ranks):
        raise Refused(4100, f"{where}: elements out of order: {', '.join(names)}")
    for name in MUST.get(el.tag, []):
        if name not in names:
            raise Refused(4100, f"{where}: {name} is required")
    for child in el:
        _check_order(child, where)


class NcmecServer:
    def __init__(self) -> None:
        self.faults: dict[str, list[str]] = {}
        self.calls: list[str] = []  # each step as it arrived, faults included
        self.reports: dict[str, dict[str, Any]] = {}
        self._next = 1000
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/status") and self._authorized():
                    return self._answer("reportResponse", 0, "Success", {})
                self.send_response(404)
                self.end_headers()

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                step = self.path.rstrip("/").rsplit("/", 1)[-1]
                with server._lock:
                    server.calls.append(step)
                    plan = server.faults.get(step) or []
                    fault = plan.pop(0) if plan else None
                if fault == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if fault is not None and fault.isdigit():
                    self.send_response(int(fault))
                    self.end_headers()
                    return
                if not self._authorized():
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="ispws"')
                    self.end_headers()
                    return
                root = "reportDoneResponse" if step == "finish" else "reportResponse"
                if fault is not None and fault.startswith("code:"):
                    return self._answer(root, int(fault[5:]), "Server refused (fault)", {})
                try:
                    with server._lock:
                        fields = server.handle(step, body, self.headers)
                except Refused as e:
                    return self._answer(root, e.code, str(e), {})
                self._answer(root, 0, "Success", fields)

            def _authorized(self) -> bool:
                want = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
                return self.headers.get("Authorization", "") == f"Basic {want}"

            def _answer(self, root: str, code: int, text: str, fields: dict[str, Any]) -> None:
                el = ET.Element(root)
                ET.SubElement(el, "responseCode").text = str(code)
                ET.SubElement(el, "responseDescription").text = text
                for key, value in fields.items():
                    if key == "files":
                        files = ET.SubElement(el, "files")
                        for fid in value:
                            ET.SubElement(files, "fileId").text = fid
                    else:
                        ET.SubElement(el, key).text = str(value)
                reply(self, 200, ET.tostring(el, encoding="utf-8", xml_declaration=True),
                      "application/xml")  # fmt: skip

            def log_message(self, *args: Any) -> None:
                pass

        self._http = Loopback(Handler, "/ispws")
        self.url = self._http.url

    def close(self) -> None:
        self._http.close()

    def _open(self, report_id: str) -> dict[str, Any]:
        report = self.reports.get(report_id)
        if report is None:
            raise Refused(1100, f"no report {report_id}")
        if report["state"] != "open":
            raise Refused(1200, f"report {report_id} is {report['state']}")
        return report

    def handle(self, step: str, body: bytes, headers: Any) -> dict[str, Any]:
        if step == "submit":
            el = _xml(body, "report")
            _check_order(el)
            kind = el.findtext("incidentSummary/incidentType")
            if kind not in INCIDENT_TYPES:
                raise Refused(4100, f"incidentType {kind!r} is not one of the schema's")
            self._next += 1
            rid = str(self._next)
            self.reports[rid] = {"state": "open", "xml": body, "files": {}, "details": {}}
            return {"reportId": rid}
        if step == "upload":
            form = _multipart(body, headers.get("Content-Type", ""))
            report = self._open(form.get("id", b"").decode())
            data = form.get("file")
            if not data:
                raise Refused(4200, "no file")
            fid = hashlib.sha1(data + str(len(report["files"])).encode()).hexdigest()
            report["files"][fid] = data
            return {"reportId": form["id"].decode(), "fileId": fid,
                    "hash": hashlib.md5(data).hexdigest()}  # fmt: skip
        if step == "fileinfo":
            el = _xml(body, "fileDetails")
            _check_order(el)
            report = self._open(el.findtext("reportId") or "")
            fid = el.findtext("fileId") or ""
            if fid not in report["files"]:
                raise Refused(4300, f"file {fid} was not uploaded to this report")
            kind = el.findtext("industryClassification")
            if kind is not None and kind not in ("A1", "A2", "B1", "B2"):
                raise Refused(4100, f"industryClassification {kind!r}")
            report["details"][fid] = body
            return {"reportId": el.findtext("reportId")}
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        rid = form.get("id", "")
        report = self._open(rid)
        if step == "finish":
            missing = [f for f in report["files"] if f not in report["details"]]
            if missing:
                raise Refused(4300, f"files without fileinfo: {', '.join(missing)}")
            report["state"] = "finished"
            return {"reportId": rid, "files": list(report["files"])}
        if step == "retract":
            report["state"] = "retracted"
            return {"reportId": rid}
        raise Refused(9000, f"no step {step}")

    def finished(self) -> list[str]:
        return [rid for rid, r in self.reports.items() if r["state"] == "finished"]


def _xml(body: bytes, root: str) -> ET.Element:
    try:
        el = ET.fromstring(body)
    except ET.ParseError as e:
        raise Refused(4000, f"not XML: {e}") from None
    if el.tag != root:
        raise Refused(4000, f"the document is {el.tag}, not {root}")
    return el


def _multipart(body: bytes, content_type: str) -> dict[str, bytes]:
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    out: dict[str, bytes] = {}
    for part in message.iter_parts():  # type: ignore[attr-defined]
        name = part.get_param("name", header="content-disposition")
        out[str(name)] = part.get_payload(decode=True) or b""
    return out
