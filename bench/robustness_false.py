"""Robustness benchmark: false matches, every pair of distinct pictures compared by PDQ
distance."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from robustness_model import THRESHOLD, ImageResult, query_kind


def bits(hexes: Sequence[str]) -> np.ndarray:
    """``(n, 256)`` 0/1 matrix of hex hashes."""
    raw = np.frombuffer(b"".join(bytes.fromhex(h) for h in hexes), dtype=np.uint8)
    return np.unpackbits(raw.reshape(len(hexes), -1), axis=1).astype(np.int32)


def distance_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamming distances between every row of ``a`` and every row of ``b`` (0/1 matrices)."""
    return np.asarray(a @ (1 - b).T + (1 - a) @ b.T)


@dataclass
class Pair:
    a: str
    b: str
    package_a: str
    package_b: str
    ours: int  # smallest distance of any query of either image to the other's plain hash
    ours_kind: str
    ours_plain: int  # our plain hash against our plain hash
    pytx: int


@dataclass
class FalseMatches:
    pairs: int
    pairs_other_package: int
    ours: int
    ours_other_package: int
    ours_plain_only: int
    pytx: int
    pytx_other_package: int
    ours_by_kind: dict[str, int]
    ours_by_packages: dict[str, int]
    pytx_by_packages: dict[str, int]
    closest: list[Pair]


def false_matches(
    results: Sequence[ImageResult], packages: dict[str, str], show: int
) -> FalseMatches:
    n = len(results)
    plain = bits([r.ours_plain for r in results])
    owners: list[int] = []
    kinds: list[str] = []
    query_hexes: list[str] = []
    for i, r in enumerate(results):
        for k, q in enumerate(r.ours_queries):
            owners.append(i)
            kinds.append(query_kind(k))
            query_hexes.append(q)
    to_plain = distance_matrix(bits(query_hexes), plain)  # (queries, images)
    # directed[i, j]: best query of image i against the plain hash of image j
    directed = np.full((n, n), 10**6, dtype=np.int64)
    directed_kind = np.zeros((n, n), dtype=np.int64)  # index into kinds
    for row, owner in enumerate(owners):
        better = to_plain[row] < directed[owner]
        directed[owner, better] = to_plain[row, better]
        directed_kind[owner, better] = row
    ours_plain = distance_matrix(plain, plain)
    theirs = distance_matrix(
        bits([r.pytx_plain for r in results]), bits([r.pytx_plain for r in results])
    )

    def package(i: int) -> str:
        return packages.get(results[i].name, "?")

    pairs: list[Pair] = []
    total = other = 0
    for i, j in combinations(range(n), 2):
        total += 1
        same = package(i) == package(j)
        other += not same
        if directed[i, j] <= directed[j, i]:
            d, kind = int(directed[i, j]), kinds[int(directed_kind[i, j])]
        else:
            d, kind = int(directed[j, i]), kinds[int(directed_kind[j, i])]
        pairs.append(
            Pair(
                a=results[i].name,
                b=results[j].name,
                package_a=package(i),
                package_b=package(j),
                ours=d,
                ours_kind=kind,
                ours_plain=int(ours_plain[i, j]),
                pytx=int(theirs[i, j]),
            )
        )

    def key(p: Pair) -> str:
        return " x ".join(sorted((p.package_a, p.package_b)))

    ours_hits = [p for p in pairs if p.ours <= THRESHOLD]
    pytx_hits = [p for p in pairs if p.pytx <= THRESHOLD]
    pairs.sort(key=lambda p: (min(p.ours, p.pytx), p.ours, p.pytx))
    return FalseMatches(
        pairs=total,
        pairs_other_package=other,
        ours=len(ours_hits),
        ours_other_package=sum(p.package_a != p.package_b for p in ours_hits),
        ours_plain_only=sum(p.ours_plain <= THRESHOLD for p in pairs),
        pytx=len(pytx_hits),
        pytx_other_package=sum(p.package_a != p.package_b for p in pytx_hits),
        ours_by_kind=dict(Counter(p.ours_kind for p in ours_hits)),
        ours_by_packages=dict(Counter(key(p) for p in ours_hits).most_common()),
        pytx_by_packages=dict(Counter(key(p) for p in pytx_hits).most_common()),
        closest=pairs[:show],
    )
