"""Decompression bombs: small benign files that claim huge pictures (12000x12000), made
here in a few MB of memory, or stored (the WebP, 5.5 KB: encoding it takes 0.6 GB and 5 s).

Each maker returns the file's bytes. Used by tests/media/test_bombs.py (peak memory of a
child process decoding them) and bench/bench_bombs.py (seconds and peak RSS).
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

from PIL import Image

SIDE = 12000
DATA = Path(__file__).resolve().parents[1] / "data"


def _zeros_deflated(size: int) -> bytes:
    """A zlib stream of ``size`` zero bytes, compressed a MiB at a time."""
    z = zlib.compressobj(1)
    chunk = bytes(1 << 20)
    out = [z.compress(chunk[: min(len(chunk), size - done)]) for done in range(0, size, 1 << 20)]
    return b"".join([*out, z.flush()])


def webp_lossless() -> bytes:
    """12000x12000 RGB, one colour (Pillow: ``Image.new``, ``save(lossless=True)``)."""
    return (DATA / "bomb-webp-lossless-12000.webp").read_bytes()


def png(width: int, height: int, depth: int = 8, colour: int = 0, channels: int = 1) -> bytes:
    """An all-zero PNG (``colour`` 0 greyscale, 2 RGB, 6 RGBA) written by hand."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    rows = _zeros_deflated(height * (1 + width * channels * depth // 8))  # filter byte + row
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def png_16bit(side: int = SIDE) -> bytes:
    """16-bit greyscale: Pillow decodes it as I;16 (2 bytes a pixel)."""
    return png(side, side, depth=16)


def tiff_float(side: int = SIDE) -> bytes:
    """32-bit float greyscale, deflated, one strip, all zero."""
    strip = _zeros_deflated(side * side * 4)
    tags = [  # (tag, type, value): type 3 SHORT, 4 LONG
        (256, 4, side), (257, 4, side), (258, 3, 32), (259, 3, 8), (262, 3, 1),
        (273, 4, 0), (277, 3, 1), (278, 4, side), (279, 4, len(strip)), (339, 3, 3),
    ]  # fmt: skip
    ifd_size = 2 + 12 * len(tags) + 4
    offset = 8 + ifd_size  # the strip follows the directory
    ifd = struct.pack("<H", len(tags))
    for tag, kind, value in tags:
        value = offset if tag == 273 else value
        packed = struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value)
        ifd += struct.pack("<HHI", tag, kind, 1) + packed
    return b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0) + strip


def gif_screen(side: int = SIDE) -> bytes:
    """A GIF whose logical screen is ``side`` square, holding one 1x1 frame: 35 bytes."""
    header = b"GIF89a" + struct.pack("<HHBBB", side, side, 0x80, 0, 0)  # 2-colour table
    palette = b"\x00\x00\x00\xff\xff\xff"
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0)
    pixels = b"\x02\x02\x44\x01\x00"  # LZW, minimum code size 2: clear, index 1, end
    return header + palette + frame + pixels + b"\x3b"


def jpeg_progressive(side: int = SIDE) -> bytes:
    """A 16x16 progressive CMYK JPEG whose frame header says ``side`` square: libjpeg keeps
    every coefficient of a progressive image (4 components x 2 bytes a pixel, 1.15 GB)."""
    buf = io.BytesIO()
    Image.new("CMYK", (16, 16), (10, 20, 30, 40)).save(buf, "JPEG", progressive=True)
    data = bytearray(buf.getvalue())
    sof = data.index(b"\xff\xc2")
    data[sof + 5 : sof + 9] = struct.pack(">HH", side, side)
    return bytes(data)


BOMBS: dict[str, Callable[[], bytes]] = {
    "webp_lossless": webp_lossless,
    "png_16bit": png_16bit,
    "tiff_float": tiff_float,
    "gif_screen": gif_screen,
    "jpeg_progressive": jpeg_progressive,
}
