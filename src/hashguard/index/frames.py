"""The frame index behind vPDQ: every listed video's frames in one Hamming index.

A listed video is a run of rows, one per distinct frame hash, each row holding the frame's
PDQ, its timestamp, the entry and bank, and the video it belongs to. A query video's frames
are searched all at once; the frames found are grouped by listed video, and each video
scores two shares (python-threatexchange's vPDQ rule):

- ``query_match_percent``: of the query's frames, the share within the frame distance of
  some frame of the listed video;
- ``compared_match_percent``: of the listed video's frames, the share within that distance
  of some query frame.

A video matches a bank when both pass that bank's thresholds (the frame distance is the
bank's ``vpdq`` threshold; the shares are ``vpdq_query_percent`` and
``vpdq_compared_percent``). Only the listed videos that share a frame with the query are
ever looked at: there is no scan over all listed videos.

A still image is a one-frame query: it matches a listed video when its hash is within the
frame distance of one of the video's frames (100% of the query's one frame).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hashguard.errors import SnapshotDamaged
from hashguard.index.base import Hit, Reader, SearchLimits, SignalIndex, Writer
from hashguard.index.hamming import HammingIndex
from hashguard.index.rows import Growable, Rows

QUERY_PERCENT = 80.0  # python-threatexchange's defaults
COMPARED_PERCENT = 0.0
RANGE_GAP = 2.0  # matched frames this close (seconds) are one time range


@dataclass(frozen=True, eq=False)
class FrameKey:
    """A video as its index sees it: distinct frame hashes (good quality only), with times."""

    codes: np.ndarray  # (n, 32) uint8
    times: np.ndarray  # (n,) float64 seconds

    def __len__(self) -> int:
        return len(self.codes)

    def digest(self) -> bytes:
        """What tells two listed videos apart: a SHA-256 of their frames (32 bytes, not a
        copy of every frame in the index's lookup table)."""
        return hashlib.sha256(self.codes.tobytes()).digest()

    def tobytes(self) -> bytes:
        return self.codes.tobytes() + self.times.tobytes()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FrameKey) and self.tobytes() == other.tobytes()

    def __hash__(self) -> int:
        return hash(self.tobytes())


class FrameIndex(SignalIndex):
    kind = "frames"

    def __init__(
        self,
        frames: HammingIndex | None = None,
        times: np.ndarray | None = None,
        videos: np.ndarray | None = None,
    ) -> None:
        self.frames = frames or HammingIndex()
        self.rows = self.frames.rows
        n = len(self.rows)
        self.times = Growable(np.float64)
        self.times.extend(np.zeros(0) if times is None else times)
        self.videos = Growable(np.int64)  # the video number of each row
        self.videos.extend(np.zeros(0, np.int64) if videos is None else videos)
        if self.times.n != n or self.videos.n != n:
            raise SnapshotDamaged(
                f"frame index: {n} rows, {self.times.n} times, {self.videos.n} videos"
            )
        # Per video number: its entry, its first row and its frame count (rows of a video
        # are consecutive), and whether it is live.
        self._video_rows: dict[int, tuple[int, int, int]] = {}
        self._by_digest: dict[tuple[bytes, int], int] = {}
        self._dead: set[int] = set()
        self._next_video = 0
        self._index_videos()

    def _index_videos(self) -> None:
        vids = self.videos.array
        if not len(vids):
            return
        pks, _, alive = self.rows.all()
        change = np.flatnonzero(np.diff(vids)) + 1
        starts = np.concatenate([[0], change])
        ends = np.concatenate([change, [len(vids)]])
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            vid = int(vids[s])
            self._video_rows[vid] = (int(pks[s]), s, e - s)
            if not alive[s]:
                self._dead.add(vid)
            else:
                key = hashlib.sha256(self._codes(s, e).tobytes()).digest()
                self._by_digest[(key, int(pks[s]))] = vid
        self._next_video = max(self._video_rows, default=-1) + 1

    def _codes(self, start: int, end: int) -> np.ndarray:
        rows = np.arange(start, end)
        return self.frames.words(rows).view(np.uint8).reshape(-1, 32)

    # building and changing

    def filled(self, keys: Sequence[Any], pks: np.ndarray, banks: np.ndarray) -> FrameIndex:
        counts = [len(k) for k in keys]
        codes = np.concatenate([k.codes for k in keys]) if keys else np.empty((0, 32), np.uint8)
        times = np.concatenate([k.times for k in keys]) if keys else np.empty(0)
        videos = np.repeat(np.arange(len(keys), dtype=np.int64), counts)
        frames = HammingIndex.build(
            codes, np.repeat(pks, counts), np.repeat(banks, counts), design_threshold=31
        )
        return FrameIndex(frames, times, videos)

    def add(self, key: FrameKey, pk: int, bank: int) -> bool:
        digest = (key.digest(), pk)
        if digest in self._by_digest or not len(key):
            return False
        vid = self._next_video
        self._next_video += 1
        start = len(self.rows)
        for code in key.codes:
            self.frames.append(code, pk, bank)
        self.times.extend(key.times)
        self.videos.extend(np.full(len(key), vid, np.int64))
        self._video_rows[vid] = (pk, start, len(key))
        self._by_digest[digest] = vid
        return True

    def remove(self, key: FrameKey, pk: int) -> int:
        vid = self._by_digest.pop((key.digest(), pk), None)
        if vid is None:
            return 0
        _, start, count = self._video_rows[vid]
        self.rows.kill(np.arange(start, start + count))
        self._dead.add(vid)
        return 1

    def compact(self) -> FrameIndex:
        pks, banks, alive = self.rows.all()
        words = np.concatenate([self.frames.base, self.frames.tail.array])[alive]
        # Renumber the live videos 0, 1, ... in row order.
        _, videos = np.unique(self.videos.array[alive], return_inverse=True)
        frames = HammingIndex.build(
            words.view(np.uint8).reshape(-1, 32), pks[alive], banks[alive], design_threshold=31
        )
        return FrameIndex(frames, self.times.array[alive], videos.astype(np.int64))

    @property
    def tail_size(self) -> int:
        return self.frames.tail_size

    def __len__(self) -> int:
        return len(self._video_rows) - len(self._dead)

    @property
    def nbytes(self) -> int:
        return int(self.frames.nbytes + self.times.array.nbytes + self.videos.array.nbytes)

    def save(self, out: Writer) -> dict[str, Any]:
        if self.tail_size:
            raise ValueError("compact the frame index before saving it")
        info = self.frames.save(out)
        out.array("times.npy", self.times.array)
        out.array("videos.npy", self.videos.array)
        return info

    @classmethod
    def load(cls, info: dict[str, Any], files: Reader, rows: Rows) -> FrameIndex:
        n = len(rows)
        frames = HammingIndex.load(info, files, rows)
        return cls(
            frames,
            files.array("times.npy", np.float64, (n,)),
            files.array("videos.npy", np.int64, (n,)),
        )

    # searching

    def search(self, queries: Sequence[Any], threshold: int) -> list[Hit]:
        return self.search_in(queries, SearchLimits.at(threshold))

    def search_in(self, queries: Sequence[Any], limits: SearchLimits) -> list[Hit]:
        """``queries`` are :class:`FrameKey` (a still: one frame). Every query's frames are
        searched at once; the hits are then scored per (query, listed video)."""
        asked = [(n, q) for n, q in enumerate(queries) if len(q)]
        if not asked or not len(self):
            return []
        sizes = np.array([len(q) for _, q in asked])
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        codes = np.concatenate([q.codes for _, q in asked])
        frame, rows, dist = self.frames.within_rows(codes, limits.searched_at)
        if not len(rows):
            return []
        _, banks, _ = self.rows.lookup(rows)
        each_bank, at = np.unique(banks, return_inverse=True)
        keep = dist <= np.array([limits.limit(int(b)) for b in each_bank])[at]
        frame, rows, dist, banks = frame[keep], rows[keep], dist[keep], banks[keep]
        asker = np.searchsorted(starts, frame, side="right") - 1  # which query each frame is of
        vids = self.videos.array[rows]
        pairs = asker * (int(vids.max(initial=0)) + 1) + vids
        out = []
        for pair in np.unique(pairs).tolist():
            mine = pairs == pair
            k, vid = int(asker[mine][0]), int(vids[mine][0])
            number, query = asked[k]
            pk, _, count = self._video_rows[vid]
            bank = int(banks[mine][0])
            q_frames = np.unique(frame[mine]) - starts[k]
            l_rows = np.unique(rows[mine])
            query_pct = 100.0 * len(q_frames) / len(query)
            compared_pct = 100.0 * len(l_rows) / count
            settings = limits.settings.get(bank, {})
            if query_pct < settings.get("vpdq_query_percent", QUERY_PERCENT):
                continue
            if compared_pct < settings.get("vpdq_compared_percent", COMPARED_PERCENT):
                continue
            found = {
                "query_match_percent": round(query_pct, 1),
                "compared_match_percent": round(compared_pct, 1),
                "query_ranges": _ranges(query.times[q_frames]),
                "listed_ranges": _ranges(self.times.array[l_rows]),
            }
            out.append(Hit(number, pk, bank, int(dist[mine].min()), found))
        return out


def _ranges(times: np.ndarray) -> list[list[float]]:
    """Sorted times merged into ``[start, end]`` runs (gaps under RANGE_GAP joined)."""
    times = np.sort(times)
    out: list[list[float]] = []
    for t in times.tolist():
        if out and t - out[-1][1] <= RANGE_GAP:
            out[-1][1] = round(t, 3)
        else:
            out.append([round(t, 3), round(t, 3)])
    return out
