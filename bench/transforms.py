"""Named image transformations for the hashguard robustness benchmark.

Each transform is a pure function ``PIL.Image.Image -> PIL.Image.Image``: it
never modifies its input and returns a new RGB image. Inputs are expected to
be RGB, like the benchmark corpus (see ``bench/corpus.py``). ``TRANSFORMS``
maps each name to its function, in the order the benchmark reports them.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

Transform = Callable[[Image.Image], Image.Image]

RESAMPLE = Image.Resampling.LANCZOS
WATERMARK_TEXT = "SAMPLE WATERMARK"
WATERMARK_FILL = (255, 255, 255, 128)  # semi-transparent white


def jpeg_q50(im: Image.Image) -> Image.Image:
    """Re-encode as JPEG at quality 50 (in memory)."""
    buffer = io.BytesIO()
    im.convert("RGB").save(buffer, "JPEG", quality=50)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return decoded.convert("RGB")


def resize_half(im: Image.Image) -> Image.Image:
    """Halve both dimensions."""
    return im.resize((max(1, im.width // 2), max(1, im.height // 2)), RESAMPLE)


def thumb_320(im: Image.Image) -> Image.Image:
    """Scale so that the longest side is 320 pixels, keeping the aspect ratio."""
    scale = 320 / max(im.size)
    size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
    return im.resize(size, RESAMPLE)


def brightness_30(im: Image.Image) -> Image.Image:
    """Raise brightness by 30%."""
    return ImageEnhance.Brightness(im).enhance(1.3)


def blur(im: Image.Image) -> Image.Image:
    """Gaussian blur, radius 2."""
    return im.filter(ImageFilter.GaussianBlur(radius=2))


def greyscale(im: Image.Image) -> Image.Image:
    """Drop colour (kept as 3 identical channels, so the output stays RGB)."""
    return ImageOps.grayscale(im).convert("RGB")


def flip_h(im: Image.Image) -> Image.Image:
    """Mirror left-right."""
    return ImageOps.mirror(im)


def rotate_90(im: Image.Image) -> Image.Image:
    """Rotate 90 degrees counter-clockwise (lossless, swaps width and height)."""
    return im.transpose(Image.Transpose.ROTATE_90)


def pad_10(im: Image.Image) -> Image.Image:
    """Letterbox: a black border of 10% of the width (left, right) and height (top, bottom)."""
    border = (round(im.width * 0.1), round(im.height * 0.1))
    return ImageOps.expand(im, border=border, fill="black")


def _crop(im: Image.Image, fraction: float) -> Image.Image:
    """Cut ``fraction`` of the width and height off each side."""
    dx, dy = round(im.width * fraction), round(im.height * fraction)
    return im.crop((dx, dy, im.width - dx, im.height - dy))


def crop_5(im: Image.Image) -> Image.Image:
    """Crop 5% off each side."""
    return _crop(im, 0.05)


def crop_10(im: Image.Image) -> Image.Image:
    """Crop 10% off each side."""
    return _crop(im, 0.10)


def watermark(im: Image.Image) -> Image.Image:
    """Semi-transparent white text across the lower third (Pillow's default font)."""
    base = im.convert("RGBA")
    width, height = base.size
    # Size the text to ~80% of the width, but no taller than the lower third allows.
    reference = ImageFont.load_default(size=100).getlength(WATERMARK_TEXT)
    size = max(8, int(min(80 * width / reference, 0.2 * height)))
    font = ImageFont.load_default(size=size)
    overlay = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    left, top, right, bottom = draw.textbbox((0, 0), WATERMARK_TEXT, font=font)
    x = (width - (right - left)) / 2 - left
    y = height * 5 / 6 - (top + bottom) / 2  # centred in the lower third
    draw.text((x, y), WATERMARK_TEXT, font=font, fill=WATERMARK_FILL)
    return Image.alpha_composite(base, overlay).convert("RGB")


def rotate_4(im: Image.Image) -> Image.Image:
    """Rotate 4 degrees counter-clockwise, same size, corners filled black."""
    return im.rotate(4, resample=Image.Resampling.BICUBIC, expand=False, fillcolor="black")


TRANSFORMS: dict[str, Transform] = {
    "jpeg_q50": jpeg_q50,
    "resize_half": resize_half,
    "thumb_320": thumb_320,
    "brightness_30": brightness_30,
    "blur": blur,
    "greyscale": greyscale,
    "flip_h": flip_h,
    "rotate_90": rotate_90,
    "pad_10": pad_10,
    "crop_5": crop_5,
    "crop_10": crop_10,
    "watermark": watermark,
    "rotate_4": rotate_4,
}
