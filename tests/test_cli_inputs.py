"""The ``hashguard`` command on inputs that are not images, or not files: a line each, the
rest processed, never a hang (each run is a real process under a timeout)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from hashguard.batch import read_file
from hashguard.errors import MediaError, TooLarge
from hashguard.media.image import DecodeLimits
from tests.helpers import run_cli
from tests.media.bombs import png

FAKE_PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


def hashguard(tmp_path: Path, *args: str) -> tuple[int, list[dict[str, object]], str]:
    return run_cli(tmp_path, *args)


def test_hash_dev_zero_is_refused_unread(tmp_path: Path) -> None:
    code, lines, _ = hashguard(tmp_path, "hash", "/dev/zero")
    assert code == 3
    assert lines == [
        {
            "path": "/dev/zero",
            "error": "not a regular file (a character device): hashguard reads regular files only",
        }
    ]


@pytest.mark.parametrize("command", ["hash", "match"])
def test_a_fifo_in_a_folder_gets_a_line_and_the_rest_is_processed(
    tmp_path: Path, command: str
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.png").write_bytes(png(64, 48))
    (folder / "b.pdf").write_bytes(FAKE_PDF)
    os.mkfifo(folder / "c.fifo")  # nobody ever writes to it: opening it to read would block
    (folder / "d.png").write_bytes(png(32, 32, colour=2, channels=3))
    code, lines, _ = hashguard(tmp_path, command, str(folder))
    assert code == 3  # one input could not be read; the others were processed
    assert [Path(str(line["path"])).name for line in lines] == ["a.png", "b.pdf", "c.fifo", "d.png"]
    assert lines[2]["error"] == "not a regular file (a FIFO): hashguard reads regular files only"
    a, b, d = (line if command == "hash" else line["signals"] for line in lines[:2] + lines[3:])
    assert "pdq" in a and "pdq" in d
    assert b["md5"] == hashlib.md5(FAKE_PDF).hexdigest()


def test_hash_of_a_non_image_prints_digests_and_a_note(tmp_path: Path) -> None:
    pdf = tmp_path / "doc.pdf"
    pdf.write_bytes(FAKE_PDF)
    code, lines, err = hashguard(tmp_path, "hash", str(pdf))
    assert code == 0 and err == ""
    data = pdf.read_bytes()
    assert lines[0]["md5"] == hashlib.md5(data).hexdigest()
    assert lines[0]["sha1"] == hashlib.sha1(data).hexdigest()
    assert lines[0]["sha256"] == hashlib.sha256(data).hexdigest()
    assert str(lines[0]["note"]).startswith("no perceptual hash: not an image hashguard reads")
    assert "pdq" not in lines[0] and "error" not in lines[0]


def test_hash_of_videos_prints_digests_and_the_vpdq_summary(tmp_path: Path) -> None:
    from tests.conftest import VIDEOS

    clip = VIDEOS / "doorknob-hd-no-bar.mp4"
    broken = tmp_path / "clip.mp4"  # an MP4 header and nothing of a video after it
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(200))
    code, lines, _ = hashguard(tmp_path, "hash", str(clip), str(broken), str(clip))
    assert code == 3  # one file was unreadable; the others were hashed all the same
    good, bad, again = lines
    data = clip.read_bytes()
    assert good["md5"] == hashlib.md5(data).hexdigest()
    assert good["sha256"] == hashlib.sha256(data).hexdigest()
    assert good["vpdq"]["size"] == [1280, 720] and good["vpdq"]["seconds"] == 4.0
    assert good["vpdq"]["frames"] >= 1 and "pdq" not in good
    assert bad["error"].startswith("not a video hashguard reads") and "\n" not in bad["error"]
    assert again == good


def test_hash_of_a_broken_image_is_still_an_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(png(640, 480, colour=2, channels=3)[:100])
    code, lines, _ = hashguard(tmp_path, "hash", str(broken))
    assert code == 3 and "error" in lines[0] and "md5" not in lines[0]


def test_read_file_refuses_over_the_limit_and_directories(tmp_path: Path) -> None:
    big = tmp_path / "big"
    big.write_bytes(b"x" * 101)
    with pytest.raises(TooLarge, match="limit is 100"):
        read_file(big, DecodeLimits(max_bytes=100))
    assert read_file(big, DecodeLimits(max_bytes=101)) == b"x" * 101
    with pytest.raises(MediaError, match="is a directory"):
        read_file(tmp_path, DecodeLimits())
    # (a FIFO is tried in a child process above: on a regression it would block here)
