"""Videos in, RGB frames out: safely, within limits, timed by their presentation timestamps.

- Decoding is PyAV's (FFmpeg's libraries in the ``av`` wheel; no system FFmpeg needed).
- Only the container formats of :data:`CONTAINERS` are opened, and only from the file or
  bytes given: FFmpeg's other demuxers (HLS and concat playlists, which open further files
  or URLs; image sequences; raw devices) are never reached from an upload, and no protocol
  but the file itself is allowed.
- Only the video decoders of :data:`DECODERS` are used.
- Limits (:class:`VideoLimits`) are checked from the header before decoding (streams,
  resolution, duration) and while decoding (frames, wall-clock time): a header that lies
  is caught by the running counts.
- Rotation metadata (the display matrix) is applied, so a phone video hashes as it is seen.
- Frames are timed by their presentation timestamp, so variable frame rates are timed right;
  a frame with none is placed by its number and the average rate.
- :meth:`Video.frames` samples by time. Between samples it decodes only what later frames
  need (key and reference frames); in a clip whose key frames come at least every two
  sample intervals, only key frames are decoded (3.3% of the frames of the shared clips). It can
  also scale frames down as they are converted to RGB (swscale's area average).
"""

from __future__ import annotations

import io
import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from hashguard.errors import DecompressionBomb, MediaError, TooLarge

# FFmpeg demuxer names (as ``av.open(...).format.name`` reports them, comma-joined).
CONTAINERS = (
    "mov",
    "mp4",
    "m4a",
    "3gp",
    "3g2",
    "mj2",
    "matroska",
    "webm",
    "avi",
    "mpegts",
    "flv",
    "ogg",
)
# The video decoders hashguard uses (as PyAV names them): what phones, browsers and
# messengers produce. FFmpeg's many other decoders (screen codecs, game formats, lossless
# archival ones) are never reached from an upload.
DECODERS = (
    "h264", "hevc", "vp8", "vp9", "av1", "libdav1d", "libaom-av1", "mpeg4", "mpeg2video",
    "mpeg1video", "h263", "mjpeg", "theora",
)  # fmt: skip
# The first bytes of each of those containers, for telling a video from other content
# without handing it to FFmpeg.
_ISO_BOX = (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip")


# ISO base media brands of still images (AVIF, HEIF): Pillow's, not FFmpeg's.
_IMAGE_BRANDS = (
    b"avif",
    b"avis",
    b"heic",
    b"heix",
    b"heim",
    b"heis",
    b"hevc",
    b"hevx",
    b"mif1",
    b"msf1",
)


def looks_like_video(head: bytes) -> bool:
    """Whether the first bytes are those of a container :data:`CONTAINERS` names."""
    return (
        (head[4:8] in _ISO_BOX and not (head[4:8] == b"ftyp" and head[8:12] in _IMAGE_BRANDS))
        or head[:4] == b"\x1a\x45\xdf\xa3"  # Matroska, WebM (EBML)
        or (head[:4] == b"RIFF" and head[8:12] == b"AVI ")
        or head[:3] == b"FLV"
        or head[:4] == b"OggS"
        or (len(head) > 376 and head[0] == head[188] == head[376] == 0x47)  # MPEG-TS
    )


@dataclass(frozen=True)
class VideoLimits:
    max_bytes: int = 2 << 30  # a video upload or file
    max_seconds: float = 4 * 3600.0  # duration, from the header and from the timestamps
    max_pixels: int = 8192 * 4320  # one frame (8K)
    max_frames: int = 1_000_000  # frames decoded, over all passes
    max_streams: int = 32
    max_decode_seconds: float = 300.0  # wall-clock time decoding one video, all passes


DEFAULT_VIDEO_LIMITS = VideoLimits()

QUERY_EVERY = 1.0  # seconds between a query's sampled frames (signals/vpdq.py: why)
LIST_EVERY = 0.0  # between the frames of a video to list: every frame


@dataclass(frozen=True)
class VideoOptions:
    """How videos are hashed: the limits of decoding one, and how densely frames are sampled
    (seconds apart; 0: every frame) as a query and as content to list."""

    limits: VideoLimits = DEFAULT_VIDEO_LIMITS
    query_every: float = QUERY_EVERY
    list_every: float = LIST_EVERY


DEFAULT_VIDEO = VideoOptions()


@dataclass(frozen=True)
class VideoInfo:
    container: str
    codec: str
    width: int  # as displayed (after rotation)
    height: int
    rotation: int  # degrees counter-clockwise applied to the decoded frames
    duration: float  # seconds; 0.0 when neither the container nor the stream says
    fps: float  # the average frame rate; 0.0 when unknown


@dataclass(frozen=True)
class Frame:
    time: float  # presentation time, seconds from the first frame
    rgb: np.ndarray  # (height, width, 3) uint8, upright


Box = tuple[int, int, int, int]  # left, top, right, bottom


def _av() -> Any:
    import av  # imported on first use: image-only work never loads FFmpeg

    return av


class Video:
    """One video, opened and checked; :meth:`frames` may be called more than once (each call
    decodes anew), all calls sharing one frame count and one time budget."""

    def __init__(self, source: Path | bytes, limits: VideoLimits = DEFAULT_VIDEO_LIMITS) -> None:
        self.limits = limits
        self._source = source
        self._frames_decoded = 0
        self._started = time.monotonic()
        size = len(source) if isinstance(source, bytes) else source.stat().st_size
        if size == 0:
            raise MediaError("empty file (0 bytes)")
        if size > limits.max_bytes:
            raise TooLarge(f"video is {size:,} bytes; the limit is {limits.max_bytes:,}")
        with self._open() as container:
            self.info = self._check(container)
        self._keyframes: list[float] | None = None  # read when a sampling rate needs them

    # opening and checking

    def _open(self) -> Any:
        av = _av()
        source = io.BytesIO(self._source) if isinstance(self._source, bytes) else str(self._source)
        options = {"format_whitelist": ",".join(CONTAINERS), "protocol_whitelist": "file"}
        try:
            return av.open(source, "r", options=options, timeout=10.0)
        except (av.error.InvalidDataError, av.error.ValueError):  # ValueError: not allowed
            raise MediaError(
                "not a video hashguard reads (corrupt, or a container it does not open)"
            ) from None
        except av.FFmpegError as e:
            raise MediaError(f"cannot open the video: {_reason(e)}") from None

    def _check(self, container: Any) -> VideoInfo:
        limits = self.limits
        if len(container.streams) > limits.max_streams:
            raise MediaError(
                f"video has {len(container.streams)} streams; the limit is {limits.max_streams}"
            )
        if not container.streams.video:
            kinds = sorted({s.type for s in container.streams}) or ["no streams"]
            raise MediaError(f"no video stream in the file (it has: {', '.join(kinds)})")
        stream = container.streams.video[0]
        codec = stream.codec_context.name
        if codec not in DECODERS:
            raise MediaError(
                f"video codec {codec!r} is not one hashguard decodes (it decodes "
                f"{', '.join(DECODERS)})"
            )
        width, height = int(stream.codec_context.width), int(stream.codec_context.height)
        if width < 1 or height < 1:
            raise MediaError(f"video stream has no picture size ({width}x{height})")
        if width * height > limits.max_pixels:
            raise DecompressionBomb(
                f"video frames are {width}x{height} = {width * height:,} pixels; the limit is "
                f"{limits.max_pixels:,} (max_video_pixels)"
            )
        duration = _duration(container, stream)
        if duration > limits.max_seconds:
            raise TooLarge(
                f"video is {duration:,.0f} s long; the limit is {limits.max_seconds:,.0f} s "
                "(max_video_seconds)"
            )
        rotation = _first_rotation(container)
        if rotation % 180:
            width, height = height, width
        rate = stream.average_rate or stream.guessed_rate
        return VideoInfo(
            container=container.format.name,
            codec=stream.codec_context.name,
            width=width,
            height=height,
            rotation=rotation,
            duration=duration,
            fps=float(rate) if rate else 0.0,
        )

    def keyframe_times(self) -> list[float]:
        """Times of the video stream's key frames, read from the packets (no decoding),
        once."""
        if self._keyframes is None:
            with self._open() as container:
                self._keyframes = self._read_keyframes(container)
        return self._keyframes

    def _read_keyframes(self, container: Any) -> list[float]:
        stream = container.streams.video[0]
        base = stream.time_base or Fraction(1, 90_000)
        start = stream.start_time or 0
        found = []
        try:
            for packet in container.demux(stream):
                if packet.is_keyframe and packet.pts is not None:
                    found.append(float((packet.pts - start) * base))
                self._check_clock()
        except _av().FFmpegError:
            pass  # a damaged tail: decoding will report it
        return sorted(found)

    def _check_clock(self) -> None:
        if time.monotonic() - self._started > self.limits.max_decode_seconds:
            raise TooLarge(
                f"decoding the video took over {self.limits.max_decode_seconds:g} s "
                "(max_video_decode_seconds): refused"
            )

    # decoding

    def frames(
        self, every: float = 0.0, *, scale: int = 1, keyframes: bool = False
    ) -> Iterator[Frame]:
        """Upright RGB frames, one at least ``every`` seconds after the last (0: every frame),
        each side divided by ``scale``; with ``keyframes``, the key frames only."""
        av = _av()
        # Key frames alone serve where every sample time has one within ``every`` seconds
        # (they come at least every 2 x ``every``): then nothing else is decoded.
        only_keys = keyframes or (every > 0 and self._keys_within(2 * every))
        with self._open() as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            context = stream.codec_context
            context.skip_frame = "NONKEY" if only_keys else "DEFAULT"
            base = stream.time_base or Fraction(1, 90_000)
            start = stream.start_time or 0
            fps = self.info.fps or 30.0
            next_at = 0.0
            number = 0
            try:
                for packet in container.demux(stream):
                    if not only_keys and every > 0:
                        # Between samples only reference frames are needed (they feed later
                        # frames); the others are skipped undecoded.
                        t = _time(packet.pts, start, base, None)
                        soon = t is None or t >= next_at - 1.0 / fps
                        context.skip_frame = "DEFAULT" if soon else "NONREF"
                    for decoded in packet.decode():
                        self._count()
                        t = _time(decoded.pts, start, base, number / fps)
                        number += 1
                        assert t is not None
                        if t > self.limits.max_seconds:
                            raise TooLarge(
                                f"video runs past {self.limits.max_seconds:,.0f} s "
                                "(max_video_seconds)"
                            )
                        if every > 0 and t < next_at - 1e-6:
                            continue
                        next_at = t + every
                        yield Frame(t, self._picture(decoded, scale))
            except av.FFmpegError as e:
                if number == 0:
                    raise MediaError(f"truncated or corrupt video: {_reason(e)}") from None
                # A damaged tail after good frames: what was decoded stands (as FFmpeg's own
                # tools do); the hash covers the frames read.
        if number == 0:
            raise MediaError("truncated or corrupt video: no frame could be decoded")

    def _keys_within(self, gap: float) -> bool:
        keys = self.keyframe_times()
        return bool(keys) and _max_gap(keys, self.info.duration) <= gap

    def _count(self) -> None:
        self._frames_decoded += 1
        if self._frames_decoded > self.limits.max_frames:
            raise TooLarge(
                f"video has over {self.limits.max_frames:,} frames (max_video_frames): refused"
            )
        self._check_clock()

    def _picture(self, decoded: Any, scale: int) -> np.ndarray:
        if scale > 1:  # swscale's area average: the picture PDQ sees, at a fraction of the cost
            size = {"width": decoded.width // scale, "height": decoded.height // scale}
            rgb = decoded.to_ndarray(format="rgb24", interpolation="AREA", **size)
        else:
            rgb = decoded.to_ndarray(format="rgb24")
        if self.info.rotation:
            rgb = np.rot90(rgb, self.info.rotation // 90)
        return np.ascontiguousarray(rgb)


def _reason(e: Exception) -> str:
    return str(getattr(e, "strerror", None) or e).strip()


def _time(pts: int | None, start: int, base: Fraction, fallback: float | None) -> float | None:
    return float((pts - start) * base) if pts is not None else fallback


def _duration(container: Any, stream: Any) -> float:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return float(container.duration) / 1_000_000
    return 0.0


def _first_rotation(container: Any) -> int:
    """The display rotation (counter-clockwise degrees, a multiple of 90) of the first frame
    (FFmpeg attaches the stream's display matrix to each decoded frame); 0 if none decodes."""
    try:
        for decoded in container.decode(container.streams.video[0]):
            return round(float(decoded.rotation or 0) / 90.0) % 4 * 90
    except _av().FFmpegError:
        pass  # reported when the frames are decoded
    return 0


def _max_gap(times: list[float], duration: float) -> float:
    edges = [0.0, *times, max(duration, times[-1] if times else 0.0)]
    return float(max(b - a for a, b in itertools.pairwise(edges)))
