"""The DSA Transparency Database's statement of reasons: the schema's values and its
validation rules (transparency.dsa.ec.europa.eu, "API and Schema"), each refusal naming
the field. hashguard checks every statement with them before it is exported or sent."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from hashguard.errors import InvalidValue

# The schema's values, from the API documentation (transparency.dsa.ec.europa.eu,
# "API and Schema"): each constant's name is what is sent.
DECISION_GROUNDS = ("DECISION_GROUND_ILLEGAL_CONTENT", "DECISION_GROUND_INCOMPATIBLE_CONTENT")
VISIBILITIES = (
    "DECISION_VISIBILITY_CONTENT_REMOVED", "DECISION_VISIBILITY_CONTENT_DISABLED",
    "DECISION_VISIBILITY_CONTENT_DEMOTED", "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
    "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED", "DECISION_VISIBILITY_CONTENT_LABELLED",
    "DECISION_VISIBILITY_OTHER",
)  # fmt: skip
MONETARY = ("DECISION_MONETARY_SUSPENSION", "DECISION_MONETARY_TERMINATION",
            "DECISION_MONETARY_OTHER")  # fmt: skip
PROVISIONS = (
    "DECISION_PROVISION_PARTIAL_SUSPENSION", "DECISION_PROVISION_TOTAL_SUSPENSION",
    "DECISION_PROVISION_PARTIAL_TERMINATION", "DECISION_PROVISION_TOTAL_TERMINATION",
)  # fmt: skip
ACCOUNTS = ("DECISION_ACCOUNT_SUSPENDED", "DECISION_ACCOUNT_TERMINATED")
ACCOUNT_TYPES = ("ACCOUNT_TYPE_BUSINESS", "ACCOUNT_TYPE_PRIVATE")
CONTENT_TYPES = (
    "CONTENT_TYPE_APP", "CONTENT_TYPE_AUDIO", "CONTENT_TYPE_IMAGE", "CONTENT_TYPE_PRODUCT",
    "CONTENT_TYPE_SYNTHETIC_MEDIA", "CONTENT_TYPE_TEXT", "CONTENT_TYPE_VIDEO",
    "CONTENT_TYPE_OTHER",
)  # fmt: skip
MINORS = "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"
CATEGORIES = tuple(f"STATEMENT_CATEGORY_{c}" for c in (
    "ANIMAL_WELFARE", "CONSUMER_INFORMATION", "CYBER_VIOLENCE", "CYBER_VIOLENCE_AGAINST_WOMEN",
    "DATA_PROTECTION_AND_PRIVACY_VIOLATIONS", "ILLEGAL_OR_HARMFUL_SPEECH",
    "INTELLECTUAL_PROPERTY_INFRINGEMENTS", "NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
    "NOT_SPECIFIED_NOTICE", "OTHER_VIOLATION_TC", "PROTECTION_OF_MINORS",
    "RISK_FOR_PUBLIC_SECURITY", "SCAMS_AND_FRAUD", "SELF_HARM", "UNSAFE_AND_PROHIBITED_PRODUCTS",
    "VIOLENCE",
))  # fmt: skip
# The keywords the documentation lists under "Protection of minors" (KEYWORD_OTHER, "not
# captured by any other keyword", goes with any category).
MINORS_KEYWORDS = (
    "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS", "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",
    "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE", "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS",
    "KEYWORD_UNSAFE_CHALLENGES", "KEYWORD_OTHER",
)  # fmt: skip
KEYWORDS = tuple(
    f"KEYWORD_{k}"
    for k in [
        "ANIMAL_HARM",
        "ADULT_SEXUAL_MATERIAL",
        "AGE_SPECIFIC_RESTRICTIONS_MINORS",
        "AGE_SPECIFIC_RESTRICTIONS",
        "BIOMETRIC_DATA_BREACH",
        "BULLYING_AGAINST_GIRLS",
        "CHILD_SEXUAL_ABUSE_MATERIAL",
        "CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE",
        "CONTENT_PROMOTING_EATING_DISORDERS",
        "COORDINATED_HARM",
        "COPYRIGHT_INFRINGEMENT",
        "CYBER_BULLYING_INTIMIDATION",
        "CYBER_HARASSMENT",
        "CYBER_HARASSMENT_AGAINST_WOMEN",
        "CYBER_INCITEMENT",
        "CYBER_STALKING",
        "CYBER_STALKING_AGAINST_WOMEN",
        "DANGEROUS_TOYS",
        "DATA_FALSIFICATION",
        "DEFAMATION",
        "DESIGN_INFRINGEMENT",
        "DISCRIMINATION",
        "FEMALE_GENDERED_DISINFORMATION",
        "GEOGRAPHIC_INDICATIONS_INFRINGEMENT",
        "GEOGRAPHICAL_REQUIREMENTS",
        "GOODS_SERVICES_NOT_PERMITTED",
        "GROOMING_SEXUAL_ENTICEMENT_MINORS",
        "HATE_SPEECH",
        "HIDDEN_ADVERTISEMENT",
        "HUMAN_EXPLOITATION",
        "HUMAN_TRAFFICKING",
        "ILLEGAL_ORGANIZATIONS",
        "IMPERSONATION_ACCOUNT_HIJACKING",
        "INAUTHENTIC_ACCOUNTS",
        "INAUTHENTIC_LISTINGS",
        "INAUTHENTIC_USER_REVIEWS",
        "INCITEMENT_AGAINST_WOMEN",
        "INCITEMENT_VIOLENCE_HATRED",
        "INSUFFICIENT_INFORMATION_ON_TRADERS",
        "LANGUAGE_REQUIREMENTS",
        "MISINFORMATION_DISINFORMATION",
        "MISLEADING_INFO_CONSUMER_RIGHTS",
        "MISLEADING_INFO_GOODS_SERVICES",
        "MISSING_PROCESSING_GROUND",
        "NON_CONSENSUAL_IMAGE_SHARING",
        "NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN",
        "NON_CONSENSUAL_MATERIAL_DEEPFAKE",
        "NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN",
        "NONCOMPLIANCE_PRICING",
        "NUDITY",
        "PATENT_INFRINGEMENT",
        "PHISHING",
        "PROHIBITED_PRODUCTS",
        "PYRAMID_SCHEMES",
        "RIGHT_TO_BE_FORGOTTEN",
        "RISK_ENVIRONMENTAL_DAMAGE",
        "RISK_PUBLIC_HEALTH",
        "SELF_MUTILATION",
        "STALKING",
        "SUICIDE",
        "TRADE_SECRET_INFRINGEMENT",
        "TRADEMARK_INFRINGEMENT",
        "TRAFFICKING_WOMEN_GIRLS",
        "TERRORIST_CONTENT",
        "UNLAWFUL_SALE_ANIMALS",
        "UNSAFE_CHALLENGES",
        "UNSAFE_PRODUCTS",
        "VIOLATION_EU_LAW",
        "VIOLATION_NATIONAL_LAW",
        "OTHER",
    ]
)
SOURCE_TYPES = ("SOURCE_ARTICLE_16", "SOURCE_TRUSTED_FLAGGER", "SOURCE_TYPE_OTHER_NOTIFICATION",
                "SOURCE_VOLUNTARY")  # fmt: skip
AUTOMATED_DECISIONS = ("AUTOMATED_DECISION_FULLY", "AUTOMATED_DECISION_PARTIALLY",
                       "AUTOMATED_DECISION_NOT_AUTOMATED")  # fmt: skip
EU = ("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
      "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK")  # fmt: skip
EEA = (*EU, "IS", "LI", "NO")
EARLIEST_CONTENT, EARLIEST_APPLICATION, LATEST = (
    date(2000, 1, 1),
    date(2020, 1, 1),
    date(2038, 1, 1),
)
PUID = re.compile(r"[A-Za-z0-9_-]{1,500}")
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")

# Validation: the schema's rules, each refusal naming the field.

_FIELDS = {
    "decision_visibility", "decision_visibility_other", "decision_monetary",
    "decision_monetary_other", "decision_provision", "decision_account", "account_type",
    "decision_ground", "decision_ground_reference_url", "illegal_content_legal_ground",
    "illegal_content_explanation", "incompatible_content_ground",
    "incompatible_content_explanation", "incompatible_content_illegal", "content_type",
    "content_type_other", "category", "category_addition", "category_specification",
    "category_specification_other", "territorial_scope", "content_language", "content_date",
    "application_date", "end_date_account_restriction", "end_date_monetary_restriction",
    "end_date_service_restriction", "end_date_visibility_restriction", "decision_facts",
    "source_type", "source_identity", "automated_detection", "automated_decision", "puid",
    "content_id",
}  # fmt: skip
REQUIRED = ("decision_ground", "content_type", "category", "content_date", "application_date",
            "decision_facts", "source_type", "automated_detection", "automated_decision",
            "puid")  # fmt: skip
RESTRICTIONS = ("decision_visibility", "decision_monetary", "decision_provision",
                "decision_account")  # fmt: skip


def _given(s: dict[str, Any], name: str) -> bool:
    return s.get(name) not in (None, "", [])


def _text(s: dict[str, Any], name: str, longest: int, *, required: bool = False) -> None:
    if not _given(s, name):
        if required:
            raise InvalidValue(f"{name}: required")
        return
    value = s[name]
    if not isinstance(value, str):
        raise InvalidValue(f"{name}: a string")
    if len(value) > longest:
        raise InvalidValue(f"{name}: at most {longest} characters, not {len(value)}")


def _one_of(s: dict[str, Any], name: str, allowed: Iterable[str]) -> None:
    if _given(s, name) and s[name] not in allowed:
        raise InvalidValue(f"{name}: {s[name]!r} is not one of {', '.join(allowed)}")


def _list_of(s: dict[str, Any], name: str, allowed: Iterable[str]) -> list[str]:
    if not _given(s, name):
        return []
    value = s[name]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidValue(f"{name}: a list of strings")
    allowed = tuple(allowed)
    for v in value:
        if v not in allowed:
            raise InvalidValue(f"{name}: {v!r} is not one of {', '.join(allowed)}")
    if len(set(value)) != len(value):
        raise InvalidValue(f"{name}: a value given twice")
    return value


def _date(s: dict[str, Any], name: str, earliest: date | None) -> date | None:
    if not _given(s, name):
        return None
    value = s[name]
    try:
        if not isinstance(value, str) or not DAY.fullmatch(value):
            raise ValueError
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidValue(f"{name}: a date YYYY-MM-DD, not {value!r}") from None
    if earliest is not None and day < earliest:
        raise InvalidValue(f"{name}: {value} is before {earliest}")
    if day > LATEST:
        raise InvalidValue(f"{name}: {value} is after {LATEST}")
    return day


def validate(s: dict[str, Any]) -> None:
    """Refuse (InvalidValue, ``"field: why"``) a statement the Transparency Database's
    validation would refuse."""
    unknown = sorted(set(s) - _FIELDS)
    if unknown:
        raise InvalidValue(f"{unknown[0]}: not a field of a statement of reasons")
    for name in REQUIRED:
        if not _given(s, name):
            raise InvalidValue(f"{name}: required")
    if not any(_given(s, n) for n in RESTRICTIONS):
        raise InvalidValue(
            "decision_visibility: required when none of decision_monetary, "
            "decision_provision, decision_account is given"
        )
    if "DECISION_VISIBILITY_OTHER" in _list_of(s, "decision_visibility", VISIBILITIES):
        _text(s, "decision_visibility_other", 500, required=True)
    _one_of(s, "decision_monetary", MONETARY)
    if s.get("decision_monetary") == "DECISION_MONETARY_OTHER":
        _text(s, "decision_monetary_other", 500, required=True)
    _one_of(s, "decision_provision", PROVISIONS)
    _one_of(s, "decision_account", ACCOUNTS)
    _one_of(s, "account_type", ACCOUNT_TYPES)
    _one_of(s, "decision_ground", DECISION_GROUNDS)
    _text(s, "decision_ground_reference_url", 500)
    illegal = s["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    _text(s, "illegal_content_legal_ground", 500, required=illegal)
    _text(s, "illegal_content_explanation", 2000, required=illegal)
    _text(s, "incompatible_content_ground", 500, required=not illegal)
    _text(s, "incompatible_content_explanation", 2000, required=not illegal)
    _one_of(s, "incompatible_content_illegal", ("Yes", "No"))
    if "CONTENT_TYPE_OTHER" in _list_of(s, "content_type", CONTENT_TYPES):
        _text(s, "content_type_other", 500, required=True)
    _one_of(s, "category", CATEGORIES)
    _list_of(s, "category_addition", CATEGORIES)
    keywords = _list_of(s, "category_specification", _keywords(s["category"]))
    if "KEYWORD_OTHER" in keywords:
        _text(s, "category_specification_other", 500, required=True)
    _list_of(s, "territorial_scope", EEA)
    content = _date(s, "content_date", EARLIEST_CONTENT)
    applied = _date(s, "application_date", EARLIEST_APPLICATION)
    if content and applied and applied < content:
        raise InvalidValue(f"application_date: {applied} is before content_date {content}")
    for kind in ("account", "monetary", "service", "visibility"):
        _date(s, f"end_date_{kind}_restriction", None)
    _text(s, "decision_facts", 5000, required=True)
    _one_of(s, "source_type", SOURCE_TYPES)
    _text(s, "source_identity", 500)
    _one_of(s, "automated_detection", ("Yes", "No"))
    _one_of(s, "automated_decision", AUTOMATED_DECISIONS)
    puid = s["puid"]
    if not isinstance(puid, str) or not PUID.fullmatch(puid):
        raise InvalidValue("puid: up to 500 of A-Z, a-z, 0-9, '-' and '_'")


def _keywords(category: str) -> tuple[str, ...]:
    """The keywords a statement of ``category`` may name: the documentation's list for
    protection of minors (the category hashguard's statements are in); for the others,
    any the documentation lists."""
    if category == MINORS:
        return MINORS_KEYWORDS
    return KEYWORDS
