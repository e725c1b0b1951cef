"""Images in, RGB pixels out: safely, quickly, and the way the PDQ reference reads them.

- Only the formats of :data:`FORMATS` are opened (JPEG, PNG, WebP, GIF, TIFF, BMP, AVIF, and
  HEIF when ``pillow-heif`` is installed): Pillow's other decoders (EPS, which runs
  Ghostscript, PSD, ICO, FITS, ...) are never reached from an upload.
- The pixel count, and the bytes decoding will take (:mod:`hashguard.media.budget`), are
  checked from the header before anything is decoded (decompression bombs); decodes under
  way in one process share one budget. Only the first frame of an animation or page of a
  TIFF is decoded.
- An image with a side over 512 px is resized to 512x512 (nearest neighbour) before hashing,
  as the reference C++ pipeline does (``pdq/cpp/io/pdqio.cpp``): the same hash, bit for bit,
  on our 640x480 corpus. PDQ looks at a 64x64 summary, so nothing is lost.
- A large image is brought down to 512x512 in the mode it was decoded in, and only then
  converted to RGB (16-bit and float greyscale scaled by the whole image's range): no
  full-size copy is made, and the pixels are those of converting first, bit for bit.
- Large JPEGs are decoded at a reduced scale instead (``Image.draft``: libjpeg scales in the
  DCT domain, several times cheaper than a full decode), to no less than 256 px a side, then
  brought to 512x512 bilinearly. Against the reference on our 1080p corpus: median 2 bits
  apart (max 10), as close as decoding at 512 px, in half the time. Hashing the small decode
  without the 512x512 step was 10 bits apart: PDQ's blur window depends on the input size.
- EXIF orientation is applied, so a photo rotated by its camera tag hashes as it is seen.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, UnidentifiedImageError

from hashguard.errors import DecompressionBomb, MediaError, NotAnImage, TooLarge
from hashguard.media.budget import BatchTally, buffer_bytes, gate, jpeg_coefficient_bytes

PDQ_SIDE = 512
DRAFT_SIDE = 256
ORIENTATION = 0x0112
# What an upload may be; a format Pillow has no opener for here (HEIF without pillow-heif) is
# left out when the first image is opened.
WANTED_FORMATS = ("JPEG", "MPO", "PNG", "WEBP", "GIF", "TIFF", "BMP", "AVIF", "HEIF")
_WIDE = ("I", "I;16", "I;16B", "I;16L", "F")  # greyscale scaled by its range, not clipped


def formats() -> tuple[str, ...]:
    """The image formats hashguard decodes, of :data:`WANTED_FORMATS` those Pillow can open."""
    Image.init()
    return tuple(f for f in WANTED_FORMATS if f in Image.OPEN)


@dataclass(frozen=True)
class DecodeLimits:
    max_pixels: int = 150_000_000  # a 12k x 12k image; anything bigger is refused
    max_bytes: int = 100 * 1024 * 1024
    # Peak bytes of decoding one image (its buffer, the codec's copies), and of the decodes
    # under way at once in one process; over it an image is refused. 256 MiB: an RGB PNG
    # of 67 Mpx, an 8-bit greyscale one of any allowed size; JPEGs are decoded at a reduced scale.
    max_decode_bytes: int = 256 * 1024 * 1024
    max_batch_decode_bytes: int = 1024 * 1024 * 1024  # the images of one API batch together


DEFAULT_LIMITS = DecodeLimits()


def _open(data: bytes, limits: DecodeLimits) -> Image.Image:
    if not data:
        raise MediaError("empty file (0 bytes)")
    if len(data) > limits.max_bytes:
        raise TooLarge(f"file is {len(data)} bytes; the limit is {limits.max_bytes}")
    try:
        with warnings.catch_warnings():
            # Our own limit below replaces Pillow's global one and its warnings.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=formats())
    except Image.DecompressionBombError as e:
        raise DecompressionBomb(f"image too large to decode safely: {e}") from None
    except UnidentifiedImageError:
        raise NotAnImage(
            f"not an image hashguard reads (it reads {', '.join(formats())})"
        ) from None
    except (OSError, ValueError, SyntaxError) as e:
        raise MediaError(f"corrupt image header: {e}") from None
    width, height = im.size
    if width * height > limits.max_pixels:
        raise DecompressionBomb(
            f"image is {width}x{height} = {width * height} pixels; the limit is "
            f"{limits.max_pixels} (a decompression bomb, or raise max_pixels)"
        )
    if width < 1 or height < 1:
        raise MediaError(f"image has no pixels ({width}x{height})")
    return im


def _scaled(im: Image.Image, lo: float, hi: float) -> Image.Image:
    """Wide greyscale onto 0-255 by the range ``lo``-``hi`` (rather than clipping at 255)."""
    a = np.asarray(im, dtype=np.float64)
    scaled = (a - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(a)
    return Image.fromarray(scaled.round().astype(np.uint8), "L").convert("RGB")


def _range(im: Image.Image) -> tuple[float, float]:
    try:
        lo, hi = im.getextrema()  # one band: two numbers
        return float(lo), float(hi)  # type: ignore[arg-type]
    except ValueError:  # Pillow has none for I;16B/I;16L: 256 rows at a time, no full copy
        low, high = np.inf, -np.inf
        for y in range(0, im.height, 256):
            rows = np.asarray(im.crop((0, y, im.width, min(y + 256, im.height))))
            low, high = min(low, float(rows.min())), max(high, float(rows.max()))
        return low, high


def _to_rgb(im: Image.Image) -> Image.Image:
    if im.mode == "RGB":
        return im
    if im.mode in _WIDE:
        return _scaled(im, *_range(im))
    return im.convert("RGB")


def _reduced(im: Image.Image) -> Image.Image:
    """A loaded image with a side over 512 px, as RGB 512x512."""
    if im.width <= PDQ_SIDE and im.height <= PDQ_SIDE:  # a JPEG drawn at a reduced scale
        return _to_rgb(im).resize((PDQ_SIDE, PDQ_SIDE), Image.Resampling.BILINEAR)
    # Nearest-neighbour only picks pixels: picking them before converting each one gives
    # what converting first did, without a full-size copy (a wide one scaled by the range
    # of the whole image, as before).
    nearest = Image.Resampling.NEAREST
    if im.mode in _WIDE:
        return _scaled(im.resize((PDQ_SIDE, PDQ_SIDE), nearest), *_range(im))
    return _to_rgb(im.resize((PDQ_SIDE, PDQ_SIDE), nearest))


# EXIF orientation -> the transposition that shows the image upright (as ImageOps.exif_transpose)
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def load_image(data: bytes, limits: DecodeLimits = DEFAULT_LIMITS) -> Image.Image:
    """Decode ``data`` into an upright RGB image no larger than PDQ needs.

    Raises :class:`MediaError` (or :class:`DecompressionBomb`) with a one-line reason.
    """
    return decode(data, limits)[0]


def _check_budget(im: Image.Image, size: tuple[int, int], need: int, limits: DecodeLimits) -> None:
    if need > limits.max_decode_bytes:
        raise DecompressionBomb(
            f"{im.format} image of {size[0]}x{size[1]} ({im.mode}) would take {need:,} "
            f"bytes to decode; the limit is {limits.max_decode_bytes:,} (max_decode_bytes, "
            "HASHGUARD_MAX_DECODE_BYTES): a decompression bomb, or raise the limit"
        )


def decode(
    data: bytes, limits: DecodeLimits = DEFAULT_LIMITS, batch: BatchTally | None = None
) -> tuple[Image.Image, bool]:
    """Like :func:`load_image`, and whether the image was larger than 512 px (so reduced to
    512x512): a part of it cut out later (a trimmed border) should be treated alike.

    ``batch`` adds this image's decoding bytes to those of the other items of one request."""
    im = _open(data, limits)
    large = im.width > PDQ_SIDE or im.height > PDQ_SIDE
    try:
        size = im.size
        coefficients = jpeg_coefficient_bytes(im) if im.format in ("JPEG", "MPO") else 0
        if large and im.format == "JPEG":
            im.draft("RGB", (DRAFT_SIDE, DRAFT_SIDE))
        need = buffer_bytes(im) + coefficients
        _check_budget(im, size, need, limits)
        if batch is not None:
            batch.charge(need)
        with gate(limits.max_decode_bytes).hold(need):
            # getexif() decodes a PNG whole: inside the budget, not before it.
            orientation = im.getexif().get(ORIENTATION, 1)
            im.load()
            out = _reduced(im) if large else _to_rgb(im)
            if out is not im:
                im.close()  # free the full-size buffer before leaving the budget
    except Image.DecompressionBombError as e:
        raise DecompressionBomb(f"image too large to decode safely: {e}") from None
    except (OSError, ValueError, SyntaxError, EOFError) as e:
        raise MediaError(f"truncated or corrupt image: {e}") from None
    if orientation in _TRANSPOSE:  # after the resize: a 512x512 image is cheaper to turn
        out = out.transpose(_TRANSPOSE[orientation])
    return out, large
