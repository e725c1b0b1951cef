"""What ``import hashguard`` offers: the curated names, each importable, and enough of them
to match content without reaching into submodules."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest

import hashguard
from hashguard.lists.rows import ListRow


def test_every_public_name_imports() -> None:
    assert set(hashguard.__all__) == {"__version__", *hashguard._WHERE}
    for name in hashguard.__all__:
        assert getattr(hashguard, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        hashguard.Nope  # noqa: B018
    namespace: dict[str, object] = {}
    exec("from hashguard import *", namespace)
    assert set(hashguard.__all__) <= set(namespace)


def test_import_hashguard_imports_no_engine() -> None:
    code = "import sys, hashguard; print('hashguard.engine' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_matching_through_the_public_names() -> None:
    from hashguard import Engine, HashguardError, MemoryStore, Signal, default_registry

    data = b"any uploaded bytes"
    store = MemoryStore()
    store.create_bank("iwf")
    engine = Engine(store, default_registry())
    digest = hashlib.md5(data).hexdigest()
    store.import_rows("iwf", [ListRow(1, "add", "e1", "md5", digest)], [], "test")
    engine.refresh()
    [match] = engine.match_content(data).matches
    assert (match.bank, match.entry, match.signal_type) == ("iwf", "e1", "md5")
    assert engine.match_signals([Signal("md5", digest)])[0].entry == "e1"
    with pytest.raises(HashguardError):
        store.bank("nope")
