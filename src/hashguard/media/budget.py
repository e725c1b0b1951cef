"""How much memory decoding an image takes, known from its header, and the budgets it is
charged against: per image, per process (concurrent decodes share one), per API batch.

The figure is the decoder's peak, not the pixel count: Pillow keeps 1, 2 or 4 bytes per
pixel by mode (RGB is stored as 4), libwebp and libavif decode into a buffer of their own that
is then copied into Pillow's, and a progressive JPEG keeps every DCT coefficient (2 bytes
each) whatever the scale it is drawn at. The factors were measured on this machine as peak
RSS over the buffer's size (see ``bench/bench_bombs.py``) and rounded up.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from PIL import Image, ImageMode

from hashguard.errors import DecompressionBomb

# Peak over Pillow's buffer while the codec decodes (its own output buffer, copies):
# measured 3.8 for WebP (lossy and lossless), 2.2 for AVIF; HEIF assumed like AVIF.
CODEC_FACTOR = {"WEBP": 4, "AVIF": 3, "HEIF": 3}


def pixel_bytes(mode: str) -> int:
    """Bytes Pillow stores per pixel of ``mode``: one band in its own width, several 8-bit
    bands in 4 bytes."""
    m = ImageMode.getmode(mode)
    return int(m.typestr[-1]) if len(m.bands) == 1 else 4


def jpeg_coefficient_bytes(im: Image.Image) -> int:
    """Bytes of the coefficient buffer libjpeg keeps for the whole of a progressive JPEG (0
    for a baseline one, decoded a row of blocks at a time). Call before ``draft``."""
    if not (im.info.get("progressive") or im.info.get("progression")):
        return 0
    layers = getattr(im, "layer", None) or [("", 1, 1, 0)] * len(im.getbands())
    hmax = max(h for _, h, _, _ in layers)
    vmax = max(v for _, _, v, _ in layers)
    blocks = sum(
        math.ceil(im.width * h / hmax / 8) * math.ceil(im.height * v / vmax / 8)
        for _, h, v, _ in layers
    )
    return int(blocks) * 64 * 2


def buffer_bytes(im: Image.Image) -> int:
    """Peak bytes of decoding the opened (not yet loaded) ``im`` at its current size (after
    ``draft``): Pillow's buffer, times the codec's own copies."""
    return im.width * im.height * pixel_bytes(im.mode) * CODEC_FACTOR.get(im.format or "", 1)


class DecodeGate:
    """Bytes of decoding a process may have under way at once, shared by its threads: a
    decode waits until the others leave room for it. One image over the whole capacity is
    refused before it gets here, so a wait always ends."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.used = 0
        self._cond = threading.Condition()

    @contextmanager
    def hold(self, n: int) -> Iterator[None]:
        n = min(n, self.capacity)
        with self._cond:
            while self.used and self.used + n > self.capacity:
                self._cond.wait()
            self.used += n
        try:
            yield
        finally:
            with self._cond:
                self.used -= n
                self._cond.notify_all()


_GATES: dict[int, DecodeGate] = {}
_GATES_LOCK = threading.Lock()


def gate(capacity: int) -> DecodeGate:
    """This process's gate of ``capacity`` bytes (one per distinct limit, made on first use)."""
    with _GATES_LOCK:
        return _GATES.setdefault(capacity, DecodeGate(capacity))


class BatchTally:
    """The decoding bytes of one API batch's images, added up: past ``limit`` the further
    images of the batch are refused (their digests are still matched), so a batch of 100
    items costs at most a few large images' time, not 100 of them."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.total = 0

    def charge(self, n: int) -> None:
        if self.total + n > self.limit:
            raise DecompressionBomb(
                f"this batch's images together would take {self.total + n:,} bytes to "
                f"decode; the limit is {self.limit:,} (max_batch_decode_bytes): send the "
                "rest in another request"
            )
        self.total += n
