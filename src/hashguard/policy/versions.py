"""The policy in force, and setting a new one: between the documents the store keeps and the
:class:`~hashguard.policy.model.Policy` the engine applies."""

from __future__ import annotations

from hashguard.errors import ConfigError, PolicyRejected
from hashguard.policy.defaults import default_policy
from hashguard.policy.model import PolicyRecord, StoredPolicy
from hashguard.policy.parse import load, parse
from hashguard.signals.registry import Registry
from hashguard.store.repositories import Repositories


def in_force(store: Repositories, registry: Registry) -> StoredPolicy:
    """The newest policy set, or the built-in one (version 0) while none is."""
    record = store.policies.current()
    if record is None:
        return StoredPolicy(0, default_policy(registry))
    return stored(record, registry)


def stored(record: PolicyRecord, registry: Registry) -> StoredPolicy:
    # Banks are not checked again: a rule may outlive its bank (it then fits nothing). A
    # signal type may not: a plugin taken away makes the policy refuse to load, loudly,
    # rather than serve without the rules that named it.
    try:
        policy = parse(record.document, signal_types=registry.names())
    except PolicyRejected as e:
        raise ConfigError(
            f"the policy in force (version {record.version}) no longer loads: "
            f"{'; '.join(e.problems)}. Set one that does: hashguard policy set FILE"
        ) from None
    return StoredPolicy(record.version, policy, record.actor, record.created_at)


def set_policy(
    store: Repositories, registry: Registry, text: str, *, fmt: str | None = None,
    actor: str = "local",
) -> StoredPolicy:  # fmt: skip
    """Check ``text`` (TOML or JSON) against the signal types and the banks there are, and
    store it as the next version. A refused document changes nothing."""
    doc = load(text, fmt)
    policy = parse(doc, signal_types=registry.names(), banks=[b.name for b in store.banks()])
    record = store.policies.set(policy.as_dict(), actor=actor)
    return StoredPolicy(record.version, policy, record.actor, record.created_at)
