"""Decoding videos: frames timed and upright, limits held, bad input refused in one line."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from hashguard.content import hash_content
from hashguard.errors import DecompressionBomb, MediaError, TooLarge
from hashguard.media.video import Video, VideoLimits, looks_like_video
from tests.conftest import VIDEOS

CHAIR = VIDEOS / "chair-19-sd-bar.mp4"


def test_a_clip_is_opened_checked_and_timed() -> None:
    video = Video(CHAIR)
    info = video.info
    assert (info.width, info.height, info.rotation) == (480, 720, 0)
    assert info.container.startswith("mov,mp4") and info.codec == "h264"
    assert info.fps == 30.0 and 18.7 < info.duration < 18.9
    frames = list(video.frames())
    assert len(frames) == 564
    times = [f.time for f in frames]
    assert times == sorted(times) and times[1] == pytest.approx(1 / 30, abs=1e-3)
    assert frames[0].rgb.shape == (720, 480, 3) and frames[0].rgb.dtype == np.uint8


def test_sampling_takes_one_frame_a_second_and_decodes_less() -> None:
    video = Video(CHAIR)
    sampled = [f.time for f in video.frames(1.0)]
    # Key frames come every 2 s here: they stand in for the samples (one within 1 s of each),
    # and they are all that is decoded.
    assert sampled == pytest.approx([2.0 * i for i in range(10)], abs=0.04)
    assert video._frames_decoded == 10
    every_half = [f.time for f in video.frames(0.5)]
    gaps = np.diff(every_half)
    assert len(every_half) >= 37 and gaps.min() >= 0.49 and gaps.max() <= 0.55
    # Between those samples only reference frames are decoded: fewer than all 564.
    decoded = video._frames_decoded - 10  # (the count runs over every pass of one video)
    assert len(every_half) < decoded < 564


def test_variable_frame_rate_is_timed_by_timestamps(tmp_path: Path) -> None:
    path = tmp_path / "vfr.mkv"
    stamps = [0, 1, 2, 10, 11, 40, 41, 42]  # in 1/10 s: gaps of 0.1, 0.8 and 2.9 s
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.time_base = Fraction(1, 10)
        for i, pts in enumerate(stamps):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 30, np.uint8), "rgb24")
            frame.pts = pts
            frame.time_base = Fraction(1, 10)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    times = [f.time for f in Video(path).frames()]
    assert times == pytest.approx([s / 10 for s in stamps], abs=0.002)


def _with_matrix(data: bytes, matrix: tuple[int, ...]) -> bytes:
    """The MP4 with its video track header's display matrix set (tkhd, version 0)."""
    out = bytearray(data)
    at = out.index(b"tkhd") + 4 + 4 + 4 * 5 + 8 + 8  # version/flags ... reserved, layer etc.
    for i, value in enumerate(matrix):
        out[at + 4 * i : at + 4 * i + 4] = (value & 0xFFFFFFFF).to_bytes(4, "big")
    return bytes(out)


def test_rotation_metadata_is_applied(tmp_path: Path) -> None:
    # A phone clip: stored landscape, its display matrix saying "turn 90 degrees clockwise".
    stored = tmp_path / "stored.mp4"
    picture = np.zeros((48, 96, 3), np.uint8)
    picture[:, :48] = 255  # the left half white, as stored
    with av.open(str(stored), "w") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 96, 48, "yuv420p"
        for i in range(5):
            frame = av.VideoFrame.from_ndarray(picture, "rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    turned = _with_matrix(stored.read_bytes(), (0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000))
    video = Video(turned)
    assert video.info.rotation in (90, 270)
    assert (video.info.width, video.info.height) == (48, 96)
    upright = next(video.frames()).rgb
    assert upright.shape == (96, 48, 3)
    # Turned clockwise, the stored left half is the top half.
    assert upright[:40].mean() > 200 and upright[56:].mean() < 50
    plain = next(Video(stored).frames()).rgb
    assert plain.shape == (48, 96, 3)


def test_sniffing_tells_video_containers_from_other_content() -> None:
    assert looks_like_video(CHAIR.read_bytes()[:512])
    assert looks_like_video(b"\x1a\x45\xdf\xa3" + bytes(60))  # Matroska / WebM
    assert not looks_like_video(b"\xff\xd8\xff\xe0" + bytes(60))  # JPEG
    assert not looks_like_video(b"#EXTM3U\n#EXT-X-VERSION:3\n")  # an HLS playlist
    assert not looks_like_video(b"ffconcat version 1.0\nfile '/etc/passwd'\n")


# bad input: each refused with one line, the digests of the bytes still there


def _one_frame(path: Path, codec: str, width: int, height: int) -> Path:
    """A clip of one black frame in ``codec``."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=1)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        frame = av.VideoFrame.from_ndarray(np.zeros((height, width, 3), np.uint8), "rgb24")
        for packet in [*stream.encode(frame), *stream.encode()]:
            out.mux(packet)
    return path


def _refused(data: bytes, match: str) -> None:
    signals = hash_content(data)
    assert "vpdq" not in signals.hashed
    assert signals.media_error is not None and "\n" not in signals.media_error
    assert match in signals.media_error, signals.media_error
    assert set(signals.digests) == {"md5", "sha1", "sha256"}


def test_a_zero_byte_video_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(MediaError, match="empty file"):
        Video(empty)


def test_a_truncated_video_hashes_what_was_read_and_says_so() -> None:
    data = CHAIR.read_bytes()
    signals = hash_content(data[: len(data) // 3])  # its index (moov) comes first
    summary = signals.as_dict()["vpdq"]
    assert summary["incomplete"] is True and signals.media_error is None
    assert 0 < summary["frames_hashed"] < 10
    assert "incomplete" not in hash_content(data).as_dict()["vpdq"]  # type: ignore[operator]
    # The start cut off: no container to recognise, so unknown content with its digests.
    _refused(data[-len(data) // 3 :], "not an image hashguard reads")


def test_a_corrupt_video_is_refused() -> None:
    _refused(b"\x00\x00\x00\x18ftypmp42" + bytes(64), "not a video hashguard reads")
    noise = np.random.default_rng(1).integers(0, 256, 50_000, np.uint8).tobytes()
    _refused(b"\x00\x00\x00\x18ftypisom" + noise, "video")


def test_an_audio_only_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "audio.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=8000)
        for i in range(20):
            frame = av.AudioFrame.from_ndarray(
                np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
            )
            frame.sample_rate, frame.pts = 8000, i * 1024
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    _refused(path.read_bytes(), "no video stream in the file (it has: audio)")


def test_huge_frames_are_refused_from_the_header(tmp_path: Path) -> None:
    path = _one_frame(tmp_path / "huge.mp4", "mpeg4", 4096, 4096)
    with pytest.raises(DecompressionBomb, match="4096x4096 = 16,777,216 pixels"):
        Video(path, VideoLimits(max_pixels=8_000_000))


def test_a_video_longer_than_the_limit_is_refused_from_its_header(tmp_path: Path) -> None:
    with pytest.raises(TooLarge, match="video is 19 s long; the limit is 10 s"):
        Video(CHAIR, VideoLimits(max_seconds=10))
    # A clip whose timestamps jump 3 hours ahead says so in its header too.
    path = tmp_path / "jump.mkv"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.time_base = Fraction(1, 10)
        for pts in (0, 1, 108_000):
            frame = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), "rgb24")
            frame.pts, frame.time_base = pts, Fraction(1, 10)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    with pytest.raises(TooLarge, match="long; the limit is 3,600 s"):
        Video(path, VideoLimits(max_seconds=3600))


def test_too_many_streams_are_refused(tmp_path: Path) -> None:
    # 1,000 is as many as FFmpeg's demuxers create (its max_streams); past that, opening fails.
    path = tmp_path / "streams.mkv"
    with av.open(str(path), "w") as out:
        streams = []
        for _ in range(1000):
            s = out.add_stream("mpeg4", rate=1)
            s.width, s.height, s.pix_fmt = 16, 16, "yuv420p"
            streams.append(s)
        frame = av.VideoFrame.from_ndarray(np.zeros((16, 16, 3), np.uint8), "rgb24")
        for s in streams:
            for packet in [*s.encode(frame), *s.encode()]:
                out.mux(packet)
    with pytest.raises(MediaError, match="1000 streams; the limit is 32"):
        Video(path)


def test_decoding_is_bounded_in_time_and_frames() -> None:
    with pytest.raises(TooLarge, match="max_video_decode_seconds"):
        list(Video(CHAIR, VideoLimits(max_decode_seconds=0.05)).frames())
    with pytest.raises(TooLarge, match="over 100 frames"):
        list(Video(CHAIR, VideoLimits(max_frames=100)).frames())


def test_an_oversized_video_is_refused_unread() -> None:
    with pytest.raises(TooLarge, match="the limit is 1,000"):
        Video(CHAIR, VideoLimits(max_bytes=1000))


def test_playlists_and_other_demuxers_are_never_opened(tmp_path: Path) -> None:
    playlist = tmp_path / "list.m3u8"
    playlist.write_text(f"#EXTM3U\n#EXTINF:10,\n{CHAIR}\n#EXT-X-ENDLIST\n")
    with pytest.raises(MediaError, match="not a video hashguard reads"):
        Video(playlist)
    concat = tmp_path / "list.ffconcat"
    concat.write_text(f"ffconcat version 1.0\nfile '{CHAIR}'\n")
    with pytest.raises(MediaError, match="not a video hashguard reads"):
        Video(concat)


def test_a_codec_outside_the_decoders_hashguard_uses_is_refused(tmp_path: Path) -> None:
    # FFV1: an archival codec, no phone's or messenger's
    path = _one_frame(tmp_path / "lossless.mkv", "ffv1", 64, 48)
    with pytest.raises(MediaError, match="video codec 'ffv1' is not one hashguard decodes"):
        Video(path)
