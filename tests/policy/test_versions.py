"""The policy in force as the engine reads it from a store (in memory here; the SQL stores
are held to the same contract in tests/store/test_contract.py)."""

from __future__ import annotations

import pytest

from hashguard.errors import ConfigError, PolicyRejected
from hashguard.policy.versions import in_force, set_policy
from hashguard.signals.registry import default_registry
from hashguard.store.memory import MemoryStore

REGISTRY = default_registry()


def test_the_built_in_policy_until_one_is_set_then_the_newest() -> None:
    store = MemoryStore()
    assert in_force(store, REGISTRY).version == 0
    store.create_bank("iwf")
    set_policy(store, REGISTRY, '[[rules]]\nname = "a"\nbanks = ["iwf"]\nverdict = "block"\n')
    new = set_policy(store, REGISTRY, '{"rules": [{"name": "b", "verdict": "review"}]}')
    current = in_force(store, REGISTRY)
    assert current == new and current.version == 2
    assert [r.name for r in current.policy.rules] == ["b"]


def test_a_refused_document_stores_nothing() -> None:
    store = MemoryStore()
    with pytest.raises(PolicyRejected):
        set_policy(store, REGISTRY, '[[rules]]\nname = "a"\nbanks = ["gone"]\nverdict = "block"\n')
    assert store.policies.history() == [] and store.last_seq() == 0


def test_a_stored_policy_that_no_longer_loads_is_refused_loudly() -> None:
    # e.g. a plugin's signal type, named by a rule, uninstalled since
    store = MemoryStore()
    store.policies.set({"rules": [{"name": "a", "verdict": "block", "signal_types": ["tmk"]}]},
                       actor="test")  # fmt: skip
    with pytest.raises(ConfigError, match=r"version 1\) no longer loads: .*no signal type 'tmk'"):
        in_force(store, REGISTRY)
