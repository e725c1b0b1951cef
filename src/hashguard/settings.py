"""Settings, read once at start-up from the command line, the environment and an optional
TOML file (in that order of precedence), then passed explicitly.

| setting | environment | TOML key | default |
|---|---|---|---|
| database URL | HASHGUARD_DB | db | per-user SQLite file |
| index snapshots | HASHGUARD_INDEX_DIR | index_dir | beside the SQLite file, else user cache |
| largest image, in pixels | HASHGUARD_MAX_PIXELS | max_pixels | 150,000,000 |
| largest upload, in bytes | HASHGUARD_MAX_UPLOAD_BYTES | max_upload_bytes | 100 MiB |
| image decoding memory, per process | HASHGUARD_MAX_DECODE_BYTES | max_decode_bytes | 256 MiB |
| ... of one API batch | HASHGUARD_MAX_BATCH_DECODE_BYTES | max_batch_decode_bytes | 1 GiB |
| hash each orientation's pixels | HASHGUARD_EXACT_ORIENTATIONS | exact_orientations | false |
| requests/s per API key without its own limit (0: none) | HASHGUARD_RATE_LIMIT | rate_limit | 0 |
| largest list file sent to the API, bytes | HASHGUARD_MAX_LIST_BYTES | max_list_bytes | 4 GiB |
| probing: window, s | HASHGUARD_PROBE_WINDOW | probe_window | 60 |
| probing: near-identical = this many bits apart or less | HASHGUARD_PROBE_BITS | probe_bits | 2 |
| probing: near-identical matches for an alarm (0: off) | HASHGUARD_PROBE_LIMIT | probe_limit | 32 |
| probing: seconds a key is refused (0: alert only) | HASHGUARD_PROBE_BLOCK | probe_block | 300 |
| days a kept verdict (match log) is kept | HASHGUARD_MATCH_LOG_DAYS | match_log_days | 365 |
| days a delivered outbox event is kept | HASHGUARD_OUTBOX_DAYS | outbox_days | 30 |
| days the seen log keeps a checked item | HASHGUARD_SEEN_DAYS | seen_days | 90 |
| webhooks to private addresses | HASHGUARD_WEBHOOK_ALLOW_PRIVATE | webhook_allow_private | 0 |
| largest video file or upload, bytes | HASHGUARD_MAX_VIDEO_BYTES | max_video_bytes | 2 GiB |
| longest video, seconds | HASHGUARD_MAX_VIDEO_SECONDS | max_video_seconds | 14,400 |
| largest video frame, pixels | HASHGUARD_MAX_VIDEO_PIXELS | max_video_pixels | 8192 x 4320 |
| frames decoded of one video | HASHGUARD_MAX_VIDEO_FRAMES | max_video_frames | 1,000,000 |
| streams in one video | HASHGUARD_MAX_VIDEO_STREAMS | max_video_streams | 32 |
| seconds decoding one video | HASHGUARD_MAX_VIDEO_DECODE_SECONDS | max_video_decode_seconds | 300 |
| seconds between a query video's frames | HASHGUARD_VIDEO_QUERY_EVERY | video_query_every | 1.0 |
| ... between a listed video's frames (0: all) | HASHGUARD_VIDEO_LIST_EVERY | video_list_every | 0 |
| console: a claim's minutes | HASHGUARD_REVIEW_CLAIM_MINUTES | review_claim_minutes | 15 |
| console: hours a lead may undo | HASHGUARD_REVIEW_UNDO_HOURS | review_undo_hours | 24 |
| console: a session's hours | HASHGUARD_CONSOLE_SESSION_HOURS | console_session_hours | 8 |
| console: idle minutes | HASHGUARD_CONSOLE_IDLE_MINUTES | console_idle_minutes | 30 |
| console: reveals an hour | HASHGUARD_REVEALS_PER_HOUR | reveals_per_hour | 30 |
| console: reveals a day | HASHGUARD_REVEALS_PER_DAY | reveals_per_day | 150 |
| sealing keys of kept content | HASHGUARD_REVIEW_KEYS_FILE | review_keys_file | none: none kept |
| days content is kept | HASHGUARD_REVIEW_KEEP_DAYS | review_keep_days | 30 |
| largest kept, bytes | HASHGUARD_REVIEW_KEEP_MAX_BYTES | review_keep_max_bytes | 20 MiB |
| the platform as reporter (TOML) | HASHGUARD_REPORTING_FILE | reporting_file | none |
| days a submitted report's evidence is kept | HASHGUARD_EVIDENCE_DAYS | evidence_days | 365 |
| CyberTipline: test or production | HASHGUARD_NCMEC_ENVIRONMENT | ncmec_environment | test |
| CyberTipline API address, instead | HASHGUARD_NCMEC_URL | ncmec_url | the environment's |
| NCMEC user:password file | HASHGUARD_NCMEC_CREDENTIALS_FILE | ncmec_credentials_file | none |
| the platform's enrichment callback | HASHGUARD_REPORT_ENRICH_URL | report_enrich_url | none |
| DSA Transparency Database address | HASHGUARD_DSA_URL | dsa_url | none: statements not sent |
| DSA API token file | HASHGUARD_DSA_TOKEN_FILE | dsa_token_file | none |
| config file | HASHGUARD_CONFIG | - | ~/.config/hashguard/config.toml if present |
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from hashguard.access.probing import ProbeLimits
from hashguard.errors import ConfigError
from hashguard.media.image import DecodeLimits
from hashguard.media.video import DEFAULT_VIDEO, VideoLimits, VideoOptions
from hashguard.reports.options import DEFAULT_REPORTS, ReportOptions, load_profile, split_profile
from hashguard.review.options import DEFAULT_REVIEW, ReviewOptions
from hashguard.store.database import default_db_url


def _config_file(explicit: Path | None, env: Mapping[str, str]) -> dict[str, Any]:
    path = explicit or (Path(env["HASHGUARD_CONFIG"]) if env.get("HASHGUARD_CONFIG") else None)
    if path is None:
        home = Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config")
        path = home / "hashguard" / "config.toml"
        if not path.exists():
            return {}
    try:
        return tomllib.loads(path.read_text())
    except OSError as e:
        raise ConfigError(f"cannot read config file {path}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config file {path} is not valid TOML: {e}") from None


def default_index_dir(db_url: str, env: Mapping[str, str]) -> Path:
    url = make_url(db_url)
    if url.drivername.startswith("sqlite") and url.database not in (None, "", ":memory:"):
        return Path(str(url.database)).expanduser().with_suffix(".index")
    cache = Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    name = hashlib.sha256(url.render_as_string(hide_password=True).encode()).hexdigest()[:16]
    return cache / "hashguard" / "index" / name


@dataclass(frozen=True)
class Settings:
    db_url: str
    index_dir: Path
    limits: DecodeLimits
    video: VideoOptions = DEFAULT_VIDEO
    exact_orientations: bool = False
    rate_limit: int = 0
    max_list_bytes: int = 4 << 30
    probe_window: float = 60.0
    probe_bits: int = 2
    probe_limit: int = 32
    probe_block: float = 300.0
    webhook_allow_private: bool = False
    match_log_days: int = 365
    outbox_days: int = 30
    seen_days: int = 90
    review: ReviewOptions = DEFAULT_REVIEW
    reports: ReportOptions = DEFAULT_REPORTS
    reporting_file: Path | None = None

    @classmethod
    def load(
        cls,
        *,
        db: str | None = None,
        config: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Settings:
        env = os.environ if env is None else env
        file = _config_file(config, env)

        def pick(cli: Any, env_name: str, key: str, default: Any) -> Any:
            if cli is not None:
                return cli
            if env.get(env_name):
                return env[env_name]
            return file.get(key, default)

        db_url = str(pick(db, "HASHGUARD_DB", "db", None) or default_db_url())
        index_dir = pick(None, "HASHGUARD_INDEX_DIR", "index_dir", None)
        defaults = DecodeLimits()

        def number(env_name: str, key: str, default: int, low: int) -> int:
            value = pick(None, env_name, key, default)
            try:
                n = int(value)
            except (TypeError, ValueError):
                message = f"{env_name} (or {key}) must be a whole number, not {value!r}"
                raise ConfigError(message) from None
            if n < low:
                raise ConfigError(f"{env_name} (or {key}) must be {low} or more, not {n}")
            return n

        def seconds(env_name: str, key: str, default: float, low: float = -1e300) -> float:
            value = pick(None, env_name, key, default)
            try:
                n = float(value)
            except (TypeError, ValueError):
                message = f"{env_name} (or {key}) must be a number of seconds, not {value!r}"
                raise ConfigError(message) from None
            if not n >= low:  # also refuses nan
                raise ConfigError(f"{env_name} (or {key}) must be {low:g} or more, not {n}")
            return n

        vd = VideoLimits()
        video = VideoOptions(
            limits=VideoLimits(
                max_bytes=number("HASHGUARD_MAX_VIDEO_BYTES", "max_video_bytes", vd.max_bytes, 1),
                max_seconds=seconds(
                    "HASHGUARD_MAX_VIDEO_SECONDS", "max_video_seconds", vd.max_seconds, 1
                ),
                max_pixels=number(
                    "HASHGUARD_MAX_VIDEO_PIXELS", "max_video_pixels", vd.max_pixels, 1
                ),
                max_frames=number(
                    "HASHGUARD_MAX_VIDEO_FRAMES", "max_video_frames", vd.max_frames, 1
                ),
                max_streams=number(
                    "HASHGUARD_MAX_VIDEO_STREAMS", "max_video_streams", vd.max_streams, 1
                ),
                max_decode_seconds=seconds(
                    "HASHGUARD_MAX_VIDEO_DECODE_SECONDS",
                    "max_video_decode_seconds",
                    vd.max_decode_seconds,
                    0.001,
                ),
            ),
            query_every=seconds(
                "HASHGUARD_VIDEO_QUERY_EVERY", "video_query_every", DEFAULT_VIDEO.query_every, 0
            ),
            list_every=seconds(
                "HASHGUARD_VIDEO_LIST_EVERY", "video_list_every", DEFAULT_VIDEO.list_every, 0
            ),
        )

        limits = DecodeLimits(
            max_pixels=number("HASHGUARD_MAX_PIXELS", "max_pixels", defaults.max_pixels, 1),
            max_bytes=number(
                "HASHGUARD_MAX_UPLOAD_BYTES", "max_upload_bytes", defaults.max_bytes, 1
            ),
            max_decode_bytes=number(
                "HASHGUARD_MAX_DECODE_BYTES", "max_decode_bytes", defaults.max_decode_bytes, 1
            ),
            max_batch_decode_bytes=number(
                "HASHGUARD_MAX_BATCH_DECODE_BYTES",
                "max_batch_decode_bytes",
                defaults.max_batch_decode_bytes,
                1,
            ),
        )
        rate_limit = number("HASHGUARD_RATE_LIMIT", "rate_limit", 0, 0)
        max_list = number("HASHGUARD_MAX_LIST_BYTES", "max_list_bytes", 4 << 30, 1)
        probing = ProbeLimits(  # checked here, at start-up, with a clear error
            window=seconds("HASHGUARD_PROBE_WINDOW", "probe_window", 60),
            bits=number("HASHGUARD_PROBE_BITS", "probe_bits", 2, 0),
            limit=number("HASHGUARD_PROBE_LIMIT", "probe_limit", 32, 0),
            block=seconds("HASHGUARD_PROBE_BLOCK", "probe_block", 300),
        )
        rd = ReviewOptions()
        keys_file = pick(None, "HASHGUARD_REVIEW_KEYS_FILE", "review_keys_file", None)
        review = ReviewOptions(
            claim_seconds=60 * seconds("HASHGUARD_REVIEW_CLAIM_MINUTES", "review_claim_minutes",
                                       rd.claim_seconds / 60, 0.1),
            undo_window=3600 * seconds("HASHGUARD_REVIEW_UNDO_HOURS", "review_undo_hours",
                                       rd.undo_window / 3600, 0),
            session_hours=seconds("HASHGUARD_CONSOLE_SESSION_HOURS", "console_session_hours",
                                  rd.session_hours, 0.01),
            idle_minutes=seconds("HASHGUARD_CONSOLE_IDLE_MINUTES", "console_idle_minutes",
                                 rd.idle_minutes, 0.1),
            reveals_per_hour=number("HASHGUARD_REVEALS_PER_HOUR", "reveals_per_hour",
                                    rd.reveals_per_hour, 0),
            reveals_per_day=number("HASHGUARD_REVEALS_PER_DAY", "reveals_per_day",
                                   rd.reveals_per_day, 0),
            keys_file=Path(keys_file) if keys_file else None,
            keep_days=seconds(
                "HASHGUARD_REVIEW_KEEP_DAYS", "review_keep_days", rd.keep_days, 0.001
            ),
            keep_max_bytes=number("HASHGUARD_REVIEW_KEEP_MAX_BYTES", "review_keep_max_bytes",
                                  rd.keep_max_bytes, 1),
        )  # fmt: skip
        profile = pick(None, "HASHGUARD_REPORTING_FILE", "reporting_file", None)
        creds = pick(None, "HASHGUARD_NCMEC_CREDENTIALS_FILE", "ncmec_credentials_file", None)
        token = pick(None, "HASHGUARD_DSA_TOKEN_FILE", "dsa_token_file", None)
        cybertip, dsa = split_profile(load_profile(Path(profile) if profile else None))
        reports = ReportOptions(
            profile=cybertip,
            dsa=dsa,
            dsa_url=pick(None, "HASHGUARD_DSA_URL", "dsa_url", None) or None,
            dsa_token_file=Path(token) if token else None,
            evidence_days=seconds("HASHGUARD_EVIDENCE_DAYS", "evidence_days", 365, 1),
            ncmec_environment=_environment(
                pick(None, "HASHGUARD_NCMEC_ENVIRONMENT", "ncmec_environment", "test")
            ),
            ncmec_url=pick(None, "HASHGUARD_NCMEC_URL", "ncmec_url", None) or None,
            ncmec_credentials_file=Path(creds) if creds else None,
            enrich_url=pick(None, "HASHGUARD_REPORT_ENRICH_URL", "report_enrich_url", None) or None,
        )
        exact = pick(None, "HASHGUARD_EXACT_ORIENTATIONS", "exact_orientations", False)
        private = pick(None, "HASHGUARD_WEBHOOK_ALLOW_PRIVATE", "webhook_allow_private", False)
        return cls(
            db_url=db_url,
            index_dir=Path(index_dir) if index_dir else default_index_dir(db_url, env),
            limits=limits,
            video=video,
            exact_orientations=_yes(exact),
            rate_limit=rate_limit,
            max_list_bytes=max_list,
            probe_window=probing.window,
            probe_bits=probing.bits,
            probe_limit=probing.limit,
            probe_block=probing.block,
            webhook_allow_private=_yes(private),
            match_log_days=number("HASHGUARD_MATCH_LOG_DAYS", "match_log_days", 365, 1),
            outbox_days=number("HASHGUARD_OUTBOX_DAYS", "outbox_days", 30, 1),
            seen_days=number("HASHGUARD_SEEN_DAYS", "seen_days", 90, 1),
            review=review,
            reports=reports,
            reporting_file=Path(profile) if profile else None,
        )

    def to_env(self) -> dict[str, str]:
        """These settings as the environment :meth:`load` reads: how ``serve`` hands them to
        its worker processes."""
        return {
            "HASHGUARD_DB": self.db_url,
            "HASHGUARD_INDEX_DIR": str(self.index_dir),
            "HASHGUARD_MAX_PIXELS": str(self.limits.max_pixels),
            "HASHGUARD_MAX_UPLOAD_BYTES": str(self.limits.max_bytes),
            "HASHGUARD_MAX_DECODE_BYTES": str(self.limits.max_decode_bytes),
            "HASHGUARD_MAX_BATCH_DECODE_BYTES": str(self.limits.max_batch_decode_bytes),
            "HASHGUARD_EXACT_ORIENTATIONS": "1" if self.exact_orientations else "0",
            "HASHGUARD_RATE_LIMIT": str(self.rate_limit),
            "HASHGUARD_MAX_LIST_BYTES": str(self.max_list_bytes),
            "HASHGUARD_PROBE_WINDOW": str(self.probe_window),
            "HASHGUARD_PROBE_BITS": str(self.probe_bits),
            "HASHGUARD_PROBE_LIMIT": str(self.probe_limit),
            "HASHGUARD_PROBE_BLOCK": str(self.probe_block),
            "HASHGUARD_WEBHOOK_ALLOW_PRIVATE": "1" if self.webhook_allow_private else "0",
            "HASHGUARD_MATCH_LOG_DAYS": str(self.match_log_days),
            "HASHGUARD_OUTBOX_DAYS": str(self.outbox_days),
            "HASHGUARD_SEEN_DAYS": str(self.seen_days),
            "HASHGUARD_REVIEW_CLAIM_MINUTES": str(self.review.claim_seconds / 60),
            "HASHGUARD_REVIEW_UNDO_HOURS": str(self.review.undo_window / 3600),
            "HASHGUARD_CONSOLE_SESSION_HOURS": str(self.review.session_hours),
            "HASHGUARD_CONSOLE_IDLE_MINUTES": str(self.review.idle_minutes),
            "HASHGUARD_REVEALS_PER_HOUR": str(self.review.reveals_per_hour),
            "HASHGUARD_REVEALS_PER_DAY": str(self.review.reveals_per_day),
            "HASHGUARD_REVIEW_KEYS_FILE": str(self.review.keys_file or ""),
            "HASHGUARD_REVIEW_KEEP_DAYS": str(self.review.keep_days),
            "HASHGUARD_REVIEW_KEEP_MAX_BYTES": str(self.review.keep_max_bytes),
            "HASHGUARD_REPORTING_FILE": str(self.reporting_file or ""),
            "HASHGUARD_EVIDENCE_DAYS": str(self.reports.evidence_days),
            "HASHGUARD_NCMEC_ENVIRONMENT": self.reports.ncmec_environment,
            "HASHGUARD_NCMEC_URL": self.reports.ncmec_url or "",
            "HASHGUARD_NCMEC_CREDENTIALS_FILE": str(self.reports.ncmec_credentials_file or ""),
            "HASHGUARD_REPORT_ENRICH_URL": self.reports.enrich_url or "",
            "HASHGUARD_DSA_URL": self.reports.dsa_url or "",
            "HASHGUARD_DSA_TOKEN_FILE": str(self.reports.dsa_token_file or ""),
            "HASHGUARD_MAX_VIDEO_BYTES": str(self.video.limits.max_bytes),
            "HASHGUARD_MAX_VIDEO_SECONDS": str(self.video.limits.max_seconds),
            "HASHGUARD_MAX_VIDEO_PIXELS": str(self.video.limits.max_pixels),
            "HASHGUARD_MAX_VIDEO_FRAMES": str(self.video.limits.max_frames),
            "HASHGUARD_MAX_VIDEO_STREAMS": str(self.video.limits.max_streams),
            "HASHGUARD_MAX_VIDEO_DECODE_SECONDS": str(self.video.limits.max_decode_seconds),
            "HASHGUARD_VIDEO_QUERY_EVERY": str(self.video.query_every),
            "HASHGUARD_VIDEO_LIST_EVERY": str(self.video.list_every),
        }


def _environment(value: object) -> str:
    if value not in ("test", "production"):
        raise ConfigError(f"ncmec_environment {value!r}: test or production")
    return str(value)


def _yes(value: object) -> bool:
    return str(value).lower() in ("1", "true", "yes", "on")
