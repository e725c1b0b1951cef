"""A local DSA Transparency Database API on loopback, implementing the documented
statement endpoints (transparency.dsa.ec.europa.eu, "API and Schema"):

- ``POST /api/v1/statement``: one statement; 201 with it as created (``uuid``,
  ``permalink``, ``self``, ``created_at``, ``platform_name``), or 422 ``{"message",
  "errors": {field: [message]}}``; a puid the platform used already: 422 naming ``puid``,
  with the ``existing`` statement.
- ``POST /api/v1/statements``: ``{"statements": [...]}``, 1 to 100, all or nothing: 201
  ``{"statements": [...]}``, or 422 ``{"errors": {"statement_N": {field: [message]}}}``, or
  422 ``{"errors": {"puid": [...], "existing_puids": [...]}}``.
- ``GET /api/v1/statement/existing-puid/{puid}``: 302 if held, else 404.
- Bearer token on every call (401 without the right one).

Its rules are written out here on their own, from the documentation's field list, so
that they check hashguard's validator rather than repeat it. ``faults`` makes calls fail
first: ``["500", "drop"]`` answers the next call with HTTP 500, the one after by dropping
the connection.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from datetime import date
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.helpers import Loopback, reply

TOKEN = "X|test-platform-token"
PLATFORM = "Example Messenger"


def _names(prefix: str, words: str) -> set[str]:
    return {prefix + w for w in words.split()}


COUNTRIES = _names(
    "", "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IS IT LI LT LU LV MT NL NO PL PT RO SE SI SK"
)
# field: the values it takes; a list field's values each
ONE = {
    "decision_monetary": {"DECISION_MONETARY_SUSPENSION", "DECISION_MONETARY_TERMINATION",
                          "DECISION_MONETARY_OTHER"},
    "decision_provision": {f"DECISION_PROVISION_{a}_{b}" for a in ("PARTIAL", "TOTAL")
                           for b in ("SUSPENSION", "TERMINATION")},
    "decision_account": {"DECISION_ACCOUNT_SUSPENDED", "DECISION_ACCOUNT_TERMINATED"},
    "decision_ground": {"DECISION_GROUND_ILLEGAL_CONTENT", "DECISION_GROUND_INCOMPATIBLE_CONTENT"},
    "category": _names("STATEMENT_CATEGORY_", (
        "ANIMAL_WELFARE CONSUMER_INFORMATION CYBER_VIOLENCE CYBER_VIOLENCE_AGAINST_WOMEN "
        "DATA_PROTECTION_AND_PRIVACY_VIOLATIONS ILLEGAL_OR_HARMFUL_SPEECH "
        "INTELLECTUAL_PROPERTY_INFRINGEMENTS NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS "
        "NOT_SPECIFIED_NOTICE OTHER_VIOLATION_TC PROTECTION_OF_MINORS RISK_FOR_PUBLIC_SECURITY "
        "SCAMS_AND_FRAUD SELF_HARM UNSAFE_AND_PROHIBITED_PRODUCTS VIOLENCE")),
    "source_type": {"SOURCE_ARTICLE_16", "SOURCE_TRUSTED_FLAGGER",
                    "SOURCE_TYPE_OTHER_NOTIFICATION", "SOURCE_VOLUNTARY"},
    "automated_detection": {"Yes", "No"},
    "automated_decision": {"AUTOMATED_DECISION_FULLY", "AUTOMATED_DECISION_PARTIALLY",
                           "AUTOMATED_DECISION_NOT_AUTOMATED"},
}  # fmt: skip
MANY = {
    "decision_visibility": _names("DECISION_VISIBILITY_", (
        "CONTENT_REMOVED CONTENT_DISABLED CONTENT_DEMOTED CONTENT_AGE_RESTRICTED "
        "CONTENT_INTERACTION_RESTRICTED CONTENT_LABELLED OTHER")),
    "content_type": _names("CONTENT_TYPE_",
                           "APP AUDIO IMAGE PRODUCT SYNTHETIC_MEDIA TEXT VIDEO OTHER"),
    "territorial_scope": COUNTRIES,
    # a statement in protection of minors: the keywords listed for that category
    "category_specification": _names("KEYWORD_", (
        "AGE_SPECIFIC_RESTRICTIONS_MINORS CHILD_SEXUAL_ABUSE_MATERIAL "
        "CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE GROOMING_SEXUAL_ENTICEMENT_MINORS "
        "UNSAFE_CHALLENGES OTHER")),
}  # fmt: skip
LONGEST = {"decision_visibility_other": 500, "decision_monetary_other": 500,
           "illegal_content_legal_ground": 500, "illegal_content_explanation": 2000,
           "incompatible_content_ground": 500, "incompatible_content_explanation": 2000,
           "content_type_other": 500, "category_specification_other": 500,
           "decision_facts": 5000, "source_identity": 500, "puid": 500}  # fmt: skip
ALWAYS = [
    "decision_ground",
    "content_type",
    "category",
    "content_date",
    "application_date",
    "decision_facts",
    "source_type",
    "automated_detection",
    "automated_decision",
    "puid",
]
# a field needed when another holds a value
NEEDED_IF = [
    ("decision_visibility_other", "decision_visibility", "DECISION_VISIBILITY_OTHER"),
    ("decision_monetary_other", "decision_monetary", "DECISION_MONETARY_OTHER"),
    ("content_type_other", "content_type", "CONTENT_TYPE_OTHER"),
    ("category_specification_other", "category_specification", "KEYWORD_OTHER"),
    ("illegal_content_legal_ground", "decision_ground", "DECISION_GROUND_ILLEGAL_CONTENT"),
    ("illegal_content_explanation", "decision_ground", "DECISION_GROUND_ILLEGAL_CONTENT"),
    ("incompatible_content_ground", "decision_ground", "DECISION_GROUND_INCOMPATIBLE_CONTENT"),
    ("incompatible_content_explanation", "decision_ground",
     "DECISION_GROUND_INCOMPATIBLE_CONTENT"),
]  # fmt: skip
DATES = {"content_date": date(2000, 1, 1), "application_date": date(2020, 1, 1)}


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def problems(s: Any) -> dict[str, list[str]]:
    """What the documented rules find wrong with one statement, by field."""
    if not isinstance(s, dict):
        return {"statement": ["The statement must be an object."]}
    out: dict[str, list[str]] = {}

    def bad(name: str, why: str) -> None:
        out.setdefault(name, []).append(why)

    for name in ALWAYS:
        if _empty(s.get(name)):
            bad(name, f"The {name.replace('_', ' ')} field is required.")
    kinds = ("decision_visibility", "decision_monetary", "decision_provision", "decision_account")
    if all(_empty(s.get(k)) for k in kinds):
        bad("decision_visibility", "The decision visibility field is required when none of "
            "decision monetary / decision provision / decision account are present.")  # fmt: skip
    for name, allowed in ONE.items():
        if not _empty(s.get(name)) and s[name] not in allowed:
            bad(name, f"The selected {name.replace('_', ' ')} is invalid.")
    for name, allowed in MANY.items():
        value = s.get(name)
        if _empty(value):
            continue
        if not isinstance(value, list):
            bad(name, f"The {name.replace('_', ' ')} must be an array.")
        elif any(v not in allowed for v in value):
            bad(name, f"The selected {name.replace('_', ' ')} is invalid.")
    for name, longest in LONGEST.items():
        value = s.get(name)
        if isinstance(value, str) and len(value) > longest:
            bad(name, f"The {name.replace('_', ' ')} must not be greater than {longest} "
                "characters.")  # fmt: skip
    for name, other, value in NEEDED_IF:
        given = s.get(other)
        chosen = value in given if isinstance(given, list) else given == value
        if chosen and _empty(s.get(name)):
            bad(name, f"The {name.replace('_', ' ')} field is required.")
    days: dict[str, date] = {}
    for name, earliest in DATES.items():
        value = s.get(name)
        if _empty(value):
            continue
        if not isinstance(value, str) or not re.fullmatch(r"\d\d\d\d-\d\d-\d\d", value):
            bad(name, f"The {name.replace('_', ' ')} does not match the format YYYY-MM-DD.")
            continue
        try:
            days[name] = day = date.fromisoformat(value)
        except ValueError:
            bad(name, f"The {name.replace('_', ' ')} is not a valid date.")
            continue
        if not earliest <= day <= date(2038, 1, 1):
            bad(name, f"The {name.replace('_', ' ')} must be a date between {earliest} and "
                "2038-01-01.")  # fmt: skip
    if len(days) == 2 and days["application_date"] < days["content_date"]:
        bad("application_date", "The application date must be on or after the content date.")
    puid = s.get("puid")
    if not _empty(puid) and (not isinstance(puid, str) or not re.fullmatch(r"[a-zA-Z0-9_-]+",
                                                                            puid)):  # fmt: skip
        bad("puid", "The puid format is invalid.")
    return out


class DsaServer:
    def __init__(self) -> None:
        self.faults: list[str] = []
        self.calls: list[str] = []  # "POST /api/v1/statements" ..., faults included
        self.held: dict[str, dict[str, Any]] = {}  # puid: the statement as created
        self.batches: list[int] = []  # the size of each batch accepted
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _go(self, method: str) -> None:
                length = int(self.headers.get("Content-Length", 0) or 0)
                body = self.rfile.read(length) if length else b""
                with server._lock:
                    server.calls.append(f"{method} {self.path}")
                    fault = server.faults.pop(0) if server.faults else None
                if fault == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if fault is not None:
                    return self._answer(int(fault), {"message": "Server Error"})
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    return self._answer(401, {"message": "Unauthenticated."})
                with server._lock:
                    status, answer = server.handle(method, self.path, body)
                self._answer(status, answer)

            def do_GET(self) -> None:
                self._go("GET")

            def do_POST(self) -> None:
                self._go("POST")

            def _answer(self, status: int, answer: dict[str, Any]) -> None:
                reply(self, status, json.dumps(answer).encode(), "application/json")

            def log_message(self, *args: Any) -> None:
                pass

        self._http = Loopback(Handler)
        self.url = self._http.url

    def close(self) -> None:
        self._http.close()

    def _created(self, s: dict[str, Any]) -> dict[str, Any]:
        made = str(uuid.uuid4())
        return {**s, "uuid": made, "created_at": "2026-12-07 10:00:00",
                "platform_name": PLATFORM, "permalink": f"{self.url}/statement/{made}",
                "self": f"{self.url}/api/v1/statement/{made}"}  # fmt: skip

    def handle(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        prefix = "/api/v1/statement/existing-puid/"
        if method == "GET" and path.startswith(prefix):
            puid = path[len(prefix) :]
            found = puid in self.held
            message = "statement of reason found" if found else "statement of reason not found"
            return (302 if found else 404), {"message": message, "puid": puid}
        try:
            doc = json.loads(body or b"null")
        except ValueError:
            return 422, {"message": "The payload is not JSON.", "errors": {}}
        if method == "POST" and path == "/api/v1/statement":
            wrong = problems(doc)
            if wrong:
                return 422, {"message": next(iter(wrong.values()))[0], "errors": wrong}
            if doc["puid"] in self.held:
                why = "The identifier given is not unique within this platform."
                return 422, {"message": why, "errors": {"puid": [why]},
                             "existing": self.held[doc["puid"]]}  # fmt: skip
            self.held[doc["puid"]] = made = self._created(doc)
            return 201, made
        if method == "POST" and path == "/api/v1/statements":
            batch = doc.get("statements") if isinstance(doc, dict) else None
            if not isinstance(batch, list) or not 1 <= len(batch) <= 100:
                why = "The statements field must be an array of 1 to 100 statements."
                return 422, {"message": why, "errors": {"statements": [why]}}
            errors = {f"statement_{i}": p for i, s in enumerate(batch) if (p := problems(s))}
            if errors:
                return 422, {"message": "The statements are not all valid.", "errors": errors}
            puids = [s["puid"] for s in batch]
            twice = sorted({p for p in puids if puids.count(p) > 1 or p in self.held})
            if twice:
                why = "The platform identifier(s) are not all unique within this call."
                return 422, {"message": why, "errors": {"puid": [why], "existing_puids": twice}}
            made_all = [self._created(s) for s in batch]
            for made in made_all:
                self.held[made["puid"]] = made
            self.batches.append(len(batch))
            return 201, {"statements": made_all}
        return 404, {"message": "Not Found"}
