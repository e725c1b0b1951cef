from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from hashguard.media.borders import border_box, trim_boxes


def _grey(testdata: Path) -> Image.Image:
    return Image.open(testdata / "pdq/bridge-mods/aaa-orig.jpg").convert("L").resize((400, 250))


def test_padding_is_found_and_plain_pictures_are_left_alone(testdata: Path) -> None:
    picture = _grey(testdata)
    assert border_box(np.asarray(picture)) is None
    padded = ImageOps.expand(picture, border=(40, 25), fill=0)
    assert trim_boxes(np.asarray(padded)) == [(40, 25, 440, 275)]


def test_a_dark_edge_next_to_black_padding_gets_the_even_box_too(testdata: Path) -> None:
    picture = np.asarray(_grey(testdata)).copy()
    picture[:, :30] = 0  # the picture's own left edge is black, like a night sky
    padded = ImageOps.expand(Image.fromarray(picture), border=(40, 25), fill=0)
    boxes = trim_boxes(np.asarray(padded))
    assert boxes[0] == (70, 25, 440, 275)  # ate into the picture
    assert boxes[1] == (40, 25, 440, 275)  # padding taken as even: the true picture


def test_blank_images_are_not_trimmed_to_nothing() -> None:
    assert trim_boxes(np.zeros((300, 300), np.uint8)) == []
