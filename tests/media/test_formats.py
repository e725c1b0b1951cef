"""Only the image formats a hash service needs are decoded; every other Pillow decoder
(EPS runs Ghostscript) is out of an upload's reach, and such content keeps its digests.
(Videos: tests/media/test_video.py.)"""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image

from hashguard.content import hash_content
from hashguard.errors import NotAnImage
from hashguard.media.image import formats, load_image
from tests.helpers import encode

EPS = b"""%!PS-Adobe-3.0 EPSF-3.0
%%BoundingBox: 0 0 64 64
%%EndComments
newpath 0 0 moveto 64 64 lineto stroke
showpage
%%EOF
"""
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PICTURE = Image.new("RGB", (64, 48), (200, 120, 40))


@pytest.mark.parametrize(
    ("name", "data"),
    [("EPS", EPS), ("PDF", PDF)]
    + [(fmt, encode(PICTURE, fmt)) for fmt in ("ICO", "PCX", "TGA", "PPM", "SGI", "DDS")]
    + [("PSD-like", b"8BPS" + bytes(60))],
)
def test_other_formats_are_refused_as_not_an_image_with_digests(name: str, data: bytes) -> None:
    if name not in ("EPS", "PDF", "PSD-like"):
        assert Image.open(io.BytesIO(data)).format == name  # Pillow reads it...
    with pytest.raises(NotAnImage, match="not an image hashguard reads") as info:
        load_image(data)  # ...hashguard does not
    assert "\n" not in info.value.message and "JPEG, " in info.value.message
    signals = hash_content(data)
    assert signals.pdq is None and signals.not_image
    assert signals.digests["sha256"] == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF", "TIFF", "BMP", "AVIF"])
def test_the_formats_a_hash_service_needs_are_read(fmt: str) -> None:
    assert fmt in formats()
    signals = hash_content(encode(PICTURE, fmt))
    assert signals.pdq is not None and not signals.not_image


def test_the_formats_are_documented() -> None:
    from tests.conftest import REPO

    text = (REPO / "docs" / "operations.md").read_text()
    for fmt in formats():
        assert fmt in text.split("## Limits and bad input")[1], fmt
