"""What a signal is, and the interface every signal type implements.

A signal type owns the whole life of its signals: which content it hashes and how
(:meth:`SignalType.hash`), how a value is written and checked (:meth:`SignalType.parse`),
what its index stores and which index that is (:meth:`SignalType.index_key`,
:meth:`SignalType.new_index`), how two values compare (:meth:`SignalType.distance`) and what
a match of it reports (:meth:`SignalType.describe`). The hashing, indexing and matching code
loops over the registered types and names none of them (see docs/architecture.md).
"""

from __future__ import annotations

import binascii
import hashlib
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

from hashguard.errors import InvalidSignal
from hashguard.index.base import Hit, SignalIndex
from hashguard.index.exact import ExactIndex

if TYPE_CHECKING:
    from PIL import Image

    from hashguard.media.video import Video

Matching = Literal["exact", "hamming", "keyword"]
# What a type computes its signal from: any bytes, a decoded image, or nothing (a type whose
# signals come only from lists, e.g. PhotoDNA, whose algorithm is not public).
Hashes = Literal["bytes", "image", "video"] | None


@dataclass(frozen=True)
class Signal:
    """One fingerprint of one piece of content, in its canonical text form."""

    type: str
    value: str
    quality: int | None = None  # PDQ's 0-100 score; None for types without one


@dataclass(frozen=True)
class HashOptions:
    query: bool = True  # hashing a query (variants wanted) rather than content to list
    exact_orientations: bool = False  # see hashguard.signals.pdq
    video_query_every: float = 1.0  # seconds between a query video's frames (signals.vpdq)
    video_list_every: float = 0.0  # ... between the frames of a video to list (0: all)


class Media(Protocol):
    """Content being hashed: its bytes, and its picture decoded once for every type."""

    @property
    def data(self) -> bytes:
        """The content's bytes, whole. A video uploaded or named as a file is read into
        memory by this: a type that reads bytes should use :meth:`chunks` or :meth:`digest`."""
        ...

    def chunks(self) -> Iterator[bytes]:
        """The content's bytes in pieces (a file read a megabyte at a time)."""
        ...

    def digest(self, name: str) -> str:
        """The hex ``hashlib`` digest ``name`` of the content's bytes (one pass over a file
        for all of hashguard's digests)."""
        ...

    def image(self) -> tuple[Image.Image, bool]:
        """The decoded RGB image and whether it was reduced from a larger one; raises
        :class:`~hashguard.errors.MediaError`."""
        ...

    def video(self) -> Video | None:
        """The video, opened and checked; None if the content is no video. Raises
        :class:`~hashguard.errors.MediaError` for a video that cannot be read."""
        ...


@dataclass(frozen=True)
class Hashed:
    """One signal type's hash of one piece of content."""

    type: str
    value: str  # canonical: what a list entry holds
    quality: int | None = None
    # Index keys to search for a query: variants of the content (rotations, trimmed
    # borders), the first being the value itself; empty: the value's own key only.
    queries: tuple[Any, ...] = ()
    variants: tuple[str | None, ...] = ()  # a name for each query; None for the value
    trimmed: bool = False  # some queries are of the picture inside uniform borders
    low_quality: bool = False  # too weak to trust a match on its own
    of: Hashes = "bytes"  # what it was computed from
    fields: dict[str, Any] | None = None  # its hash output; None: {type: value}
    also: tuple[str, ...] = ()  # further values listed with it (a video's trimmed frames)

    def output(self) -> dict[str, Any]:
        """The fields of the hash output (the CLI's ``hash`` and the API's)."""
        return self.fields if self.fields is not None else {self.type: self.value}


class TextQueries(Protocol):
    """What a text-matched type asks its index about one message."""

    @property
    def keys(self) -> Sequence[Any]: ...

    def where(self, query: int) -> dict[str, Any]:
        """Where in the message query ``query`` was found (span, URL, expression)."""
        ...


class SignalType:
    """Parses, validates, hashes and compares one kind of signal.

    Subclasses set ``name`` and ``matching``; ``exact`` types are matched by equality of the
    canonical value, ``hamming`` types by bit distance of the decoded bytes, ``keyword``
    types by finding their terms in message text.
    """

    name: ClassVar[str]
    matching: ClassVar[Matching] = "exact"
    hashes: ClassVar[Hashes] = None
    default_threshold: ClassVar[int] = 0
    max_threshold: ClassVar[int] = 0  # the largest a bank may set; 0: matched by equality
    has_quality: ClassVar[bool] = False  # its signals carry a quality score
    # A bank's further thresholds for this type, by name, each with its largest value (a
    # video's share of matching frames, say); what they mean is the type's index's business.
    extra_thresholds: ClassVar[Mapping[str, int]] = {}

    def parse(self, raw: str) -> str:
        """Return the canonical form of ``raw`` or raise :class:`InvalidSignal`."""
        raise NotImplementedError

    def to_bytes(self, value: str) -> bytes:
        """The canonical value as bytes."""
        return value.encode()

    def from_bytes(self, data: bytes) -> str:
        return data.decode()

    # indexing

    def index_key(self, value: str) -> Any:
        """What the index stores for a canonical value: here a SHA-256 of it, so that
        values of any length are one fixed-width key."""
        return hashlib.sha256(value.encode()).digest()

    def new_index(self) -> SignalIndex:
        """An empty index for this type's keys."""
        return ExactIndex(32)

    # hashing and matching

    def hash(self, media: Media, options: HashOptions) -> Hashed | None:
        """This type's signal of ``media``; None if it hashes no content of this kind. A
        :class:`~hashguard.errors.MediaError` means the content could not be read."""
        return None

    def distance(self, a: str, b: str) -> int | None:
        """How far apart two canonical values are; None: no match possible."""
        return 0 if a == b else None

    def within(self, query: str, value: str, threshold: int) -> int | None:
        """The distance at which ``value`` matches ``query`` when searched at ``threshold``
        (None: no match): what an index must find, by brute force. Matched by distance
        alone here; vPDQ also needs its shares of matching frames."""
        distance = self.distance(query, value)
        return distance if distance is not None and distance <= threshold else None

    def near(self, value: str, rng: random.Random, bits: int) -> str:
        """``value`` with ``bits`` random bits flipped (of a hash type): what the test kits
        search near listed values with."""
        data = bytearray(self.to_bytes(value))
        for position in rng.sample(range(len(data) * 8), bits):
            data[position // 8] ^= 0x80 >> (position % 8)
        return self.parse(self.from_bytes(bytes(data)))

    def examples(self, rng: random.Random, count: int) -> list[str]:
        """``count`` distinct valid values, benign (random hashes, made-up URLs and words):
        what the test kits of :mod:`hashguard.testing` list and search for."""
        raise NotImplementedError(f"signal type {self.name!r} gives no examples")

    def low_quality(self, quality: int | None) -> bool:
        """True if a signal of this quality is too weak to trust a match on its own."""
        return False

    def also_search(
        self, hashed: Mapping[str, Hashed], holds: Callable[[str], bool]
    ) -> Mapping[str, tuple[tuple[Any, ...], tuple[dict[str, Any], ...]]]:
        """Searches of other types' indexes this type asks for, given one content's hashes:
        by index, the keys and what each adds to its match (a frame's time). ``holds(name)``
        says whether that index holds anything (nothing need be built for one that does
        not). vPDQ's frames are PDQ hashes, so a video is searched in the PDQ banks and an
        image in the vPDQ banks this way."""
        return {}

    def closer(self, hit: Hit, than: Hit) -> bool:
        """Whether ``hit`` is the better of two hits on one entry (of two of the query's
        variants): here the nearer."""
        return hit.distance < than.distance

    def describe(self, distance: int) -> dict[str, Any] | None:
        """What a match at this distance reports besides the distance (a percentage pair
        for video, say); None: nothing."""
        return None

    # text

    # Matched in message text (/v1/match/text): in the message's own text ("message") or in
    # the URLs found in it ("urls": most messages hold none, and are not asked about them).
    in_text: ClassVar[Literal["message", "urls"] | None] = None

    def text_queries(self, message: Any) -> TextQueries | None:
        """What to search for in a :class:`~hashguard.text.message.Message`."""
        return None


class HexDigestType(SignalType):
    """A fixed-length binary hash written as hex, e.g. MD5 (16 bytes)."""

    nbytes: ClassVar[int]

    def parse(self, raw: str) -> str:
        value = raw.strip().lower()
        if len(value) != 2 * self.nbytes:
            raise InvalidSignal(
                f"{self.name} must be {2 * self.nbytes} hex digits, got {len(value)} characters"
            )
        try:
            data = bytes.fromhex(value)
        except ValueError:
            data = b""
        if len(data) != self.nbytes:  # fromhex also skips spaces between digit pairs
            raise InvalidSignal(f"{self.name} must be hexadecimal (0-9, a-f)")
        return value

    def to_bytes(self, value: str) -> bytes:
        return bytes.fromhex(value)

    def from_bytes(self, data: bytes) -> str:
        return binascii.hexlify(data).decode()

    def index_key(self, value: str) -> Any:
        return bytes.fromhex(value)

    def new_index(self) -> SignalIndex:
        return ExactIndex(self.nbytes)

    def examples(self, rng: random.Random, count: int) -> list[str]:
        found: set[str] = set()
        while len(found) < count:
            found.add(rng.randbytes(self.nbytes).hex())
        return sorted(found)


class DigestType(HexDigestType):
    """A cryptographic digest of the content's bytes (any content): exact matching."""

    hashes = "bytes"

    def hash(self, media: Media, options: HashOptions) -> Hashed | None:
        return Hashed(self.name, media.digest(self.name))
