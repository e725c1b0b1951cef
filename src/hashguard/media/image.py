"""Images in, RGB pixels out: safely, quickly, and the way the PDQ reference reads them.

- The pixel count is checked from the header before anything is decoded (decompression bombs).
- JPEGs are decoded at a reduced scale (``Image.draft``) when the image is larger than PDQ needs:
  the DCT scaling happens inside libjpeg and is several times cheaper than a full decode.
- EXIF orientation is applied, so a photo rotated by its camera tag hashes as it is seen.
- An image with a side over 512 px is resized to 512x512 before hashing, as the reference C++
  pipeline does (``pdq/cpp/io/pdqio.cpp``); PDQ looks at a 64x64 summary, so nothing is lost.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from hashguard.errors import DecompressionBomb, MediaError, TooLarge

PDQ_SIDE = 512


@dataclass(frozen=True)
class DecodeLimits:
    max_pixels: int = 150_000_000  # a 12k x 12k image; anything bigger is refused
    max_bytes: int = 100 * 1024 * 1024


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
            im = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as e:
        raise DecompressionBomb(f"image too large to decode safely: {e}") from None
    except UnidentifiedImageError:
        raise MediaError("not an image, or an image format hashguard cannot read") from None
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


def _to_rgb(im: Image.Image) -> Image.Image:
    if im.mode == "RGB":
        return im
    if im.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        # Wide greyscale: scale the real range onto 0-255 rather than clipping at 255.
        a = np.asarray(im, dtype=np.float64)
        lo, hi = float(a.min()), float(a.max())
        scaled = (a - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(a)
        return Image.fromarray(scaled.round().astype(np.uint8), "L").convert("RGB")
    return im.convert("RGB")


def load_image(data: bytes, limits: DecodeLimits = DEFAULT_LIMITS) -> Image.Image:
    """Decode ``data`` into an upright RGB image no larger than PDQ needs.

    Raises :class:`MediaError` (or :class:`DecompressionBomb`) with a one-line reason.
    """
    im = _open(data, limits)
    try:
        if im.format == "JPEG":
            im.draft("RGB", (PDQ_SIDE, PDQ_SIDE))
        im.load()
        im = ImageOps.exif_transpose(im)
        im = _to_rgb(im)
    except Image.DecompressionBombError as e:
        raise DecompressionBomb(f"image too large to decode safely: {e}") from None
    except (OSError, ValueError, SyntaxError, EOFError) as e:
        raise MediaError(f"truncated or corrupt image: {e}") from None
    if im.width > PDQ_SIDE or im.height > PDQ_SIDE:
        im = im.resize((PDQ_SIDE, PDQ_SIDE), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return im
