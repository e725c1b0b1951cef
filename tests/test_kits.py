"""Every registered signal type, and its index, through the test kits of hashguard.testing
(the same kits a plugin's tests run; tests/test_plugins.py runs them on one)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from hashguard.index.base import Hit
from hashguard.index.exact import ExactIndex
from hashguard.signals.base import SignalType
from hashguard.signals.registry import default_registry
from hashguard.testing import check_index, check_signal_type
from tests.conftest import VIDEOS

TYPES = default_registry().types()

# Values each built-in type must refuse besides the blank ones every type refuses.
INVALID = {
    "md5": ["0" * 31, "0" * 33, "g" * 32, "00 " * 10 + "00"],
    "sha1": ["0" * 39, "z" * 40],
    "sha256": ["0" * 63, "x" * 64],
    "url_sha256": ["0" * 63, "x" * 64],
    "pdq": ["0" * 63, "0" * 65, "q" * 64],
    "photodna": ["0" * 287, "1,2,3", "not base64!"],
    "url": ["not a url", "http://", "ftp://"],
    "keyword": ["ab", "word:", "  x  "],
    "vpdq": [
        "[]",
        '["' + "0" * 63 + ',100,0.0"]',
        "0,100," + "0" * 64,
        '["' + "0" * 64 + ',100,-1"]',
    ],
}


@pytest.fixture(scope="module")
def media(testdata: Path) -> list[bytes]:
    pictures = sorted((testdata / "pdq/bridge-mods").glob("*.jpg"))[:3]
    return [p.read_bytes() for p in pictures] + [b"not a picture, only bytes"]


@pytest.mark.parametrize("signal_type", TYPES, ids=[t.name for t in TYPES])
def test_signal_type_kit(signal_type: SignalType, media: list[bytes]) -> None:
    if signal_type.hashes is None:
        given: list[bytes] = []
    elif signal_type.hashes == "image":
        given = media[:-1]  # pictures
    elif signal_type.hashes == "video":
        given = [(VIDEOS / "doorknob-hd-no-bar.mp4").read_bytes()]
    else:
        given = media
    check_signal_type(signal_type, invalid=INVALID.get(signal_type.name, []), media=given)


@pytest.mark.parametrize("signal_type", TYPES, ids=[t.name for t in TYPES])
def test_index_kit(signal_type: SignalType, tmp_path: Path) -> None:
    check_index(signal_type, tmp_path / "snapshot")


def test_the_kits_catch_a_broken_type_and_a_broken_index(tmp_path: Path) -> None:
    """The kits fail where they should: a type whose parse is not idempotent, and an index
    that forgets the rows added after it was built."""
    md5 = default_registry().get("md5")

    class Shouting(type(md5)):  # type: ignore[misc]
        name = "shouting"

        def parse(self, raw: str) -> str:
            return super().parse(raw).upper()

    with pytest.raises(AssertionError, match="is not canonical"):
        check_signal_type(Shouting())

    class ForgetfulIndex(ExactIndex):
        def search(self, queries: Sequence[Any], threshold: int = 0) -> list[Hit]:
            # rows added after the build (the kit gives them entry numbers from 10**6)
            return [h for h in super().search(queries, threshold) if h.entry_pk < 10**6]

    class Forgetful(type(md5)):  # type: ignore[misc]
        name = "forgetful"

        def new_index(self) -> ExactIndex:
            return ForgetfulIndex(16)

    with pytest.raises(AssertionError, match="after adds and removals"):
        check_index(Forgetful(), tmp_path / "snapshot")
