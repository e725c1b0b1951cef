"""Decoding real images: reference conformance, every mode and format, and bad input."""

from __future__ import annotations

import csv
import hashlib
import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hashguard.content import hash_content
from hashguard.errors import DecompressionBomb, MediaError
from hashguard.media.image import DecodeLimits, load_image
from hashguard.signals.pdq import hamming
from tests.helpers import encode


def _expected(testdata: Path) -> list[tuple[Path, str]]:
    """Rows of the reference CSV whose files exist here (its paths are from another tree)."""
    out = []
    with open(testdata / "pdq" / "expected-pdq-md5.csv") as f:
        for row in csv.DictReader(f):
            rel = row["FilePath"].replace("../../../../data/", "pdq/")
            rel = rel.replace("../../../../../tmk/sample-videos/", "videos/")
            path = testdata / rel
            if path.exists():
                out.append((path, row["Hash"]))
    return out


def test_pdq_within_10_bits_of_reference_and_video_md5_exact(testdata: Path) -> None:
    rows = _expected(testdata)
    images = [(p, h) for p, h in rows if p.suffix != ".mp4"]
    videos = [(p, h) for p, h in rows if p.suffix == ".mp4"]
    assert len(images) >= 15 and videos, "reference data went missing"
    for path, expected in images:
        signals = hash_content(path.read_bytes())
        assert signals.pdq is not None, path
        assert hamming(signals.pdq, bytes.fromhex(expected)) <= 10, path
    for path, expected in videos:
        assert hash_content(path.read_bytes()).digests["md5"] == expected


@pytest.fixture(scope="module")
def original(testdata: Path) -> tuple[Image.Image, bytes]:
    path = testdata / "pdq" / "misc-images" / "modes" / "original.jpg"
    signals = hash_content(path.read_bytes())
    assert signals.pdq is not None
    return Image.open(path).convert("RGB"), signals.pdq


def test_every_mode_file_hashes_like_the_original(
    testdata: Path, original: tuple[Image.Image, bytes]
) -> None:
    files = sorted((testdata / "pdq" / "misc-images" / "modes").iterdir())
    assert len(files) >= 12, "reference data went missing"
    for path in files:
        signals = hash_content(path.read_bytes())
        assert signals.pdq is not None, path
        assert hamming(signals.pdq, original[1]) <= 10, path


@pytest.mark.parametrize(
    ("fmt", "mode", "options"),
    [
        ("PNG", "RGBA", {}),
        ("PNG", "P", {}),
        ("PNG", "LA", {}),
        ("PNG", "I;16", {}),
        ("TIFF", "F", {}),
        ("TIFF", "CMYK", {}),
        ("TIFF", "RGB", {"compression": "tiff_lzw"}),
        ("BMP", "RGB", {}),
        ("WEBP", "RGB", {"quality": 90}),
        ("JPEG", "L", {"quality": 90}),
        ("JPEG", "CMYK", {"quality": 90}),
    ],
)
def test_formats_and_modes(
    original: tuple[Image.Image, bytes], fmt: str, mode: str, options: dict[str, object]
) -> None:
    im, reference = original
    if mode == "I;16":
        converted = Image.fromarray(np.asarray(im.convert("L"), np.uint16) * 257)
        assert converted.mode == "I;16"
    elif mode == "F":
        converted = Image.fromarray(np.asarray(im.convert("L"), np.float32) / 255.0, "F")
    else:
        converted = im.convert(mode)
    signals = hash_content(encode(converted, fmt, **options))
    assert signals.pdq is not None and signals.media_error is None
    assert hamming(signals.pdq, reference) <= 16, (fmt, mode)


def test_gif_uses_the_first_frame(original: tuple[Image.Image, bytes]) -> None:
    im, reference = original
    first = im.convert("P", palette=Image.Palette.ADAPTIVE)
    second = Image.new("P", im.size, 3)
    data = encode(first, "GIF", save_all=True, append_images=[second])
    signals = hash_content(data)
    assert signals.pdq is not None
    assert hamming(signals.pdq, reference) <= 31


@pytest.mark.parametrize(
    ("stored", "tag"),
    [
        (Image.Transpose.ROTATE_90, 6),
        (Image.Transpose.ROTATE_270, 8),
        (Image.Transpose.ROTATE_180, 3),
    ],
)
def test_exif_orientation_is_applied(
    original: tuple[Image.Image, bytes], stored: Image.Transpose, tag: int
) -> None:
    """A camera photo stored sideways with an orientation tag hashes as it is seen."""
    im, reference = original
    exif = Image.Exif()
    exif[0x0112] = tag
    data = encode(im.transpose(stored), "JPEG", quality=92, exif=exif)
    signals = hash_content(data)
    assert signals.pdq is not None
    assert hamming(signals.pdq, reference) <= 10


def test_large_images_are_reduced_before_hashing(original: tuple[Image.Image, bytes]) -> None:
    big = original[0].resize((4000, 2510))
    im = load_image(encode(big, "JPEG", quality=90))
    assert im.size == (512, 512)
    small = load_image(encode(original[0].resize((300, 200)), "PNG"))
    assert small.size == (300, 200)


@pytest.mark.parametrize("size", [(1, 1), (64, 64)])
def test_tiny_and_blank_images_are_hashed_and_flagged(size: tuple[int, int]) -> None:
    signals = hash_content(encode(Image.new("RGB", size, (128, 128, 128)), "PNG"))
    assert signals.pdq is not None
    assert signals.low_quality
    assert signals.as_dict()["pdq_low_quality"] is True


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_decompression_bomb_is_refused_before_decoding() -> None:
    with pytest.raises(DecompressionBomb, match="decompression bomb"):
        load_image(_png_header_only(100_000, 100_000))
    with pytest.raises(DecompressionBomb, match="limit is 1000"):
        load_image(encode(Image.new("RGB", (100, 100)), "PNG"), DecodeLimits(max_pixels=1000))


def test_bad_input_gets_a_one_line_reason(original: tuple[Image.Image, bytes]) -> None:
    jpeg = encode(original[0], "JPEG", quality=90)
    png = encode(original[0].resize((200, 120)), "PNG")
    corrupt_png = bytearray(png)
    corrupt_png[len(png) // 2 : len(png) // 2 + 64] = bytes(64)
    cases = {
        b"": "empty file",
        jpeg[: len(jpeg) // 2]: "truncated",
        bytes(corrupt_png): "corrupt",
        b"%PDF-1.4 not an image at all": "not an image",
        b"\xff\xd8\xff\xe0" + bytes(100): "",
    }
    for data, reason in cases.items():
        with pytest.raises(MediaError) as info:
            load_image(data)
        assert reason in info.value.message
        assert "\n" not in info.value.message


def test_oversized_file_is_refused() -> None:
    with pytest.raises(MediaError, match="limit is 100"):
        load_image(b"x" * 101, DecodeLimits(max_bytes=100))


def test_non_image_content_still_gets_digests() -> None:
    data = b"just some bytes"
    signals = hash_content(data)
    assert signals.pdq is None and signals.media_error
    assert signals.digests["md5"] == hashlib.md5(data).hexdigest()
    assert signals.digests["sha256"] == hashlib.sha256(data).hexdigest()


def test_letterboxed_image_also_queries_the_trimmed_picture(testdata: Path) -> None:
    plain = hash_content((testdata / "pytx" / "sample-b.jpg").read_bytes())
    boxed = hash_content((testdata / "pytx" / "letterboxed_sample-b.jpg").read_bytes())
    assert plain.pdq is not None and boxed.pdq is not None
    assert boxed.trimmed and not plain.trimmed
    assert hamming(boxed.pdq, plain.pdq) > 31  # plain PDQ misses it...
    assert min(hamming(q, plain.pdq) for q in boxed.pdq_queries) <= 31  # ...we do not


def _convert_then_resize(data: bytes) -> np.ndarray:
    """What decoding did before it reduced a large image first: the whole image to RGB (wide
    greyscale scaled by its range in float64), then nearest-neighbour to 512x512."""
    im = Image.open(io.BytesIO(data))
    if im.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        a = np.asarray(im, dtype=np.float64)
        lo, hi = float(a.min()), float(a.max())
        a = (a - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(a)
        rgb = Image.fromarray(a.round().astype(np.uint8), "L").convert("RGB")
    else:
        rgb = im.convert("RGB")
    return np.asarray(rgb.resize((512, 512), Image.Resampling.NEAREST))


@pytest.mark.parametrize(
    ("mode", "fmt"),
    [("1", "PNG"), ("L", "PNG"), ("P", "GIF"), ("P", "PNG"), ("LA", "PNG"), ("RGBA", "PNG"),
     ("CMYK", "TIFF"), ("YCbCr", "TIFF"), ("I;16", "PNG"), ("I;16B", "TIFF"), ("I", "TIFF"),
     ("F", "TIFF"), ("RGB", "BMP")],
)  # fmt: skip
def test_large_image_reduced_before_converting_is_bit_identical(mode: str, fmt: str) -> None:
    """A large image is brought to 512x512 in its own mode and converted after (no full-size
    RGB or float64 copy): the pixels are exactly those of converting first."""
    rng = np.random.default_rng(7)
    size = (900, 700)
    if mode in ("I;16", "I;16B"):
        values = rng.integers(0, 65536, size[::-1], dtype=np.uint16)
        order = "<u2" if mode == "I;16" else ">u2"
        im = Image.frombytes(mode, size, values.astype(order).tobytes())
    elif mode in ("I", "F"):
        values = rng.normal(0, 1000, size[::-1]).astype(np.float32 if mode == "F" else np.int32)
        im = Image.fromarray(values, mode)
    else:
        rgb = Image.fromarray(rng.integers(0, 256, (*size[::-1], 3), dtype=np.uint8))
        im = rgb.convert(mode)
    data = encode(im, fmt)
    assert Image.open(io.BytesIO(data)).mode == mode
    assert np.array_equal(np.asarray(load_image(data)), _convert_then_resize(data))
