"""Robustness benchmark: its settings, and what one picture's trials found."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hashguard.signals.pdq import DEFAULT_THRESHOLD

DEFAULT_CORPUS = Path.home() / ".cache" / "hashguard-bench" / "corpus"
SET = "1080p"
QUALITY = 90
SELF_ENCODING = {"jpeg_q50": 50}  # transforms that are a JPEG encoding: their quality
DIHEDRAL = 8  # pdq_queries: 8 dihedral variants (the first is the plain hash), then trimmed
THRESHOLD = DEFAULT_THRESHOLD


def query_kind(index: int) -> str:
    if index == 0:
        return "plain"
    return "dihedral" if index < DIHEDRAL else "trimmed"


@dataclass
class Trial:
    """One transform of one image."""

    ours_best: int  # smallest distance of any of our queries to our listed hash
    ours_kind: str  # the kind of query that was closest
    ours_plain: int  # distance of our plain hash (query 0) alone
    pytx: int  # distance of pytx's hash to pytx's listed hash
    self_encoded_exact: bool | None = None  # for SELF_ENCODING: file decodes to the output


@dataclass
class ImageResult:
    name: str
    ours_plain: str  # hex, our listed hash
    ours_quality: int | None
    ours_queries: list[str]
    pytx_plain: str  # hex, pytx's listed hash
    pytx_quality: int
    trials: dict[str, Trial]
