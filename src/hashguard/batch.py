"""Hashing many files: walking directories, and spreading the work over processes."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from hashguard.content import ContentSignals, content_source, hash_content
from hashguard.errors import MediaError
from hashguard.media.files import read_file
from hashguard.media.image import DecodeLimits
from hashguard.media.video import DEFAULT_VIDEO, VideoOptions

__all__ = ["hash_paths", "iter_paths", "read_file"]


def iter_paths(args: Iterable[str]) -> Iterator[Path]:
    """Files named, files under directories named (sorted, recursive); ``-`` reads paths from
    standard input, one per line."""
    for arg in args:
        if arg == "-":
            yield from iter_paths(line.strip() for line in sys.stdin if line.strip())
            continue
        path = Path(arg)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    yield Path(root) / name
        else:
            yield path


def _hash_path(
    job: tuple[Path, DecodeLimits, bool, VideoOptions],
) -> tuple[Path, ContentSignals | str]:
    path, limits, exact, video = job
    try:
        source = content_source(path, limits, video.limits)
        return path, hash_content(source, limits, exact_orientations=exact, video=video)
    except MediaError as e:
        return path, e.message


def hash_paths(
    paths: Iterable[Path],
    limits: DecodeLimits,
    jobs: int = 1,
    *,
    exact_orientations: bool = False,
    video: VideoOptions = DEFAULT_VIDEO,
) -> Iterator[tuple[Path, ContentSignals | str]]:
    """(path, signals) or (path, error message) for each path, in order. A video is decoded
    from its file, never read whole."""
    work = ((p, limits, exact_orientations, video) for p in paths)
    if jobs <= 1:
        yield from map(_hash_path, work)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        yield from pool.map(_hash_path, work, chunksize=8)
