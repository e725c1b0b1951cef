"""Reporting settings (docs/reports.md): the platform's reporting profile and how long a
submitted report's evidence is preserved."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hashguard.errors import ConfigError, InvalidValue
from hashguard.reports.cybertip import check
from hashguard.reports.dsa import DsaSettings

EVIDENCE_DAYS = 365.0  # the US REPORT Act of 2024: a CyberTipline report's contents, 1 year
PROFILE_KEYS = ("reporter", "internetDetails", "espService", "dsa")


@dataclass(frozen=True)
class ReportOptions:
    # The platform as reporter, in CyberTipline element names: ``reporter`` (its
    # reportingPerson, contactPerson, termsOfService, legalURL), ``internetDetails`` (where
    # incidents happen, e.g. chatImIncident), ``espService`` (the reported user's service).
    profile: dict[str, Any] = field(default_factory=dict)
    evidence_days: float = EVIDENCE_DAYS
    ncmec_environment: str = "test"  # test or production (reports/ncmec.py ENVIRONMENTS)
    ncmec_url: str | None = None  # instead of the environment's: a proxy, a local server
    ncmec_credentials_file: Path | None = None  # one line, user:password; owner-only
    enrich_url: str | None = None  # the platform's enrichment callback (reports/enrich.py)
    dsa: DsaSettings = field(default_factory=DsaSettings)  # the profile's [dsa] section
    dsa_url: str | None = None  # the DSA Transparency Database's address (docs/dsa.md)
    dsa_token_file: Path | None = None  # one line, its API token; owner-only

    @property
    def platform(self) -> str:
        """The platform's name in reports and summaries (the profile's ``espService``)."""
        return str(self.profile.get("espService") or "The platform")

    def base_url(self) -> str:
        from hashguard.reports.ncmec import ENVIRONMENTS

        return self.ncmec_url or ENVIRONMENTS[self.ncmec_environment]

    def credentials(self) -> tuple[str, str]:
        line = _secret(
            self.ncmec_credentials_file, "NCMEC credentials",
            "HASHGUARD_NCMEC_CREDENTIALS_FILE (user:password)",
        )  # fmt: skip
        user, sep, password = line.partition(":")
        if not sep or not user or not password:
            raise ConfigError(
                f"NCMEC credentials {self.ncmec_credentials_file}: one line, user:password"
            )
        return user, password

    def dsa_token(self) -> str:
        """The Transparency Database's API token, from its owner-only file."""
        token = _secret(self.dsa_token_file, "the DSA API token", "HASHGUARD_DSA_TOKEN_FILE")
        if any(c.isspace() for c in token):
            raise ConfigError(f"the DSA API token {self.dsa_token_file}: one line, the token")
        return token


def _secret(path: Path | None, what: str, setting: str) -> str:
    """The one line of an owner-only secrets file (ConfigError naming ``setting``)."""
    if path is None:
        raise ConfigError(f"no {what}: set {setting}")
    try:
        if path.stat().st_mode & 0o077:
            raise ConfigError(f"{path}: {what} must be readable by the owner only")
        line = path.read_text(encoding="utf-8").strip()
    except OSError as e:
        raise ConfigError(f"{what} {path}: {e.strerror or e}") from e
    if not line or "\n" in line:
        raise ConfigError(f"{what} {path}: one line")
    return line


def split_profile(doc: dict[str, Any]) -> tuple[dict[str, Any], DsaSettings]:
    """A checked profile's CyberTipline part, and its DSA settings."""
    profile = {k: v for k, v in doc.items() if k != "dsa"}
    return profile, DsaSettings.from_profile(doc.get("dsa"))


def load_profile(path: Path | None) -> dict[str, Any]:
    """Read and check a reporting profile (TOML); {} without one."""
    if path is None:
        return {}
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"reporting profile {path}: {e.strerror or e}") from e
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"reporting profile {path}: not TOML: {e}") from e
    unknown = sorted(set(doc) - set(PROFILE_KEYS))
    if unknown:
        raise ConfigError(
            f"reporting profile {path}: no key {unknown[0]!r}; it takes {', '.join(PROFILE_KEYS)}"
        )
    try:
        if "reporter" in doc:
            check("reporter", doc["reporter"], "profile")
        if "internetDetails" in doc:
            check("internetDetails", doc["internetDetails"], "profile")
    except InvalidValue as e:
        raise ConfigError(f"reporting profile {path}: {e.message}") from e
    try:
        DsaSettings.from_profile(doc.get("dsa"))
    except ConfigError as e:
        raise ConfigError(f"reporting profile {path}: {e.message}") from e
    return doc


DEFAULT_REPORTS = ReportOptions()
