"""Makes the quick start's example files: a benign picture drawn here (shapes, no people),
a smaller re-encoded copy of it, an unrelated picture, and a list holding the picture's
hashes. Run from the repository root: ``python examples/make_examples.py``."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

from hashguard.content import hash_content

HERE = Path(__file__).parent


def picture(seed: int) -> Image.Image:
    image = Image.new("RGB", (640, 480), (30 + seed * 40, 90, 160))
    draw = ImageDraw.Draw(image)
    for i in range(12):
        x, y = (i * 97 * (seed + 1)) % 600, (i * 61 + seed * 150) % 440
        colour = ((i * 53 + seed * 90) % 256, (i * 97) % 256, (200 - i * 13) % 256)
        if (i + seed) % 2:
            draw.ellipse((x, y, x + 90, y + 70), fill=colour)
        else:
            draw.rectangle((x, y, x + 110, y + 50), fill=colour)
    return image


def main() -> None:
    photo = picture(0)
    photo.save(HERE / "photo.jpg", quality=90)
    photo.resize((320, 240)).save(HERE / "uploads" / "photo-small.jpg", quality=70)
    picture(3).save(HERE / "uploads" / "other.jpg", quality=85)
    hashed = hash_content((HERE / "photo.jpg").read_bytes())
    assert hashed.pdq is not None
    pdq, md5 = hashed.pdq.hex(), hashed.digests["md5"]
    (HERE / "list.csv").write_text(
        "signal_type,signal,id,category,note\n"
        f"pdq,{pdq},example-1,example,the picture examples/photo.jpg (benign)\n"
        f"md5,{md5},example-1,example,the picture examples/photo.jpg (benign)\n"
    )
    near = f"{int(pdq[:2], 16) ^ 0x07:02x}{pdq[2:]}"  # 3 bits away: a near copy
    (HERE / "hashes.txt").write_text(
        f"# hashes computed elsewhere, one 'TYPE VALUE' per line\npdq {near}\nmd5 {'0' * 32}\n"
    )


if __name__ == "__main__":
    main()
