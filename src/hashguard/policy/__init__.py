"""Policy: matches + context -> a verdict (allow < review < block < report) and its reasons."""

from hashguard.policy.decide import FloodGuard, MemoryFloodGuard, decide
from hashguard.policy.defaults import default_policy
from hashguard.policy.model import Decision, Policy, Reason, Rule, StoredPolicy, Verdict
from hashguard.policy.parse import load, parse

__all__ = [
    "Decision", "FloodGuard", "MemoryFloodGuard", "Policy", "Reason", "Rule", "StoredPolicy",
    "Verdict", "decide", "default_policy", "load", "parse",
]  # fmt: skip
