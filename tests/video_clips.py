"""Copies of the repository's test clips made the way copies spread: re-encoded smaller,
greyed, sepia-toned, with a small logo, trimmed, letterboxed; and clips holding a still.

Each is a real H.264 encode (PyAV's libx264) of the decoded frames of a real clip
(tests/data/threatexchange/videos, BSD, see its LICENSE), made once per test session.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

Transform = Callable[[np.ndarray, float], np.ndarray | None]  # None: leave the frame out


def _even(a: np.ndarray) -> np.ndarray:
    h, w = a.shape[0] // 2 * 2, a.shape[1] // 2 * 2
    return np.ascontiguousarray(a[:h, :w])


def grey(a: np.ndarray, t: float) -> np.ndarray:
    y = (a @ np.array([0.299, 0.587, 0.114])).clip(0, 255).astype(np.uint8)
    return np.repeat(y[:, :, None], 3, axis=2)


def sepia(a: np.ndarray, t: float) -> np.ndarray:
    m = np.array([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]])
    return (a @ m.T).clip(0, 255).astype(np.uint8)


def small_logo(a: np.ndarray, t: float) -> np.ndarray:
    out = a.copy()
    out[20:60, 40:140] = (255, 255, 255)
    out[30:50, 50:130] = (200, 0, 0)
    return out


def smaller(a: np.ndarray, t: float) -> np.ndarray:
    im = Image.fromarray(a).resize((a.shape[1] // 2, a.shape[0] // 2), Image.Resampling.BILINEAR)
    return np.asarray(im)


def trimmed(a: np.ndarray, t: float) -> np.ndarray | None:
    return a if 3.0 <= t <= 14.0 else None


def letterboxed(a: np.ndarray, t: float) -> np.ndarray:
    bar = np.zeros((96, a.shape[1], 3), np.uint8)
    return np.concatenate([bar, a, bar])


COPIES: dict[str, Transform] = {
    "smaller": smaller,
    "grey": grey,
    "sepia": sepia,
    "small-logo": small_logo,
    "trimmed": trimmed,
    "letterboxed": letterboxed,
}


def derive(source: Path, out_dir: Path, transforms: dict[str, Transform]) -> dict[str, Path]:
    """One decode of ``source``, one encode per transform: ``name -> path``."""
    outs, streams, counts = {}, {}, {}
    paths = {name: out_dir / f"{source.stem}-{name}.mp4" for name in transforms}
    for name, path in paths.items():
        outs[name] = av.open(str(path), "w")
    try:
        with av.open(str(source)) as container:
            for frame in container.decode(video=0):
                rgb = frame.to_ndarray(format="rgb24")
                for name, fn in transforms.items():
                    picture = fn(rgb, float(frame.time or 0.0))
                    if picture is None:
                        continue
                    picture = _even(picture)
                    if name not in streams:
                        streams[name] = _stream(outs[name], picture)
                        counts[name] = 0
                    out = av.VideoFrame.from_ndarray(picture, format="rgb24")
                    out.pts = counts[name]
                    counts[name] += 1
                    for packet in streams[name].encode(out):
                        outs[name].mux(packet)
        for name, stream in streams.items():
            for packet in stream.encode():
                outs[name].mux(packet)
    finally:
        for out in outs.values():
            out.close()
    return paths


def _stream(container: av.container.OutputContainer, picture: np.ndarray) -> av.VideoStream:
    stream = container.add_stream("libx264", rate=30)
    stream.width, stream.height = picture.shape[1], picture.shape[0]
    stream.pix_fmt = "yuv420p"
    stream.time_base = Fraction(1, 30)
    stream.options = {"preset": "ultrafast", "crf": "26", "g": "60"}
    return stream


def clip_of(pictures: list[tuple[np.ndarray, float]], path: Path) -> Path:
    """A 30 fps clip showing each picture for its number of seconds."""
    with av.open(str(path), "w") as out:
        stream = None
        n = 0
        for picture, seconds in pictures:
            picture = _even(picture)
            if stream is None:
                stream = _stream(out, picture)
            for _ in range(round(seconds * 30)):
                frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
                frame.pts = n
                n += 1
                for packet in stream.encode(frame):
                    out.mux(packet)
        assert stream is not None
        for packet in stream.encode():
            out.mux(packet)
    return path


def frame_at(source: Path, seconds: float) -> np.ndarray:
    """The decoded RGB frame shown at ``seconds``."""
    with av.open(str(source)) as container:
        for frame in container.decode(video=0):
            if float(frame.time or 0.0) >= seconds:
                return frame.to_ndarray(format="rgb24")
    raise ValueError(f"{source} is shorter than {seconds} s")
