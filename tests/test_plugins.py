"""A third-party plugin adds a signal type and a list format without touching hashguard.

The plugin (tests/plugins/hashguard-example-plugin) is installed into a directory of its
own and put on the path of real ``hashguard`` processes, so that the types and formats the
other tests see stay the built-ins."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

PLUGIN = Path(__file__).parent / "plugins" / "hashguard-example-plugin"


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("plugin")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
         "--target", str(target), str(PLUGIN)],
        check=True, capture_output=True,
    )  # fmt: skip
    return target


def hashguard(plugin: Path, db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(plugin), "HASHGUARD_DB": f"sqlite:///{db}"}
    return subprocess.run(
        [sys.executable, "-m", "hashguard.cli", *args],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_plugin_signal_type_and_list_format(
    plugin_path: Path, tmp_path: Path, testdata: Path
) -> None:
    db = tmp_path / "store.db"
    image = testdata / "pdq" / "bridge-mods" / "aaa-orig.jpg"
    crc = f"{zlib.crc32(image.read_bytes()):08x}"
    assert hashguard(plugin_path, db, "bank", "create", "own").returncode == 0

    listing = tmp_path / "list.tsv"  # the plugin's format, told by the file's suffix
    listing.write_text(f"# crc32 list\ncrc32\t{crc}\titem-1\nmd5\t{'ab' * 16}\titem-2\n")
    done = hashguard(plugin_path, db, "import", str(listing), "--bank", "own")
    assert done.returncode == 0, done.stderr
    assert lines(done.stdout)[0]["entries_added"] == 2

    # The plugin's type hashes every upload through the one hashing path, and matches.
    hashed = lines(hashguard(plugin_path, db, "hash", str(image)).stdout)[0]
    assert hashed["crc32"] == crc and "pdq" in hashed
    matched = hashguard(plugin_path, db, "match", str(image))
    assert matched.returncode == 0, matched.stderr
    found = lines(matched.stdout)[0]["matches"]
    assert [(m["entry"], m["signal_type"]) for m in found] == [("item-1", "crc32")]  # type: ignore[index, union-attr]

    # Written back in the plugin's format.
    exported = hashguard(plugin_path, db, "export", "--bank", "own", "--format", "tsv")
    assert exported.returncode == 0, exported.stderr
    assert f"crc32\t{crc}\titem-1" in exported.stdout.splitlines()


def test_plugin_rows_are_checked_like_any_list(plugin_path: Path, tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    hashguard(plugin_path, db, "bank", "create", "own")
    bad = tmp_path / "bad.tsv"
    bad.write_text("crc32\t0011aabb\tok\ncrc32\tnot-hex!\tbad\ncrc32\tonly-two\n")
    done = hashguard(plugin_path, db, "import", str(bad), "--bank", "own")
    assert done.returncode != 0
    assert "line 2" in done.stderr and "line 3" in done.stderr
    listed = lines(hashguard(plugin_path, db, "bank", "list").stdout)
    assert listed[0].get("active_entries", 0) == 0  # a rejected file changes nothing


def test_without_the_plugin_its_type_is_unknown(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    env = {**os.environ, "HASHGUARD_DB": f"sqlite:///{db}"}
    done = subprocess.run(
        [sys.executable, "-m", "hashguard.cli", "match", "--signals", "-"],
        input="crc32 0011aabb\n", env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode != 0 and "unknown signal type 'crc32'" in done.stdout


def test_the_plugin_type_passes_the_test_kits(plugin_path: Path, tmp_path: Path) -> None:
    """What a plugin's own tests would run: hashguard.testing's kits over every installed
    type, the plugin's among them."""
    script = (
        "import sys; from pathlib import Path\n"
        "from hashguard.signals.registry import default_registry\n"
        "from hashguard.testing import check_index, check_signal_type\n"
        "names = []\n"
        "for t in default_registry().types():\n"
        "    media = [b'some benign bytes'] if t.hashes == 'bytes' else []\n"
        "    if t.hashes not in ('image', 'video'):  # (given no pictures or clips here)\n"
        "        check_signal_type(t, media=media)\n"
        "    check_index(t, Path(sys.argv[1]) / t.name)\n"
        "    names.append(t.name)\n"
        "print(' '.join(names))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        env={**os.environ, "PYTHONPATH": str(plugin_path)},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "crc32" in done.stdout.split() and "pdq" in done.stdout.split()
