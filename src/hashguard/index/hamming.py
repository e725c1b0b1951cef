"""An exact Hamming-radius index for 256-bit PDQ hashes: multi-index hashing in numpy.

Each hash is cut into ``m`` disjoint chunks of about 256/m bits. If two hashes are within
``t`` bits, then by the pigeonhole principle some chunk of theirs differs in at most
``floor(t / m)`` bits. So a query looks up, in each chunk's table, every chunk value within
that radius of its own, and checks the full distance of only the hashes found there. No match
within ``t`` is ever missed; the tables only decide how much work is done.

Each chunk's table is a compressed sparse row layout: ``offsets[v] .. offsets[v + 1]`` is the
run of row numbers whose chunk equals ``v``, in one flat ``order`` array. That is 4 bytes per
hash per chunk plus 4 bytes per table slot, against 50+ bytes per hash and chunk for a hash
map (faiss's IndexBinaryMultiHash), and every lookup is an array gather that numpy does for a
whole query (or a batch of queries) at once.

The number of chunks is chosen from the size: more bits per chunk means fewer candidates but
more values to probe; tables are kept at most about four times as many slots as hashes. Small
sets are scanned directly. Rows added after the tables were built sit in a scanned tail until
the next :meth:`HammingIndex.compact`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from itertools import combinations
from typing import Any

import numpy as np

from hashguard.errors import SnapshotDamaged
from hashguard.index.base import Hit, Reader, SignalIndex, Writer
from hashguard.index.rows import Growable, Rows

WORDS = 4  # 256 bits as four uint64
BITS = 256
SCAN_BELOW = 20_000  # hashes; below this a direct scan beats the tables


@lru_cache(maxsize=64)
def flip_masks(bits: int, radius: int) -> np.ndarray:
    """Every ``bits``-bit mask with at most ``radius`` bits set."""
    masks = [0]
    for r in range(1, min(radius, bits) + 1):
        masks.extend(sum(1 << i for i in combo) for combo in combinations(range(bits), r))
    return np.array(masks, dtype=np.uint32)


def chunk_layout(m: int) -> list[tuple[int, int]]:
    """(start bit, width) of each of ``m`` near-equal chunks."""
    base, extra = divmod(BITS, m)
    layout, start = [], 0
    for j in range(m):
        width = base + (1 if j < extra else 0)
        layout.append((start, width))
        start += width
    return layout


def estimated_cost(n: int, m: int, threshold: int) -> float:
    """Random memory reads per query: table probes plus candidates checked."""
    radius = threshold // m
    cost = 0.0
    for _, width in chunk_layout(m):
        probes = sum(math.comb(width, k) for k in range(radius + 1))
        cost += probes * (1 + n / 2**width)
    return cost


def choose_chunks(n: int, threshold: int) -> int:
    """The chunk count with the least estimated work, tables at most ~4 slots per hash."""
    max_width = max(8, min(26, math.ceil(math.log2(max(n, 2))) + 2))
    candidates = [m for m in range(8, 65) if math.ceil(BITS / m) <= max_width]
    return min(candidates, key=lambda m: estimated_cost(n, m, threshold))


def as_words(codes: np.ndarray) -> np.ndarray:
    """(n, 32) uint8 -> (n, 4) uint64 (any fixed bit layout works for Hamming distance)."""
    codes = np.ascontiguousarray(codes, dtype=np.uint8).reshape(-1, 32)
    return codes.view(np.uint64).reshape(-1, WORDS)


def extract(words: np.ndarray, start: int, width: int) -> np.ndarray:
    """Bits ``start .. start + width`` of each row, as uint32."""
    k, off = divmod(start, 64)
    v = words[:, k] >> np.uint64(off)
    if off + width > 64:
        v = v | (words[:, k + 1] << np.uint64(64 - off))
    return (v & np.uint64((1 << width) - 1)).astype(np.uint32)


def distances(words: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Hamming distance of each row of ``words`` to ``query`` (one row, or one per row)."""
    c = np.bitwise_count(words ^ query)  # uint8 per word, at most 64
    # Column adds are several times faster than .sum(axis=1) on narrow rows; pairs fit uint8.
    out: np.ndarray = (c[:, 0] + c[:, 1]).astype(np.int32) + (c[:, 2] + c[:, 3])
    return out


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + l)`` for each pair, without a Python loop."""
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    ends = np.cumsum(lengths)
    shift = np.repeat(starts.astype(np.int64) - (ends - lengths), lengths)
    return shift + np.arange(total, dtype=np.int64)


class Tables:
    """The per-chunk lookup tables over a fixed set of rows (built once, read-only)."""

    def __init__(self, m: int, offsets: np.ndarray, order: np.ndarray) -> None:
        self.m = m
        self.layout = chunk_layout(m)
        self.offsets = offsets  # all chunks' tables end to end, each len 2**width + 1
        self.order = order  # row numbers, chunk after chunk
        bases, at = [], 0
        for _, width in self.layout:
            bases.append(at)
            at += 2**width + 1
        self.bases = np.array(bases, dtype=np.int64)
        self._probe_cache: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    @classmethod
    def build(cls, words: np.ndarray, m: int) -> Tables:
        n = len(words)
        dtype = np.uint32 if m * n < 2**32 else np.uint64
        offsets, order = [], []
        for j, (start, width) in enumerate(chunk_layout(m)):
            values = extract(words, start, width)
            table = np.empty(2**width + 1, dtype=dtype)
            table[0] = j * n
            np.cumsum(np.bincount(values, minlength=2**width), out=table[1:])
            table[1:] += dtype(j * n)
            offsets.append(table)
            order.append(np.argsort(values, kind="stable").astype(np.uint32))
        return cls(m, np.concatenate(offsets), np.concatenate(order))

    def check(self, n: int) -> None:
        """Each chunk's table spans exactly its ``n`` rows (a few reads: a loaded snapshot's
        digests vouch for the rest); else :class:`SnapshotDamaged`."""
        offsets = self.offsets
        size = sum(2**width + 1 for _, width in self.layout)
        if offsets.ndim != 1 or len(offsets) != size or offsets.dtype not in (np.uint32, np.uint64):
            raise SnapshotDamaged(f"offsets.npy: {offsets.dtype} {offsets.shape}")
        for j, (_, width) in enumerate(self.layout):
            start = int(self.bases[j])
            if int(offsets[start]) != j * n or int(offsets[start + 2**width]) != (j + 1) * n:
                raise SnapshotDamaged(f"offsets.npy: chunk {j} does not span its rows")

    def _probes(self, radius: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For every probe of one query: its chunk, its flip mask, its table base."""
        if radius not in self._probe_cache:
            chunk, mask, base = [], [], []
            for j, (_, width) in enumerate(self.layout):
                masks = flip_masks(width, radius)
                chunk.append(np.full(len(masks), j, dtype=np.int64))
                mask.append(masks)
                base.append(np.full(len(masks), self.bases[j], dtype=np.int64))
            self._probe_cache[radius] = (
                np.concatenate(chunk),
                np.concatenate(mask),
                np.concatenate(base),
            )
        return self._probe_cache[radius]

    def candidates(self, queries: np.ndarray, threshold: int) -> tuple[np.ndarray, np.ndarray]:
        """(query number, row) pairs that may lie within ``threshold``; a superset of hits."""
        chunk, mask, base = self._probes(threshold // self.m)
        qchunks = self._chunks(queries)
        slots = base + (qchunks[:, chunk] ^ mask)  # (q, probes)
        starts = self.offsets[slots].ravel()
        lengths = (self.offsets[slots + 1].ravel() - starts).astype(np.int64)
        rows = self.order[_ranges(starts, lengths)]
        query_of_slot = np.repeat(np.arange(len(queries)), slots.shape[1])
        return np.repeat(query_of_slot, lengths), rows

    def _chunks(self, queries: np.ndarray) -> np.ndarray:
        """(q, m) chunk values of each query."""
        if len(queries) > 32:
            return np.stack([extract(queries, s, w) for s, w in self.layout], axis=1)
        # For a few queries plain integers are cheaper than a dozen tiny numpy calls. The
        # little-endian integer of the 32 bytes has word k's bit b at 64k + b, as extract.
        out = np.empty((len(queries), self.m), dtype=np.uint32)
        for i, row in enumerate(queries):
            value = int.from_bytes(row.tobytes(), "little")
            out[i] = [(value >> s) & ((1 << w) - 1) for s, w in self.layout]
        return out

    @property
    def nbytes(self) -> int:
        return int(self.offsets.nbytes + self.order.nbytes)


class HammingIndex(SignalIndex):
    """Every row within ``threshold`` bits of a query, never missing one.

    ``add`` appends to a scanned tail, ``remove`` clears a row's live flag; ``compact``
    rebuilds the tables over every live row. Both are cheap enough to follow a change log.
    """

    kind = "hamming"

    def __init__(
        self,
        words: np.ndarray | None = None,
        rows: Rows | None = None,
        tables: Tables | None = None,
        *,
        design_threshold: int = 31,
    ) -> None:
        self.base = np.empty((0, WORDS), np.uint64) if words is None else words
        self.rows = rows or Rows(np.empty(0, np.int64), np.empty(0, np.int32))
        self.tables = tables
        self.tail = Growable(np.uint64, (WORDS,))
        # Each hash in the tail, to its rows there: the change log adds and retracts by
        # exact hash, and a scan of a 50,000-row tail per change costs ~0.3 ms.
        self._tail_rows: dict[bytes, list[int]] = {}
        self.design_threshold = design_threshold

    @classmethod
    def build(
        cls, codes: np.ndarray, pks: np.ndarray, banks: np.ndarray, *, design_threshold: int = 31
    ) -> HammingIndex:
        words = as_words(codes).copy()
        tables = None
        if len(words) >= SCAN_BELOW:
            tables = Tables.build(words, choose_chunks(len(words), design_threshold))
        rows = Rows(np.asarray(pks, np.int64), np.asarray(banks, np.int32))
        return cls(words, rows, tables, design_threshold=design_threshold)

    def filled(self, keys: Sequence[Any], pks: np.ndarray, banks: np.ndarray) -> HammingIndex:
        codes = np.frombuffer(b"".join(keys), np.uint8).reshape(-1, BITS // 8)
        return HammingIndex.build(codes, pks, banks, design_threshold=self.design_threshold)

    def __len__(self) -> int:
        return self.rows.live_count()

    @property
    def tail_size(self) -> int:
        return self.tail.n

    def search(self, queries: Sequence[Any], threshold: int) -> list[Hit]:
        """``queries`` are 32-byte hashes."""
        codes = np.frombuffer(b"".join(queries), np.uint8).reshape(len(queries), -1)
        qn, pks, banks, dist = self.within(codes, threshold)
        return list(map(Hit, qn.tolist(), pks.tolist(), banks.tolist(), dist.tolist()))

    def within(
        self, queries: np.ndarray, threshold: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Live rows within ``threshold`` of any query: (query number, pk, bank, distance)."""
        qn, rows, d = self.within_rows(queries, threshold, dead=True)
        pks, banks, alive = self.rows.lookup(rows)
        return qn[alive], pks[alive], banks[alive], d[alive]

    def within_rows(
        self, queries: np.ndarray, threshold: int, *, dead: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows within ``threshold`` of any query, live ones only unless ``dead``: (query
        number, row, distance)."""
        q = as_words(queries)
        found_q, found_rows = [], []
        if self.tables is not None:
            cq, crow = self.tables.candidates(q, threshold)
            found_q.append(cq)
            found_rows.append(crow.astype(np.int64))
        elif len(self.base):
            found_q.append(np.repeat(np.arange(len(q)), len(self.base)))
            found_rows.append(np.tile(np.arange(len(self.base)), len(q)))
        if self.tail.n:
            found_q.append(np.repeat(np.arange(len(q)), self.tail.n))
            found_rows.append(np.tile(np.arange(self.tail.n) + len(self.base), len(q)))
        if not found_q:
            empty = np.empty(0, np.int64)
            return empty, empty, empty.astype(np.int32)
        qn = np.concatenate(found_q)
        rows = np.concatenate(found_rows)
        d = distances(self.words(rows), q[0] if len(q) == 1 else q[qn])
        near = d <= threshold
        qn, rows, d = qn[near], rows[near], d[near]
        # A row found through several chunks appears several times: keep one.
        key = qn * (len(self.base) + self.tail.n) + rows
        _, first = np.unique(key, return_index=True)
        qn, rows, d = qn[first], rows[first], d[first]
        if dead:
            return qn, rows, d
        _, _, alive = self.rows.lookup(rows)
        return qn[alive], rows[alive], d[alive]

    def words(self, rows: np.ndarray) -> np.ndarray:
        """The hashes of ``rows`` (base or tail), as (n, 4) uint64."""
        if not self.tail.n:
            return np.asarray(self.base[rows])
        out = np.empty((len(rows), WORDS), np.uint64)
        in_base = rows < len(self.base)
        out[in_base] = self.base[rows[in_base]]
        out[~in_base] = self.tail.array[rows[~in_base] - len(self.base)]
        return out

    def _exact_rows(self, code: np.ndarray) -> np.ndarray:
        """Row numbers (live or dead) holding exactly this hash."""
        q = as_words(code)
        rows = []
        if self.tables is not None:
            _, crow = self.tables.candidates(q, 0)
            rows.append(crow.astype(np.int64))
        else:
            rows.append(np.arange(len(self.base)))
        tail = self._tail_rows.get(np.ascontiguousarray(code, np.uint8).tobytes(), [])
        rows.append(np.asarray(tail, np.int64) + len(self.base))
        cand = np.concatenate(rows)
        # An exact copy turns up once per chunk table.
        return np.unique(cand[distances(self.words(cand), q[0]) == 0])

    def add(self, key: bytes | np.ndarray, pk: int, bank: int) -> bool:
        """Add one row; adding a (hash, entry) that is already live does nothing."""
        code = _code(key)
        if len(self.rows.live_of(self._exact_rows(code), pk)):
            return False
        self.append(code, pk, bank)
        return True

    def add_all(self, rows: Sequence[tuple[Any, int, int]]) -> int:
        """Like :meth:`add` each, with one probe of the tables for all: a follower round
        applies every add committed in the last ROUND_GAP, ~0.25 ms each one at a time."""
        if len(rows) < 2:
            return super().add_all(rows)
        codes = np.stack([_code(key) for key, _, _ in rows])
        q = as_words(codes)
        if self.tables is not None:
            qn, cand = self.tables.candidates(q, 0)
            cand = cand.astype(np.int64)
        else:
            qn = np.repeat(np.arange(len(q)), len(self.base))
            cand = np.tile(np.arange(len(self.base)), len(q))
        same = distances(self.base[cand], q[qn]) == 0 if len(cand) else np.zeros(0, bool)
        qn, cand = qn[same], cand[same]
        added = 0
        for i, (_, pk, bank) in enumerate(rows):
            # The tail is looked up afresh for each: it holds the batch's earlier rows.
            tail = self._tail_rows.get(codes[i].tobytes(), [])
            held = np.concatenate([cand[qn == i], np.asarray(tail, np.int64) + len(self.base)])
            if len(self.rows.live_of(held, pk)):
                continue
            self.append(codes[i], pk, bank)
            added += 1
        return added

    def append(self, code: np.ndarray, pk: int, bank: int) -> None:
        """Add one row to the tail, unchecked: :meth:`add` checks for a live copy first."""
        self._tail_rows.setdefault(np.ascontiguousarray(code, np.uint8).tobytes(), []).append(
            self.tail.n
        )
        self.tail.extend(as_words(code))
        self.rows.append(np.array([pk], np.int64), np.array([bank], np.int32))

    def remove(self, key: bytes | np.ndarray, pk: int) -> int:
        """Retract the rows of entry ``pk`` holding this hash; returns how many."""
        code = _code(key)
        return self.rows.kill_entry(self._exact_rows(code), pk)

    def compact(self) -> HammingIndex:
        """A new index with tables over every live row (the tail folded in, the dead dropped)."""
        words = np.concatenate([self.base, self.tail.array])
        pks, banks, alive = self.rows.all()
        codes = words[alive].view(np.uint8).reshape(-1, 32)
        return HammingIndex.build(
            codes, pks[alive], banks[alive], design_threshold=self.design_threshold
        )

    def save(self, out: Writer) -> dict[str, Any]:
        out.array("words.npy", self.base)
        info: dict[str, Any] = {"design_threshold": self.design_threshold}
        if self.tables is not None:
            out.array("offsets.npy", self.tables.offsets)
            out.array("order.npy", self.tables.order)
            info["chunks"] = self.tables.m
        return info

    @classmethod
    def load(cls, info: dict[str, Any], files: Reader, rows: Rows) -> HammingIndex:
        n = len(rows)
        words = files.array("words.npy", np.uint64, (n, WORDS))
        tables = None
        if "chunks" in info:
            m = int(info["chunks"])
            tables = Tables(
                m, files.array("offsets.npy", None), files.array("order.npy", np.uint32, (m * n,))
            )
            tables.check(n)
        return cls(words, rows, tables, design_threshold=int(info["design_threshold"]))

    @property
    def nbytes(self) -> int:
        tables = self.tables.nbytes if self.tables is not None else 0
        rows = self.rows.base_pks.nbytes + self.rows.base_banks.nbytes + self.rows.base_alive.nbytes
        return int(self.base.nbytes + tables + rows + self.tail.array.nbytes)


def _code(key: bytes | np.ndarray) -> np.ndarray:
    return np.frombuffer(key, np.uint8) if isinstance(key, bytes) else key
