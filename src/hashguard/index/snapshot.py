"""Index snapshots on disk: numpy arrays plus a manifest naming the store and the sequence
number they reflect.

Arrays are memory-mapped on load, so a process is ready in milliseconds and several worker
processes share one copy in the page cache. Only the live flags are copied (they change).
A snapshot is written to a temporary directory and renamed into place, so a reader never
sees half of one.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hashguard.index.exact import ExactIndex
from hashguard.index.hamming import HammingIndex, Tables
from hashguard.index.keyfilter import KeyFilter
from hashguard.index.keyword import KeywordIndex
from hashguard.index.rows import Rows

FORMAT = 2  # 2: exact indexes keep a key filter


@dataclass(frozen=True)
class Manifest:
    store_id: str
    seq: int
    types: dict[str, dict[str, Any]]


def _save_rows(d: Path, name: str, rows: Rows) -> None:
    np.save(d / f"{name}.pks.npy", rows.base_pks)
    np.save(d / f"{name}.banks.npy", rows.base_banks)
    np.save(d / f"{name}.alive.npy", rows.base_alive)


def _mapped(path: Path) -> np.ndarray:
    """The array in ``path``, memory-mapped, as a plain ndarray: an ``np.memmap`` runs
    Python code on every slice, a tenth of a PDQ lookup's time."""
    array: np.ndarray = np.load(path, mmap_mode="r").view(np.ndarray)
    return array


def _load_rows(d: Path, name: str) -> Rows:
    return Rows(
        _mapped(d / f"{name}.pks.npy"),
        _mapped(d / f"{name}.banks.npy"),
        np.load(d / f"{name}.alive.npy"),
    )


def save(
    directory: Path,
    store_id: str,
    seq: int,
    indexes: dict[str, ExactIndex | HammingIndex | KeywordIndex],
) -> None:
    """Write compacted indexes (no tail) as the snapshot at ``seq``.

    Processes sharing the directory (workers, replicas on one host) take turns; one that
    finds a snapshot at least as new as its own already in place leaves it be.
    """
    directory.parent.mkdir(parents=True, exist_ok=True)
    with open(directory.parent / f".{directory.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        current = read_manifest(directory)
        if (
            current is not None
            and current.store_id == store_id
            and current.seq >= seq
            and set(current.types) == set(indexes)
        ):
            return
        _write(directory, store_id, seq, indexes)


def _write(
    directory: Path,
    store_id: str,
    seq: int,
    indexes: dict[str, ExactIndex | HammingIndex | KeywordIndex],
) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=".snapshot-", dir=directory.parent))
    types: dict[str, dict[str, Any]] = {}
    for name, index in indexes.items():
        assert index.tail_size == 0, "compact before saving"
        _save_rows(tmp, name, index.rows)
        if isinstance(index, HammingIndex):
            np.save(tmp / f"{name}.words.npy", index.base)
            info: dict[str, Any] = {"kind": "hamming", "design_threshold": index.design_threshold}
            if index.tables is not None:
                np.save(tmp / f"{name}.offsets.npy", index.tables.offsets)
                np.save(tmp / f"{name}.order.npy", index.tables.order)
                info["chunks"] = index.tables.m
            types[name] = info
        elif isinstance(index, KeywordIndex):
            # Keyword lists are small text: one JSON array of the rows' values.
            (tmp / f"{name}.values.json").write_text(json.dumps(index.values))
            types[name] = {"kind": "keyword"}
        else:
            np.save(tmp / f"{name}.keys.npy", index.keys)
            if index.filter is not None:
                np.save(tmp / f"{name}.filter.npy", index.filter.array)
            types[name] = {"kind": "exact", "width": index.width}
    manifest = {"format": FORMAT, "store_id": store_id, "seq": seq, "types": types}
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1))
    old = directory.with_name(directory.name + ".old")
    if directory.exists():
        directory.rename(old)
    tmp.rename(directory)
    shutil.rmtree(old, ignore_errors=True)


def read_manifest(directory: Path) -> Manifest | None:
    try:
        raw = json.loads((directory / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    if raw.get("format") != FORMAT:
        return None
    return Manifest(raw["store_id"], int(raw["seq"]), raw["types"])


def load(
    directory: Path, manifest: Manifest
) -> dict[str, ExactIndex | HammingIndex | KeywordIndex]:
    out: dict[str, ExactIndex | HammingIndex | KeywordIndex] = {}
    for name, info in manifest.types.items():
        rows = _load_rows(directory, name)
        if info["kind"] == "hamming":
            tables = None
            if "chunks" in info:
                tables = Tables(
                    int(info["chunks"]),
                    _mapped(directory / f"{name}.offsets.npy"),
                    _mapped(directory / f"{name}.order.npy"),
                )
            words = _mapped(directory / f"{name}.words.npy")
            out[name] = HammingIndex(
                words, rows, tables, design_threshold=int(info["design_threshold"])
            )
        elif info["kind"] == "keyword":
            values = json.loads((directory / f"{name}.values.json").read_text())
            out[name] = KeywordIndex(values, rows)
        else:
            keys = _mapped(directory / f"{name}.keys.npy")
            key_filter = _key_filter(directory / f"{name}.filter.npy")
            out[name] = ExactIndex(int(info["width"]), keys, rows, key_filter)
    return out


def _key_filter(path: Path) -> KeyFilter | None:
    """The saved filter; None (the index builds it again from its keys) if it is missing or
    damaged: a wrong filter would hide listed keys."""
    try:
        return KeyFilter(_mapped(path))
    except (OSError, ValueError):
        return None
