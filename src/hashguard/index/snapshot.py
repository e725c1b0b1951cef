"""Index snapshots on disk: numpy arrays plus a manifest naming the store and the sequence
number they reflect, and every file's size and digest.

Arrays are memory-mapped on load, so a process is ready in milliseconds and several worker
processes share one copy in the page cache. Only the live flags are copied (they change).
A snapshot is written to a temporary directory and renamed into place, so a reader never
sees half of one; writers take turns through a lock file beside it, and readers hold the
same lock shared while they check and map one.

A snapshot that is not as it was written (a file cut short, overwritten in place, missing,
a manifest that does not parse or whose own digest is wrong) raises
:class:`~hashguard.errors.SnapshotDamaged`, never a crash and never a half-right index: the
caller rebuilds from the store. See :mod:`hashguard.index.integrity` for what is checked
when, and what it costs.
"""

from __future__ import annotations

import fcntl
import json
import logging
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hashguard.errors import SnapshotDamaged
from hashguard.index import integrity
from hashguard.index.exact import ExactIndex
from hashguard.index.hamming import WORDS, HammingIndex, Tables
from hashguard.index.keyfilter import KeyFilter
from hashguard.index.keyword import KeywordIndex
from hashguard.index.rows import Rows

log = logging.getLogger(__name__)

FORMAT = 3  # 2: exact indexes keep a key filter; 3: files' sizes and digests

Indexes = dict[str, ExactIndex | HammingIndex | KeywordIndex]

# What a damaged file can make numpy, json or our constructors raise.
_DAMAGE = (
    OSError, ValueError, KeyError, TypeError, IndexError, EOFError, OverflowError, RecursionError
)  # fmt: skip


@dataclass(frozen=True)
class Manifest:
    store_id: str
    seq: int
    types: dict[str, dict[str, Any]]
    files: dict[str, dict[str, Any]]  # file name -> {"bytes": size, "sha256": hex digest}
    sha256: str  # of the rest of the manifest


@contextmanager
def _locked(directory: Path, mode: int) -> Iterator[None]:
    """The lock beside ``directory``: exclusive to write, shared to read. A reader that may
    not create the lock file reads without it (a writer renames whole directories anyway)."""
    try:
        if mode == fcntl.LOCK_EX:
            directory.parent.mkdir(parents=True, exist_ok=True)
        lock = open(directory.parent / f".{directory.name}.lock", "a")  # noqa: SIM115
    except OSError:
        if mode == fcntl.LOCK_EX:
            raise
        yield
        return
    with lock:
        fcntl.flock(lock, mode)
        yield


def save(directory: Path, store_id: str, seq: int, indexes: Indexes) -> None:
    """Write compacted indexes (no tail) as the snapshot at ``seq``.

    Processes sharing the directory (workers, replicas on one host) take turns; one that
    finds a whole snapshot at least as new as its own already in place leaves it be. A
    damaged one is replaced, whatever its sequence number says.
    """
    with _locked(directory, fcntl.LOCK_EX):
        try:
            current = read_manifest(directory)
            if (
                current is not None
                and current.store_id == store_id
                and current.seq >= seq
                and set(current.types) == set(indexes)
            ):
                _open(directory, current)
                return
        except SnapshotDamaged as e:
            log.warning("index snapshot %s is damaged (%s): replacing it", directory, e)
        _write(directory, store_id, seq, indexes)


def _write(directory: Path, store_id: str, seq: int, indexes: Indexes) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=".snapshot-", dir=directory.parent))
    types: dict[str, dict[str, Any]] = {}

    def put(file: str, array: np.ndarray) -> None:
        np.save(tmp / file, array)

    for name, index in indexes.items():
        assert index.tail_size == 0, "compact before saving"
        put(f"{name}.pks.npy", index.rows.base_pks)
        put(f"{name}.banks.npy", index.rows.base_banks)
        put(f"{name}.alive.npy", index.rows.base_alive)
        if isinstance(index, HammingIndex):
            put(f"{name}.words.npy", index.base)
            info: dict[str, Any] = {"kind": "hamming", "design_threshold": index.design_threshold}
            if index.tables is not None:
                put(f"{name}.offsets.npy", index.tables.offsets)
                put(f"{name}.order.npy", index.tables.order)
                info["chunks"] = index.tables.m
            types[name] = info
        elif isinstance(index, KeywordIndex):
            # Keyword lists are small text: one JSON array of the rows' values.
            (tmp / f"{name}.values.json").write_text(json.dumps(index.values))
            types[name] = {"kind": "keyword"}
        else:
            put(f"{name}.keys.npy", index.keys)
            if index.filter is not None:
                put(f"{name}.filter.npy", index.filter.array)
            types[name] = {"kind": "exact", "width": index.width}
    names: dict[str, dict[str, Any]] = {p.name: {} for p in sorted(tmp.iterdir())}
    found = integrity.identities(tmp, names)
    hashed = integrity.digests(tmp, names)
    files = {name: {"bytes": found[name][0], "sha256": hashed[name]} for name in names}
    body = {"format": FORMAT, "store_id": store_id, "seq": seq, "types": types, "files": files}
    digest = integrity.json_sha256(body)
    (tmp / "manifest.json").write_text(json.dumps({**body, "sha256": digest}, indent=1))
    integrity.stamp(tmp, digest, found)  # the writer made the digests: no need to hash again
    old = directory.with_name(directory.name + ".old")
    shutil.rmtree(old, ignore_errors=True)  # left by a process killed mid-swap
    if directory.exists():
        directory.rename(old)
    tmp.rename(directory)
    shutil.rmtree(old, ignore_errors=True)


def read_manifest(directory: Path) -> Manifest | None:
    """The manifest; None if there is no snapshot or it is of another format (an older
    version's: rebuilt on the first start after an upgrade). Raises :class:`SnapshotDamaged`
    if there is one that does not parse or is not as written."""
    try:
        text = (directory / "manifest.json").read_text()
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:  # ValueError: not UTF-8
        raise SnapshotDamaged(f"manifest.json: {e}") from None
    try:
        raw = json.loads(text)
        if not isinstance(raw, dict):
            raise ValueError("not a JSON object")
        if raw.get("format") != FORMAT:
            log.info(
                "index snapshot %s is of format %r, not %d", directory, raw.get("format"), FORMAT
            )
            return None
        body = {k: v for k, v in raw.items() if k != "sha256"}
        if integrity.json_sha256(body) != raw.get("sha256"):
            raise ValueError("its SHA-256 is not that of its content")
        files = raw["files"]
        for info in files.values():
            if not isinstance(info["bytes"], int) or not isinstance(info["sha256"], str):
                raise ValueError("a file without its size and digest")
        return Manifest(
            str(raw["store_id"]), int(raw["seq"]), dict(raw["types"]), files, raw["sha256"]
        )
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as e:
        raise SnapshotDamaged(f"manifest.json: {e}") from None


def load(directory: Path) -> tuple[Manifest, Indexes] | None:
    """The snapshot in ``directory``, checked and mapped; None if there is none (or one of
    another format). Raises :class:`SnapshotDamaged` if it is not whole."""
    if not directory.is_dir():
        return None
    with _locked(directory, fcntl.LOCK_SH):
        manifest = read_manifest(directory)
        if manifest is None:
            return None
        return manifest, _open(directory, manifest)


def _open(directory: Path, manifest: Manifest) -> Indexes:
    """Check the files (sizes always; digests unless found whole before, unchanged since),
    map them and check their shapes."""
    files = manifest.files
    integrity.check_sizes(directory, files)
    before = None
    if not integrity.stamped(directory, manifest.sha256, files):
        before = integrity.identities(directory, files)
        integrity.check_digests(directory, files)
    try:
        indexes = _map(directory, manifest)
    except SnapshotDamaged:
        raise
    except _DAMAGE as e:
        raise SnapshotDamaged(f"{type(e).__name__}: {e}") from None
    if before is not None:
        integrity.stamp(directory, manifest.sha256, before)
    return indexes


def _map(directory: Path, manifest: Manifest) -> Indexes:
    def array(file: str, dtype: Any, shape: tuple[int, ...] | None = None) -> np.ndarray:
        if file not in manifest.files:
            raise SnapshotDamaged(f"{file}: not in the manifest")
        # A plain ndarray: an np.memmap runs Python code on every slice, a tenth of a PDQ
        # lookup's time.
        found: np.ndarray = np.load(directory / file, mmap_mode="r").view(np.ndarray)
        if (dtype is not None and found.dtype != np.dtype(dtype)) or (
            shape is not None and found.shape != shape
        ):
            raise SnapshotDamaged(f"{file}: {found.dtype} {found.shape}, not {dtype} {shape}")
        return found

    out: Indexes = {}
    for name, info in manifest.types.items():
        pks = array(f"{name}.pks.npy", np.int64)
        n = len(pks)
        if pks.ndim != 1:
            raise SnapshotDamaged(f"{name}.pks.npy: {pks.ndim} dimensions")
        rows = Rows(
            pks,
            array(f"{name}.banks.npy", np.int32, (n,)),
            np.array(array(f"{name}.alive.npy", np.bool_, (n,))),  # a copy: it changes
        )
        if info["kind"] == "hamming":
            words = array(f"{name}.words.npy", np.uint64, (n, WORDS))
            tables = None
            if "chunks" in info:
                m = int(info["chunks"])
                tables = Tables(
                    m,
                    array(f"{name}.offsets.npy", None),
                    array(f"{name}.order.npy", np.uint32, (m * n,)),
                )
                _check_tables(name, tables, n)
            out[name] = HammingIndex(
                words, rows, tables, design_threshold=int(info["design_threshold"])
            )
        elif info["kind"] == "keyword":
            if f"{name}.values.json" not in manifest.files:
                raise SnapshotDamaged(f"{name}.values.json: not in the manifest")
            values = json.loads((directory / f"{name}.values.json").read_text())
            if not isinstance(values, list) or len(values) != n:
                raise SnapshotDamaged(f"{name}.values.json: not a list of {n} values")
            if not all(isinstance(v, str) for v in values):
                raise SnapshotDamaged(f"{name}.values.json: a value that is not text")
            out[name] = KeywordIndex(values, rows)
        elif info["kind"] == "exact":
            width = int(info["width"])
            keys = array(f"{name}.keys.npy", f"S{width}", (n,))
            key_filter = None
            if f"{name}.filter.npy" in manifest.files:
                key_filter = KeyFilter(array(f"{name}.filter.npy", np.uint8))
            out[name] = ExactIndex(width, keys, rows, key_filter)
        else:
            raise SnapshotDamaged(f"manifest.json: {name} is of unknown kind {info['kind']!r}")
    return out


def _check_tables(name: str, tables: Tables, n: int) -> None:
    """Each chunk's table spans exactly its n rows (a few reads; the digest vouches for
    the rest)."""
    offsets = tables.offsets
    size = sum(2**width + 1 for _, width in tables.layout)
    if offsets.ndim != 1 or len(offsets) != size or offsets.dtype not in (np.uint32, np.uint64):
        raise SnapshotDamaged(f"{name}.offsets.npy: {offsets.dtype} {offsets.shape}")
    for j, (_, width) in enumerate(tables.layout):
        start = int(tables.bases[j])
        if int(offsets[start]) != j * n or int(offsets[start + 2**width]) != (j + 1) * n:
            raise SnapshotDamaged(f"{name}.offsets.npy: chunk {j} does not span its rows")
