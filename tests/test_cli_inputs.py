"""The ``hashguard`` command on inputs that are not images, or not files: a line each, the
rest processed, never a hang (each run is a real process under a timeout)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hashguard.batch import read_file
from hashguard.errors import MediaError, TooLarge
from hashguard.media.image import DecodeLimits
from tests.media.bombs import png

FAKE_PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


def hashguard(tmp_path: Path, *args: str) -> tuple[int, list[dict[str, object]], str]:
    env = {
        **os.environ,
        "HASHGUARD_DB": f"sqlite:///{tmp_path / 'hg.db'}",
        "HASHGUARD_INDEX_DIR": str(tmp_path / "idx"),
        "HASHGUARD_CONFIG": str(tmp_path / "none.toml"),
    }
    (tmp_path / "none.toml").write_text("")
    done = subprocess.run(
        [sys.executable, "-m", "hashguard.cli", *args],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines()], done.stderr


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
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(200))
    pdf = tmp_path / "doc.pdf"
    pdf.write_bytes(FAKE_PDF)
    code, lines, err = hashguard(tmp_path, "hash", str(video), str(pdf))
    assert code == 0 and err == ""
    for line, path in zip(lines, (video, pdf), strict=True):
        data = path.read_bytes()
        assert line["md5"] == hashlib.md5(data).hexdigest()
        assert line["sha1"] == hashlib.sha1(data).hexdigest()
        assert line["sha256"] == hashlib.sha256(data).hexdigest()
        assert str(line["note"]).startswith("no perceptual hash: not an image hashguard reads")
        assert "pdq" not in line and "error" not in line


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
