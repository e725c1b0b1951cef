"""The CyberTipline report's shape: its elements in the order NCMEC's schema requires, and
its two renderings, XML (what the reporting API takes) and JSON (the same tree).

A document is a JSON object whose keys are element names. A list is a repeated element; an
object with "value" and attributes (``{"hashType": "MD5", "value": "..."}``) is an element
with attributes. Rendering walks :data:`ORDER`, so a document's key order never matters,
and refuses an element the schema does not have where it stands, naming its path.
"""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

from hashguard.errors import InvalidValue

INCIDENT_TYPE = "Child Pornography (possession, manufacture, and distribution)"
# Each element's children in schema order, with the ones it cannot be sent without.
ORDER: dict[str, tuple[str, ...]] = {
    "report": (
        "batchedReport", "incidentSummary", "internetDetails", "lawEnforcement", "reporter",
        "personOrUserReported", "intendedRecipient", "victim", "additionalInfo",
    ),
    "incidentSummary": (
        "incidentType", "escalateToHighPriority", "reportAnnotations", "incidentDateTime",
        "incidentDateTimeDescription",
    ),
    "internetDetails": (
        "webPageIncident", "emailIncident", "newsgroupIncident", "chatImIncident",
        "onlineGamingIncident", "cellPhoneIncident", "nonInternetIncident",
        "peer2peerIncident",
    ),
    "webPageIncident": ("url", "additionalInfo", "thirdPartyHostedContent"),
    "chatImIncident": ("chatClient", "chatRoomName", "content", "additionalInfo"),
    "reporter": ("reportingPerson", "contactPerson", "companyTemplate", "termsOfService",
                 "legalURL"),
    "reportingPerson": ("firstName", "lastName", "phone", "email", "address"),
    "contactPerson": ("firstName", "lastName", "phone", "email", "address"),
    "personOrUserReported": (
        "personOrUserReportedPerson", "vehicleDescription", "espIdentifier", "espService",
        "screenName", "displayName", "profileUrl", "ipCaptureEvent", "deviceId",
        "thirdPartyUserReported", "priorCTReports", "groupIdentifier",
        "accountTemporarilyDisabled", "accountPermanentlyDisabled", "estimatedLocation",
        "additionalInfo",
    ),
    "personOrUserReportedPerson": ("firstName", "lastName", "phone", "email", "address"),
    "ipCaptureEvent": ("ipAddress", "eventName", "dateTime", "possibleProxy", "port"),
    "fileDetails": (
        "reportId", "fileId", "fileName", "originalFileName", "uploadedToEspTimestamp",
        "locationOfFile", "fileViewedByEsp",
        "exifViewedByEsp", "publiclyAvailable", "fileRelevance", "fileAnnotations",
        "industryClassification", "originalFileHash", "ipCaptureEvent", "deviceId",
        "details", "additionalInfo",
    ),
    "fileAnnotations": (
        "animeDrawingVirtualHentai", "potentialMeme", "viral", "possibleSelfProduction",
        "physicalHarm", "violenceGore", "bestiality", "liveStreaming", "infant",
        "generativeAi",
    ),
}  # fmt: skip
REQUIRED: dict[str, tuple[str, ...]] = {
    "report": ("incidentSummary", "reporter"),
    "incidentSummary": ("incidentType", "incidentDateTime"),
    "reporter": ("reportingPerson",),
    "reportingPerson": ("email",),
    "ipCaptureEvent": ("ipAddress",),
}
INDUSTRY = ("A1", "A2", "B1", "B2")
FILE_RELEVANCE = ("Reported", "Supplemental Reported")
MAX_TEXT = 10_000  # a text element's length; NCMEC's own limits are lower for most


def check(name: str, doc: Any, path: str = "") -> None:
    """Raise :class:`InvalidValue` naming the first element out of place or missing."""
    where = f"{path}/{name}" if path else name
    if name not in ORDER:
        if isinstance(doc, dict) and set(doc) - {"value"} and "value" not in doc:
            raise InvalidValue(f"{where}: a text element, not an object")
        _text(doc, where)
        return
    if not isinstance(doc, dict):
        raise InvalidValue(f"{where}: an element with children, not {type(doc).__name__}")
    unknown = [k for k in doc if k not in ORDER[name]]
    if unknown:
        raise InvalidValue(
            f"{where}: no element {unknown[0]!r} here; it takes {', '.join(ORDER[name])}"
        )
    for child in REQUIRED.get(name, ()):
        if doc.get(child) in (None, "", [], {}):
            raise InvalidValue(f"{where}/{child} is required")
    if name == "fileDetails":
        kind = doc.get("industryClassification")
        if kind is not None and kind not in INDUSTRY:
            raise InvalidValue(f"{where}/industryClassification: one of {', '.join(INDUSTRY)}")
    for key, value in doc.items():
        for one in value if isinstance(value, list) else [value]:
            check(key, one, where)


def _text(value: Any, where: str) -> str:
    if isinstance(value, dict):
        value = value.get("value")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        out = str(value)
        if len(out) > MAX_TEXT:
            raise InvalidValue(f"{where}: at most {MAX_TEXT} characters")
        return out
    raise InvalidValue(f"{where}: a value, not {type(value).__name__}")


def to_xml(name: str, doc: dict[str, Any]) -> bytes:
    """``doc`` as the element ``name``, children in schema order (checked first)."""
    check(name, doc)
    root = _element(name, doc)
    ET.indent(root)
    out: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return out


def bundle_xml(report: dict[str, Any], files: list[dict[str, Any]]) -> bytes:
    """An export: ``<cybertipline>`` holding the ``<report>`` the API's submit takes and
    each file's ``<fileDetails>`` its fileinfo takes (their ids are NCMEC's, given then)."""
    check("report", report)
    for details in files:
        check("fileDetails", details)
    root = ET.Element("cybertipline")
    root.append(_element("report", report))
    for details in files:
        root.append(_element("fileDetails", details))
    ET.indent(root)
    out: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return out


def _element(name: str, value: Any) -> ET.Element:
    el = ET.Element(name)
    if name not in ORDER:
        if isinstance(value, dict):
            for attr, v in value.items():
                if attr != "value":
                    el.set(attr, str(v))
        el.text = _text(value, name)
        return el
    for child in ORDER[name]:  # schema order, whatever the document's
        if child not in value or value[child] is None:
            continue
        v = value[child]
        for one in v if isinstance(v, list) else [v]:
            el.append(_element(child, one))
    return el


def ordered(name: str, doc: Any) -> Any:
    """``doc`` with its keys in schema order: the JSON export reads like the XML."""
    if name not in ORDER or not isinstance(doc, dict):
        return doc
    out: dict[str, Any] = {}
    for child in ORDER[name]:
        if child in doc and doc[child] is not None:
            v = doc[child]
            out[child] = (
                [ordered(child, x) for x in v] if isinstance(v, list) else ordered(child, v)
            )
    return out
