"""The one exception tree. Each error knows its HTTP status and CLI exit code.

Messages are written for the person who has to act on them: what went wrong, where, and
what to do about it. Tracebacks are for bugs, never for bad input.
"""

from __future__ import annotations

from dataclasses import dataclass


class HashguardError(Exception):
    """Base of every error hashguard raises on purpose."""

    http_status = 500
    exit_code = 1

    def __init__(
        self, message: str, *, cli_hint: str | None = None, http_hint: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        # Where to look next, in the words of the interface the user is on: a command for
        # the command line, a route for an HTTP caller (never a flag they cannot pass).
        self.cli_hint = cli_hint
        self.http_hint = http_hint

    def for_cli(self) -> str:
        return f"{self.message} ({self.cli_hint})" if self.cli_hint else self.message

    def for_http(self) -> str:
        return f"{self.message} ({self.http_hint})" if self.http_hint else self.message


class InvalidValue(HashguardError):
    """A value the user gave that is not acceptable: a bad name, an out-of-range number."""

    http_status = 422
    exit_code = 2


class InvalidSignal(InvalidValue):
    """A signal value that does not parse: wrong length, not hex, empty."""


class UnknownSignalType(InvalidValue):
    """A signal type name no registered signal type answers to."""

    http_status = 422
    exit_code = 2


class UnknownFormat(InvalidValue):
    """A list format no installed format answers to, or a file whose format cannot be told."""


class MalformedBody(InvalidValue):
    """A request body that does not parse at all: JSON that is not JSON (or not UTF-8), a
    broken multipart form. A body that parses but breaks the schema is InvalidValue (422)."""

    http_status = 400


class UnsupportedMediaType(InvalidValue):
    """A request body in a content type the route does not take."""

    http_status = 415


class MediaError(HashguardError):
    """Content that cannot be decoded: corrupt, truncated, not an image, too large."""

    http_status = 422
    exit_code = 3


class TooLarge(MediaError):
    """Content over the configured size limit."""

    http_status = 413


class DecompressionBomb(TooLarge):
    """An image whose pixel count, or the memory decoding it takes, exceeds the limit."""


class NotAnImage(MediaError):
    """Content that is not in an image format hashguard decodes (a video, a PDF, an EPS):
    it has digests but no perceptual hash."""


@dataclass(frozen=True)
class RowError:
    """One bad row of a list file, with the line number a user can jump to."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class ListRejected(HashguardError):
    """A list file with bad rows. Nothing from it was applied."""

    http_status = 422
    exit_code = 4
    shown = 20  # rows listed in the message; all of them stay in .errors

    def __init__(self, source: str, errors: list[RowError]) -> None:
        head = "\n".join(f"  {e}" for e in errors[: self.shown])
        more = f"\n  ... and {len(errors) - self.shown} more" if len(errors) > self.shown else ""
        super().__init__(f"{source}: {len(errors)} bad row(s); nothing was imported\n{head}{more}")
        self.errors = errors


class PolicyRejected(InvalidValue):
    """A policy document with problems, each named by where it is. Nothing was changed."""

    def __init__(self, problems: list[str]) -> None:
        listed = "\n".join(f"  {p}" for p in problems)
        super().__init__(
            f"the policy was refused ({len(problems)} problem(s)); nothing changed\n{listed}"
        )
        self.problems = problems


class NotFound(HashguardError):
    http_status = 404
    exit_code = 5


class Conflict(HashguardError):
    http_status = 409
    exit_code = 6


class Unauthorized(HashguardError):
    """No API key, an unknown one, or a revoked one."""

    http_status = 401
    exit_code = 2


class Forbidden(HashguardError):
    """A key without the scope the call needs."""

    http_status = 403
    exit_code = 2


class UnknownHost(HashguardError):
    """A request whose Host header names a host this server does not answer for (a DNS
    rebinding page, say: the browser sends the attacker's name)."""

    http_status = 421
    exit_code = 2


class CrossOrigin(Forbidden):
    """A browser request from a page of another origin that would change something."""


class RateLimited(HashguardError):
    """A key over its requests per second."""

    http_status = 429
    exit_code = 2

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ProbingSuspected(RateLimited):
    """A key blocked for a while: its queries looked like probing of the lists."""


class NotReady(HashguardError):
    """The service is still loading its indexes."""

    http_status = 503
    exit_code = 7


class FeedError(HashguardError):
    """A feed that could not be synced."""

    http_status = 502
    exit_code = 8


class FeedRejected(FeedError):
    """A feed that failed verification: nothing from it was applied. Raise the alarm.

    ``reason`` is one word for alerts and metrics: malformed, signature, unknown_key,
    wrong_feed, rollback, expired, history, too_large, size, digest, missing.
    """

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class FeedUnavailable(FeedError):
    """The feed could not be fetched (network, HTTP error, missing file): try again later."""

    exit_code = 9


class ConfigError(HashguardError):
    """Bad settings or an unreachable database."""

    http_status = 500
    exit_code = 7


class SnapshotDamaged(HashguardError):
    """An index snapshot on disk that is not as it was written (cut short, overwritten,
    missing a file). Never served: the indexes are rebuilt from the store instead."""

    http_status = 500
    exit_code = 7


class StoreBusy(HashguardError):
    """SQLite's write lock held by another writer for longer than a writer waits (60 s):
    nothing was changed; try again when the other import or sync is done."""

    http_status = 503
    exit_code = 11


class MatchFound(HashguardError):
    """Not a failure: ``match --fail-on-match`` found listed content (its exit code)."""

    exit_code = 10


class RepeatedKey(ValueError):
    """A JSON object with one key twice (a list row that would mean two things)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key[:40]


class ItemFailed(Exception):
    """Item ``index`` of a group-committed batch of adds failed with ``error``: the batch is
    retried without it (internal to :mod:`hashguard.store.adds`)."""

    def __init__(self, index: int, error: Exception) -> None:
        super().__init__(index, error)
        self.index, self.error = index, error
