"""Previews of kept content for the console: small JPEGs, made on the server so that what
a reviewer has not revealed never reaches the browser unblurred.

Blurred and greyscale by default; a reveal takes the blur off (greyscale follows the
reviewer's own setting). A video's preview is a contact sheet of still frames, so it is
silent by construction. The content is decoded under the same limits as a match.
"""

from __future__ import annotations

import io

from PIL import Image, ImageFilter

from hashguard.errors import MediaError
from hashguard.media.image import DecodeLimits, load_image
from hashguard.media.video import Video, VideoLimits, looks_like_video

SIDE = 480  # pixels: the longest side of a preview
FRAMES = 4  # stills on a video's sheet
BLUR = 0.06  # Gaussian radius as a share of the longest side: nothing recognisable


def preview(
    data: bytes, *, reveal: bool, greyscale: bool, limits: DecodeLimits | None = None
) -> bytes:
    """The JPEG to show; :class:`MediaError` if the content does not decode."""
    im = (
        _video_sheet(data)
        if looks_like_video(data[:64])
        else load_image(data, limits or DecodeLimits())
    )
    im = im.convert("RGB")
    im.thumbnail((SIDE, SIDE))
    if greyscale or not reveal:
        im = im.convert("L")
    if not reveal:
        im = im.filter(ImageFilter.GaussianBlur(max(6.0, BLUR * max(im.size))))
    out = io.BytesIO()
    im.save(out, "JPEG", quality=80)
    return out.getvalue()


def _video_sheet(data: bytes) -> Image.Image:
    video = Video(data, VideoLimits(max_decode_seconds=20.0))
    every = max(video.info.duration / FRAMES, 0.5) if video.info.duration else 1.0
    frames = []
    for frame in video.frames(every):
        frames.append(Image.fromarray(frame.rgb))
        if len(frames) == FRAMES:
            break
    if not frames:
        raise MediaError("the video has no frame to show")
    w, h = frames[0].size
    sheet = Image.new("RGB", (w * 2, h * ((len(frames) + 1) // 2)))
    for i, f in enumerate(frames):
        sheet.paste(f.resize((w, h)), ((i % 2) * w, (i // 2) * h))
    return sheet
