"""One video's vPDQ as the reference tools write it: a file of
``frame_number,quality,pdq_hex,timestamp`` lines (the ``vpdq`` package's and ThreatExchange's
sample hashes). The whole file is one entry, ``vpdq-sha256:<SHA-256 of its canonical
value>``; a bad line is reported with its number, and nothing is applied.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator

from hashguard.errors import InvalidSignal, RowError
from hashguard.lists.encoding import utf8_lines
from hashguard.lists.formats import ListFormat
from hashguard.lists.rows import ListRow
from hashguard.signals.registry import Registry
from hashguard.signals.vpdq import FrameHash, parse_frames, serialize


class VpdqFrames(ListFormat):
    name = "vpdq-frames"
    suffixes = (".vpdq",)

    def read(
        self, raw: Iterable[bytes], registry: Registry, errors: list[RowError]
    ) -> Iterator[ListRow]:
        frames: list[FrameHash] = []
        for line, text in enumerate(utf8_lines(raw, errors), start=1):
            if not text.strip() or text.startswith("#"):
                continue
            try:
                frames.extend(parse_frames(text))
            except InvalidSignal as e:
                errors.append(RowError(line, e.message.replace("frame line 1: ", "")))
        if errors:
            return
        if not frames:
            errors.append(RowError(1, "no frames: a vPDQ file has one line per frame"))
            return
        value = registry.get("vpdq").parse(serialize(frames))  # the limits, once more
        key = hashlib.sha256(value.encode()).hexdigest()
        yield ListRow(1, "add", f"vpdq-sha256:{key}", "vpdq", value)
