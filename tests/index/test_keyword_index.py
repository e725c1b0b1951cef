"""The keyword index: rows of keyword entries, compiled into a matcher, looked up by hit."""

from __future__ import annotations

import numpy as np
import pytest

from hashguard.index.exact import FEW
from hashguard.index.keyword import KeywordIndex


@pytest.mark.parametrize("terms", [FEW, FEW + 3])  # one row at a time, and through numpy
def test_lookup_drops_rows_removed_since_the_matcher_was_built(terms: int) -> None:
    values = [f"amberheron{chr(ord('a') + i)}" for i in range(terms)]
    pks = np.arange(100, 100 + terms)
    index = KeywordIndex.build(values, pks, np.full(terms, 7))
    matcher = index.matcher()  # a search holds this while a change is applied
    hits = matcher.find(" ".join(values))
    assert len(hits) == terms
    assert index.remove(values[1], 101) == 1
    index.add("bluefalcon", 200, 8)  # a tail row
    rows = index.lookup(hits)
    assert [(hit.key, pk, bank) for hit, pk, bank in rows] == [
        (row, 100 + row, 7) for row in range(terms) if row != 1
    ]
    tail_hits = index.matcher().find("bluefalcon amberheronc")
    assert [(pk, bank) for _, pk, bank in index.lookup(tail_hits)] == [(200, 8), (102, 7)]
