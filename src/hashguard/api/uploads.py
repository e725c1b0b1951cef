"""Uploads too large to hold in memory: a video is streamed to a temporary file as it
arrives (within ``max_video_bytes``) and decoded from there; any other content is read
into memory within ``max_upload_bytes``. What comes first tells which."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from hashguard.errors import TooLarge
from hashguard.media.video import looks_like_video

HEAD = 512  # bytes that tell a video container from other content


@dataclass
class Upload:
    """One uploaded item: its bytes, or the file a video was written to (deleted by
    :meth:`close`)."""

    data: bytes | None
    path: Path | None
    size: int

    @property
    def source(self) -> bytes | Path:
        return self.path if self.path is not None else (self.data or b"")

    def close(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)
            self.path = None


async def spool(chunks: AsyncIterator[bytes], limit: int, video_limit: int) -> Upload:
    """Read ``chunks``: into memory up to ``limit`` bytes, or, when they begin as a video,
    into a temporary file up to ``video_limit``. Over the limit: :class:`TooLarge`, and
    nothing is left behind."""
    head = b""
    rest: list[bytes] = []
    async for chunk in chunks:
        head += chunk
        if len(head) >= HEAD:
            break
    if not looks_like_video(head[:HEAD]):
        size = len(head)
        if size > limit:
            raise TooLarge(f"upload is larger than the limit of {limit} bytes")
        async for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise TooLarge(f"upload is larger than the limit of {limit} bytes")
            rest.append(chunk)
        data = head + b"".join(rest)
        return Upload(data, None, len(data))
    fd, name = tempfile.mkstemp(prefix="hashguard-upload-", suffix=".video")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(head)
            size = len(head)
            async for chunk in chunks:
                size += len(chunk)
                if size > video_limit:
                    raise TooLarge(
                        f"video upload is larger than the limit of {video_limit:,} bytes "
                        "(max_video_bytes)"
                    )
                f.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Upload(None, path, size)
