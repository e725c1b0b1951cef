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
from typing import TYPE_CHECKING, Any

import numpy as np

from hashguard.errors import SnapshotDamaged, UnknownSignalType
from hashguard.index import integrity
from hashguard.index.base import SignalIndex
from hashguard.index.rows import Rows

if TYPE_CHECKING:
    from hashguard.signals.registry import Registry

log = logging.getLogger(__name__)

FORMAT = 3  # 2: exact indexes keep a key filter; 3: files' sizes and digests

Indexes = dict[str, SignalIndex]

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
    for name, index in indexes.items():
        assert index.tail_size == 0, "compact before saving"
        out = _Out(tmp, name)
        out.array("pks.npy", index.rows.base_pks)
        out.array("banks.npy", index.rows.base_banks)
        out.array("alive.npy", index.rows.base_alive)
        types[name] = {"kind": index.kind, **index.save(out)}
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


def load(directory: Path, registry: Registry | None = None) -> tuple[Manifest, Indexes] | None:
    """The snapshot in ``directory``, checked and mapped by the indexes of ``registry``'s
    signal types; None if there is none, or one of another format or with a type not
    registered here. Raises :class:`SnapshotDamaged` if it is not whole."""
    if not directory.is_dir():
        return None
    with _locked(directory, fcntl.LOCK_SH):
        manifest = read_manifest(directory)
        if manifest is None:
            return None
        try:
            return manifest, _open(directory, manifest, registry)
        except UnknownSignalType as e:  # written by a process loading another plugin
            log.info("index snapshot %s is not for these signal types: %s", directory, e)
            return None


def _open(directory: Path, manifest: Manifest, registry: Registry | None = None) -> Indexes:
    """Check the files (sizes always; digests unless found whole before, unchanged since),
    map them and check their shapes."""
    files = manifest.files
    integrity.check_sizes(directory, files)
    before = None
    if not integrity.stamped(directory, manifest.sha256, files):
        before = integrity.identities(directory, files)
        integrity.check_digests(directory, files)
    try:
        if registry is None:
            from hashguard.signals.registry import shared_registry

            registry = shared_registry()
        indexes = _map(directory, manifest, registry)
    except SnapshotDamaged:
        raise
    except _DAMAGE as e:
        raise SnapshotDamaged(f"{type(e).__name__}: {e}") from None
    if before is not None:
        integrity.stamp(directory, manifest.sha256, before)
    return indexes


class _Out:
    """Where one index's files are written: ``<signal type>.<suffix>`` in the new snapshot."""

    def __init__(self, directory: Path, name: str) -> None:
        self.directory, self.name = directory, name

    def array(self, suffix: str, data: np.ndarray) -> None:
        np.save(self.directory / f"{self.name}.{suffix}", data)

    def text(self, suffix: str, data: str) -> None:
        (self.directory / f"{self.name}.{suffix}").write_text(data)


class _In:
    """One index's files in a checked snapshot."""

    def __init__(self, directory: Path, name: str, manifest: Manifest) -> None:
        self.directory, self.name, self.manifest = directory, name, manifest

    def has(self, suffix: str) -> bool:
        return f"{self.name}.{suffix}" in self.manifest.files

    def _path(self, suffix: str) -> Path:
        if not self.has(suffix):
            raise SnapshotDamaged(f"{self.name}.{suffix}: not in the manifest")
        return self.directory / f"{self.name}.{suffix}"

    def array(self, suffix: str, dtype: Any, shape: tuple[int, ...] | None = None) -> np.ndarray:
        # A plain ndarray: an np.memmap runs Python code on every slice, a tenth of a PDQ
        # lookup's time.
        found: np.ndarray = np.load(self._path(suffix), mmap_mode="r").view(np.ndarray)
        if (dtype is not None and found.dtype != np.dtype(dtype)) or (
            shape is not None and found.shape != shape
        ):
            raise SnapshotDamaged(
                f"{self.name}.{suffix}: {found.dtype} {found.shape}, not {dtype} {shape}"
            )
        return found

    def text(self, suffix: str) -> str:
        return self._path(suffix).read_text()


def _map(directory: Path, manifest: Manifest, registry: Registry) -> Indexes:
    out: Indexes = {}
    for name, info in manifest.types.items():
        files = _In(directory, name, manifest)
        pks = files.array("pks.npy", np.int64)
        n = len(pks)
        if pks.ndim != 1:
            raise SnapshotDamaged(f"{name}.pks.npy: {pks.ndim} dimensions")
        rows = Rows(
            pks,
            files.array("banks.npy", np.int32, (n,)),
            np.array(files.array("alive.npy", np.bool_, (n,))),  # a copy: it changes
        )
        index_type = type(registry.get(name).new_index())
        if info.get("kind") != index_type.kind:
            raise SnapshotDamaged(
                f"manifest.json: {name} is of kind {info.get('kind')!r}, not {index_type.kind!r}"
            )
        out[name] = index_type.load(info, files, rows)
    return out
