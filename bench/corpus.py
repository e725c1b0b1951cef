"""Build the benign photo corpus for the hashguard robustness benchmark.

Usage: ``python bench/corpus.py [--out DIR] [--force]``
(default DIR: ``~/.cache/hashguard-bench/corpus``).

Real, benign photographs are taken from Debian packages (wallpapers, Scratch
and Tux Paint backgrounds, OpenCV and scikit-image sample data, Stellarium
nebula photos, ...): each package is fetched with ``apt-get download`` (run
``apt-get update`` once first) and unpacked with ``dpkg-deb -x`` into a
temporary directory. Only photographic raster images are kept: curated folders
of each package, then files at least 300x300, essentially opaque, in colour,
rich in distinct colours and without a dominant flat colour (which rules out
SVGs, icons, diagrams and most screenshots). A picture shipped at several
resolutions is kept once, at its largest, and near-duplicates (the same
content under another name) are dropped.

Every picture is re-encoded (resize to cover, centre crop, JPEG quality 90) to
``1080p/NAME.jpg`` (1920x1080) and ``480p/NAME.jpg`` (640x480), and listed with
its source package in ``manifest.json``; NAME starts with the package name.
About a third of the pictures are astrophotographs (mostly dark skies), so
false-positive results are worth breaking down by package. A complete existing
corpus is left alone unless ``--force`` is given.

The corpus is a local cache: it is never committed to the repository.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from corpus_sources import (
    SOURCES,
    Source,
)
from PIL import Image, ImageChops, ImageOps, ImageStat

Image.MAX_IMAGE_PIXELS = None  # wallpapers go up to 6000x4000; all sources are trusted

DEFAULT_OUT = Path.home() / ".cache" / "hashguard-bench" / "corpus"
SIZES: dict[str, tuple[int, int]] = {"1080p": (1920, 1080), "480p": (640, 480)}
QUALITY = 90
EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp"}
MIN_SIDE = 300
MAX_TRANSPARENT = 0.01  # fraction of (nearly) transparent pixels tolerated
MIN_COLOUR_RATIO = 0.3  # distinct colours / pixels in a 128px thumbnail
MAX_DOMINANT = 0.4  # share of the most common coarse colour (flat backgrounds)
DUPLICATE_DISTANCE = 12.0  # mean abs difference of 16x16 normalised thumbnails
RESOLUTION = re.compile(r"[_-]?\d{3,5}x\d{3,5}")


@dataclass
class Picture:
    """A candidate photo found in an unpacked package."""

    package: str
    path: Path
    relpath: str
    folder: str
    name: str
    width: int
    height: int
    fingerprint: Image.Image


def run(cmd: list[str], cwd: Path) -> bool:
    """Run a command quietly; report and return False if it fails."""
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        print(f"  skip: {' '.join(cmd)}: {proc.stderr.strip()[:200]}", file=sys.stderr)
    return proc.returncode == 0


def unpack(package: str, work: Path) -> tuple[Path, str] | None:
    """Download and extract a package; return its root and version."""
    if not run(["apt-get", "download", package], work):
        return None
    debs = sorted(work.glob(f"{package}_*.deb"))
    if not debs:
        return None
    root = work / package
    if not run(["dpkg-deb", "-x", str(debs[0]), str(root)], work):
        return None
    version = subprocess.run(
        ["dpkg-deb", "-f", str(debs[0]), "Version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    debs[0].unlink()
    return root, version


def picture_name(relpath: str) -> tuple[str, str]:
    """Folder and name of a picture, independent of the resolution it is shipped at."""
    parts = relpath.split("/")
    # Plasma layout: wallpapers/NAME/contents/images[_dark]/WIDTHxHEIGHT.ext
    if len(parts) >= 4 and parts[-3] == "contents" and parts[-2].startswith("images"):
        return "/".join(parts[:-4]), parts[-4] + parts[-2].removeprefix("images")
    stem = Path(parts[-1]).stem
    name = RESOLUTION.sub("", stem).removesuffix("_Portrait").removesuffix("_portrait")
    return "/".join(parts[:-1]), name or stem


def transparent_fraction(im: Image.Image) -> float:
    """Share of pixels that are noticeably transparent."""
    if "A" not in im.getbands() and "transparency" not in im.info:
        return 0.0
    alpha = im.convert("RGBA").getchannel("A")
    alpha.thumbnail((128, 128))
    histogram = alpha.histogram()
    return sum(histogram[:250]) / sum(histogram)


def looks_photographic(thumb: Image.Image) -> bool:
    """Many distinct colours and no dominant flat colour: a colour photo."""
    pixels = thumb.width * thumb.height
    colours = thumb.getcolors(pixels) or []
    coarse = thumb.point(lambda v: v & 0xF0).getcolors(pixels) or []
    dominant = max((count for count, _ in coarse), default=pixels)
    return len(colours) / pixels >= MIN_COLOUR_RATIO and dominant / pixels <= MAX_DOMINANT


def fingerprint(thumb: Image.Image) -> Image.Image:
    """A tiny normalised greyscale thumbnail used to spot duplicates."""
    small = thumb.convert("L").resize((16, 16), Image.Resampling.BOX)
    return ImageOps.autocontrast(small)


def inspect(source: Source, root: Path, path: Path) -> Picture | None:
    """Return the file as a candidate picture if it is a usable photo."""
    relpath = path.relative_to(root).as_posix()
    try:
        with Image.open(path) as im:
            width, height = im.size
            if min(width, height) < MIN_SIDE or im.mode in ("I", "I;16", "I;16B", "F"):
                return None
            im.draft("RGB", (256, 256))
            if transparent_fraction(im) > MAX_TRANSPARENT:
                return None
            thumb = to_rgb(im)
    except (OSError, ValueError):
        return None  # truncated or unreadable files exist in test-data packages
    thumb.thumbnail((128, 128))
    if source.check and not looks_photographic(thumb):
        return None
    folder, name = picture_name(relpath)
    return Picture(source.package, path, relpath, folder, name, width, height, fingerprint(thumb))


def candidates(source: Source, root: Path) -> list[Picture]:
    """Photos of one package: one per picture, at its largest resolution."""
    best: dict[str, Picture] = {}
    for path in sorted(root.rglob("*")):
        relpath = path.relative_to(root).as_posix()
        if (
            path.suffix.lower() not in EXTENSIONS
            or not path.is_file()
            or not any(fnmatch.fnmatch(relpath, glob) for glob in source.include)
            or any(fnmatch.fnmatch(path.name, glob) for glob in source.exclude)
        ):
            continue
        picture = inspect(source, root, path)
        if picture is None:
            continue
        key = f"{picture.folder}/{picture.name}"
        current = best.get(key)
        if current is None or picture.width * picture.height > current.width * current.height:
            best[key] = picture
    return [best[key] for key in sorted(best)]


def sample(pictures: list[Picture], limit: int | None) -> list[Picture]:
    """At most ``limit`` pictures, evenly spread over the list."""
    if limit is None or len(pictures) <= limit:
        return pictures
    step = len(pictures) / limit
    return [pictures[int(i * step)] for i in range(limit)]


def is_duplicate(picture: Picture, kept: list[Picture]) -> bool:
    """Whether a kept picture has (nearly) the same content."""
    return any(
        ImageStat.Stat(ImageChops.difference(picture.fingerprint, other.fingerprint)).mean[0]
        < DUPLICATE_DISTANCE
        for other in kept
    )


def output_name(picture: Picture, taken: set[str]) -> str:
    """A unique, filesystem-friendly JPEG name for the picture."""
    label = re.sub(r"[^A-Za-z0-9._-]+", "_", picture.name).strip("_.")
    base = f"{picture.package}__{label}"
    name, n = f"{base}.jpg", 1
    while name in taken:
        n += 1
        name = f"{base}-{n}.jpg"
    taken.add(name)
    return name


def to_rgb(im: Image.Image) -> Image.Image:
    """Upright RGB copy; any transparency is flattened onto black."""
    im = ImageOps.exif_transpose(im)
    if "A" in im.getbands() or "transparency" in im.info:
        rgba = im.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "black")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return im.convert("RGB")


def encode(path: Path, out: Path, name: str) -> None:
    """Write the picture at every benchmark size (cover + centre crop)."""
    with Image.open(path) as im:
        rgb = to_rgb(im)
    for folder, size in SIZES.items():
        fitted = ImageOps.fit(rgb, size, Image.Resampling.LANCZOS)
        fitted.save(out / folder / name, "JPEG", quality=QUALITY)


def complete(out: Path) -> int:
    """Number of images if the corpus at ``out`` is complete, else 0."""
    try:
        manifest = json.loads((out / "manifest.json").read_text())
    except (OSError, ValueError):
        return 0
    names = [entry["name"] for entry in manifest.get("images", [])]
    if names and all((out / folder / n).is_file() for folder in SIZES for n in names):
        return len(names)
    return 0


def build(out: Path) -> dict[str, object]:
    """Gather, filter and encode the corpus; return the manifest."""
    for folder in SIZES:  # start clean: leftovers of an interrupted run go
        shutil.rmtree(out / folder, ignore_errors=True)
        (out / folder).mkdir(parents=True)
    kept: list[Picture] = []
    entries: list[dict[str, object]] = []
    versions: dict[str, str] = {}
    taken: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="hashguard-corpus-") as tmp:
        work = Path(tmp)
        for source in SOURCES:
            unpacked = unpack(source.package, work)
            if unpacked is None:
                continue
            root, versions[source.package] = unpacked
            fresh: list[Picture] = []
            for picture in candidates(source, root):
                if not is_duplicate(picture, kept + fresh):
                    fresh.append(picture)
            chosen = sample(fresh, source.limit)
            for picture in chosen:
                name = output_name(picture, taken)
                encode(picture.path, out, name)
                kept.append(picture)
                entries.append(
                    {
                        "name": name,
                        "package": picture.package,
                        "source": picture.relpath,
                        "width": picture.width,
                        "height": picture.height,
                    }
                )
            print(f"  {source.package} {versions[source.package]}: {len(chosen)} photos")
            shutil.rmtree(root)
    return {
        "sizes": {folder: list(size) for folder, size in SIZES.items()},
        "quality": QUALITY,
        "packages": versions,
        "images": sorted(entries, key=lambda e: str(e["name"])),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"output dir (default {DEFAULT_OUT})"
    )
    parser.add_argument(
        "--force", action="store_true", help="rebuild even if the corpus is complete"
    )
    args = parser.parse_args(argv)
    out: Path = args.out.expanduser()
    start = time.monotonic()
    existing = 0 if args.force else complete(out)
    if existing:
        print(f"corpus already complete: {existing} images per size in {out}")
        return 0
    manifest = build(out)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    counts = {folder: len(list((out / folder).glob("*.jpg"))) for folder in SIZES}
    summary = ", ".join(f"{n} x {folder}" for folder, n in counts.items())
    print(f"corpus: {summary} in {out} ({time.monotonic() - start:.0f}s)")
    return 0 if all(counts.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
