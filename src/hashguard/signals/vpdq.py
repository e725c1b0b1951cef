"""vPDQ: Meta's video hash, a PDQ hash (with its quality and timestamp) per sampled frame.

Frames are decoded with PyAV and each RGB frame is hashed at its decoded size with
``pdqhash``, which gives the frame hashes the ``vpdq`` package does (bench/bench_video.py
measures both against the reference hashes). How densely each side samples:

- content to list (an entry's upload, ``hashguard hash --list``): every frame
  (:data:`LIST_EVERY` 0), so that whatever moment a copy samples has a listed neighbour
  (adjacent frames of a clip differ by 20-40 bits);
- a query: one frame a second (:data:`QUERY_EVERY`), key frames standing in where they come
  at least every 1.5 s (then nothing else is decoded).

Consecutive frames within :data:`DEDUPE_BITS` of the last one kept are dropped (a still
scene is one frame). Black letterbox or pillarbox bars found over the whole clip are
trimmed and the trimmed frames hashed too: a query searches both, a listed video keeps both.

The value is python-threatexchange's serialized form, a JSON list of ``"pdq_hex,quality,
timestamp"`` strings; lists may also give the reference tools' per-frame lines
(``frame_number,quality,pdq_hex,timestamp``). Matching is by :mod:`hashguard.index.frames`.
A video's frames are also searched in the PDQ banks (a listed image inside a video), and an
image's PDQ in the vPDQ banks (a still from a listed video): see :meth:`Vpdq.also_search`.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from hashguard.errors import InvalidSignal
from hashguard.index.base import Hit, SignalIndex
from hashguard.index.frames import COMPARED_PERCENT, QUERY_PERCENT, FrameIndex, FrameKey
from hashguard.media.borders import BarFinder
from hashguard.media.video import LIST_EVERY, QUERY_EVERY, Box, Video
from hashguard.signals.base import Hashed, HashOptions, Media, SignalType
from hashguard.signals.pdq import DEFAULT_THRESHOLD, LOW_QUALITY, MAX_THRESHOLD, hamming, pdq_hash

DEDUPE_BITS = 4
INCOMPLETE_SECONDS = 2.5  # frames ending this long before the stated duration: truncated
BAR_EVERY = 0.5  # seconds between the key frames looked at for black bars
QUERY_MIN_SIDE = 360  # a query frame's short side, at least, once scaled down
MAX_FRAMES = 200_000  # in one listed value: a 2-hour video at 30 fps, deduplicated


@dataclass(frozen=True)
class FrameHash:
    time: float
    pdq: bytes
    quality: int

    def __str__(self) -> str:
        return f"{self.pdq.hex()},{self.quality},{self.time:.3f}"


@dataclass(frozen=True)
class VideoHash:
    """The frames hashed of one video (deduplicated), and of its picture inside bars."""

    frames: list[FrameHash]
    trimmed: list[FrameHash] | None
    box: Box | None
    sampled: int  # frames hashed, before deduplication
    duration: float
    width: int
    height: int
    every: float


def hash_video(video: Video, every: float, *, scale: int = 1) -> VideoHash:
    """Every ``every`` seconds (0: every frame), the PDQ of the frame (its sides divided by
    ``scale``) and, if the clip has black bars, of the picture inside them: the bars are
    looked for in the key frames first, so that one pass hashes both."""
    bars = BarFinder()
    looked = -1.0
    for frame in video.frames(scale=scale, keyframes=True):
        if frame.time - looked >= BAR_EVERY:
            bars.add(frame.rgb)
            looked = frame.time
    box = bars.box()
    frames: list[FrameHash] = []
    trimmed: list[FrameHash] = []
    for frame in video.frames(every, scale=scale):
        frames.append(_hashed(frame.time, frame.rgb))
        if box is not None:
            left, top, right, bottom = box
            trimmed.append(_hashed(frame.time, frame.rgb[top:bottom, left:right]))
    info = video.info
    return VideoHash(
        dedupe(frames),
        dedupe(trimmed) if box is not None else None,
        tuple(v * scale for v in box) if box is not None else None,  # type: ignore[arg-type]
        len(frames),
        info.duration or (frames[-1].time if frames else 0.0),
        info.width,
        info.height,
        every,
    )


def _hashed(time: float, rgb: np.ndarray) -> FrameHash:
    pdq, quality = pdq_hash(np.ascontiguousarray(rgb))
    return FrameHash(round(time, 3), pdq, quality)


def frame_hashes(video: Video, every: float) -> list[FrameHash]:
    """The PDQ of each frame sampled, at its decoded size, none dropped (conformance)."""
    return [_hashed(frame.time, frame.rgb) for frame in video.frames(every)]


def query_scale(width: int, height: int) -> int:
    """How much a query's frames are scaled down: by half where the short side stays at
    least :data:`QUERY_MIN_SIDE` (HD and up): a median 4, at most 8, bits from the full-size
    hash on the shared HD clips (``bench/bench_video.py --only shortcuts``)."""
    return 2 if min(width, height) >= 2 * QUERY_MIN_SIDE else 1


def dedupe(frames: list[FrameHash]) -> list[FrameHash]:
    """Frames apart from the last one kept by more than :data:`DEDUPE_BITS`."""
    kept: list[FrameHash] = []
    for f in frames:
        if not kept or hamming(kept[-1].pdq, f.pdq) > DEDUPE_BITS:
            kept.append(f)
    return kept


def serialize(frames: list[FrameHash]) -> str:
    return json.dumps([str(f) for f in frames], separators=(",", ":"))


def _frame(parts: list[str], where: str) -> FrameHash:
    hex_, quality, stamp = (p.strip() for p in parts)
    if len(hex_) != 64:
        raise InvalidSignal(f"{where}: the PDQ hash must be 64 hex digits, got {len(hex_)}")
    try:
        pdq = bytes.fromhex(hex_)
    except ValueError:
        raise InvalidSignal(f"{where}: the PDQ hash must be hexadecimal") from None
    try:
        q = int(quality)
        t = float(stamp)
    except ValueError:
        raise InvalidSignal(f"{where}: quality must be a whole number and time a number") from None
    if not 0 <= q <= 100:
        raise InvalidSignal(f"{where}: quality must be from 0 to 100, not {q}")
    if not math.isfinite(t) or t < 0:
        raise InvalidSignal(f"{where}: the timestamp must be a number of seconds >= 0")
    return FrameHash(round(t, 3), pdq, q)


def parse_frames(raw: str) -> list[FrameHash]:
    """Frames from python-threatexchange's JSON form, or from the reference tools' lines
    (``frame_number,quality,pdq_hex,timestamp``, one a line or ``;``-separated)."""
    text = raw.strip()
    if not text:
        raise InvalidSignal("a vPDQ hash needs at least one frame")
    frames: list[FrameHash] = []
    if text[0] in "[{":
        try:
            items = json.loads(text)
        except ValueError as e:
            raise InvalidSignal(f"vPDQ JSON does not parse: {e}") from None
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise InvalidSignal('vPDQ JSON must be a list of "pdq_hex,quality,timestamp" strings')
        for n, item in enumerate(items):
            parts = item.split(",")
            if len(parts) != 3:
                raise InvalidSignal(f"frame {n}: expected pdq_hex,quality,timestamp")
            frames.append(_frame(parts, f"frame {n}"))
    else:
        for n, line in enumerate(text.replace(";", "\n").splitlines()):
            if not line.strip():
                continue
            parts = line.split(",")
            if len(parts) != 4:
                raise InvalidSignal(
                    f"frame line {n + 1}: expected frame_number,quality,pdq_hex,timestamp"
                )
            frames.append(_frame([parts[2], parts[1], parts[3]], f"frame line {n + 1}"))
    if not frames:
        raise InvalidSignal("a vPDQ hash needs at least one frame")
    if len(frames) > MAX_FRAMES:
        raise InvalidSignal(f"a vPDQ hash of {len(frames):,} frames; the limit is {MAX_FRAMES:,}")
    return frames


def frame_key(frames: list[FrameHash]) -> FrameKey:
    """The frames a match counts: of good quality, each distinct hash once (its first time)."""
    seen: set[bytes] = set()
    codes, times = [], []
    for f in frames:
        if f.quality >= LOW_QUALITY and f.pdq not in seen:
            seen.add(f.pdq)
            codes.append(np.frombuffer(f.pdq, np.uint8))
            times.append(f.time)
    if not codes:
        return FrameKey(np.empty((0, 32), np.uint8), np.empty(0))
    return FrameKey(np.stack(codes), np.array(times, np.float64))


def _share(hit: Hit) -> float:
    return float(hit.where["query_match_percent"]) if hit.where else 0.0


def _pair_distances(a: FrameKey, b: FrameKey) -> np.ndarray:
    """(len(a), len(b)) bit distances between the two videos' frames."""
    wa = a.codes.view(np.uint64).reshape(-1, 4)
    wb = b.codes.view(np.uint64).reshape(-1, 4)
    out: np.ndarray = np.bitwise_count(wa[:, None, :] ^ wb[None, :, :]).sum(axis=2)
    return out


class Vpdq(SignalType):
    name = "vpdq"
    matching = "hamming"
    hashes = "video"
    default_threshold = DEFAULT_THRESHOLD  # between two frames
    max_threshold = MAX_THRESHOLD
    extra_thresholds: ClassVar[Mapping[str, int]] = {
        "vpdq_query_percent": 100,
        "vpdq_compared_percent": 100,
    }

    def parse(self, raw: str) -> str:
        return serialize(parse_frames(raw))

    def index_key(self, value: str) -> Any:
        return frame_key(parse_frames(value))

    def new_index(self) -> SignalIndex:
        return FrameIndex()

    def distance(self, a: str, b: str) -> int | None:
        """The closest two frames of the two videos (None: no frames to compare)."""
        ka, kb = self.index_key(a), self.index_key(b)
        if not len(ka) or not len(kb):
            return None
        return int(_pair_distances(ka, kb).min())

    def within(self, query: str, value: str, threshold: int) -> int | None:
        """python-threatexchange's rule by brute force, at the default shares."""
        q, v = self.index_key(query), self.index_key(value)
        if not len(q) or not len(v):
            return None
        d = _pair_distances(q, v)
        near = d <= threshold
        query_pct = 100.0 * near.any(axis=1).sum() / len(q)
        compared_pct = 100.0 * near.any(axis=0).sum() / len(v)
        if not near.any() or query_pct < QUERY_PERCENT or compared_pct < COMPARED_PERCENT:
            return None
        return int(d[near].min())

    def near(self, value: str, rng: random.Random, bits: int) -> str:
        frames = []
        for f in parse_frames(value):
            data = bytearray(f.pdq)
            for position in rng.sample(range(256), bits):
                data[position // 8] ^= 0x80 >> (position % 8)
            frames.append(FrameHash(f.time, bytes(data), f.quality))
        return serialize(frames)

    def examples(self, rng: random.Random, count: int) -> list[str]:
        out = []
        for _ in range(count):
            n = rng.randint(1, 6)
            frames = [FrameHash(i * 1.0, rng.randbytes(32), 100) for i in range(n)]
            out.append(serialize(frames))
        return out

    def hash(self, media: Media, options: HashOptions) -> Hashed | None:
        video = media.video()
        if video is None:
            return None
        if options.query:
            scale = query_scale(video.info.width, video.info.height)
            hashed = hash_video(video, options.video_query_every, scale=scale)
        else:  # listed at full size, as the reference and the vpdq package hash
            hashed = hash_video(video, options.video_list_every)
        value = serialize(hashed.frames)
        also = (serialize(hashed.trimmed),) if hashed.trimmed else ()
        queries = [frame_key(hashed.frames)]
        variants: list[str | None] = [None]
        if hashed.trimmed:
            queries.append(frame_key(hashed.trimmed))
            variants.append("trimmed")
        summary = {
            "frames": len(hashed.frames),
            "frames_hashed": hashed.sampled,
            "seconds": round(hashed.duration, 3),
            "size": [hashed.width, hashed.height],
            "every": hashed.every,
            "bars": list(hashed.box) if hashed.box else None,
            "median_quality": int(np.median([f.quality for f in hashed.frames])),
        }
        if hashed.frames[-1].time < hashed.duration - INCOMPLETE_SECONDS:
            summary["incomplete"] = True  # truncated: the frames end before the header says
        return Hashed(
            self.name,
            value,
            queries=tuple(queries),
            variants=tuple(variants),
            trimmed=bool(hashed.trimmed),
            of="video",
            fields={"vpdq": summary},
            also=also,
        )

    def closer(self, hit: Hit, than: Hit) -> bool:
        """The larger share of the query's frames (whole, or trimmed of its bars)."""
        return _share(hit) > _share(than)

    def also_search(
        self, hashed: Mapping[str, Hashed], holds: Callable[[str], bool]
    ) -> dict[str, tuple[tuple[Any, ...], tuple[dict[str, Any], ...]]]:
        """A video's frames in the PDQ banks; an image's PDQ (each variant a one-frame video)
        in the vPDQ banks."""
        video = hashed.get(self.name)
        if video is not None and holds("pdq"):
            codes, details = [], []
            for key, variant in zip(video.queries, video.variants, strict=True):
                for code, t in zip(key.codes, key.times.tolist(), strict=True):
                    codes.append(code.tobytes())
                    details.append({"frame_time": t, **({"variant": variant} if variant else {})})
            return {"pdq": (tuple(codes), tuple(details))}
        image = hashed.get("pdq")
        if video is not None or image is None or not image.queries or not holds(self.name):
            return {}
        keys = tuple(
            FrameKey(np.frombuffer(q, np.uint8).reshape(1, 32), np.zeros(1)) for q in image.queries
        )
        variants = image.variants or (None,) * len(keys)
        return {self.name: (keys, tuple({"variant": v} if v else {} for v in variants))}


__all__ = [
    "COMPARED_PERCENT", "LIST_EVERY", "QUERY_EVERY", "QUERY_PERCENT", "Vpdq", "hash_video",
    "parse_frames",
]  # fmt: skip
