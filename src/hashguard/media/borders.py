"""Finding uniform borders (letterboxing, padding, frames) so they can be trimmed.

A picture re-shared with bars or a frame around it hashes far from the original under plain
PDQ. Hashing the trimmed picture as well brings it back within the threshold.
"""

from __future__ import annotations

import numpy as np

TOLERANCE = 24  # grey levels a border row may vary by (JPEG ringing near edges)
MIN_TRIM = 0.02  # trims smaller than this share of a side are noise, not padding
MIN_SIDE = 32


def _run(uniform: np.ndarray, means: np.ndarray) -> int:
    """How many leading lines are uniform and of the first line's colour."""
    if not uniform[0]:
        return 0
    n = 0
    first = means[0]
    for ok, mean in zip(uniform, means, strict=True):
        if not ok or abs(mean - first) > TOLERANCE:
            break
        n += 1
    return n


def border_box(grey: np.ndarray) -> tuple[int, int, int, int] | None:
    """The box ``(left, top, right, bottom)`` inside uniform borders of a 2-D uint8 greyscale
    image, or None if there are none worth trimming."""
    height, width = grey.shape
    row_uniform = (grey.max(axis=1).astype(np.int16) - grey.min(axis=1)) <= TOLERANCE
    col_uniform = (grey.max(axis=0).astype(np.int16) - grey.min(axis=0)) <= TOLERANCE
    row_mean, col_mean = grey.mean(axis=1), grey.mean(axis=0)
    top = _run(row_uniform, row_mean)
    bottom = _run(row_uniform[::-1], row_mean[::-1])
    left = _run(col_uniform, col_mean)
    right = _run(col_uniform[::-1], col_mean[::-1])
    if max(top, bottom) < MIN_TRIM * height and max(left, right) < MIN_TRIM * width:
        return None
    box = (left, top, width - right, height - bottom)
    if box[2] - box[0] < MIN_SIDE or box[3] - box[1] < MIN_SIDE:
        return None  # (nearly) all uniform: a blank image, nothing to trim to
    return box
