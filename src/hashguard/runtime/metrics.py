"""The process's figures for Prometheus: requests, latency, matches, probing alarms, source
syncs, index size and lag, where matched entries were read from. Kept here for every
adapter; the HTTP one serves them at GET /metrics (:mod:`hashguard.api.metrics`).

With several worker processes, ``serve`` points PROMETHEUS_MULTIPROC_DIR at a fresh
directory before starting them; each worker writes its figures there and any worker's
/metrics answers for all of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prometheus_client import Counter, Gauge, Histogram

if TYPE_CHECKING:
    from hashguard.actions.deliver import Pass
    from hashguard.engine import Status
    from hashguard.policy.model import Decision
    from hashguard.seen.retro import RetroPass

_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics:
    """The service's figures. One instance per process (Prometheus metrics are global)."""

    def __init__(self) -> None:
        self.requests = Counter(
            "hashguard_requests", "HTTP requests", ["route", "method", "status"]
        )
        self.latency = Histogram(
            "hashguard_request_seconds", "HTTP request latency", ["route"], buckets=_BUCKETS
        )
        self.matches = Counter("hashguard_matches", "Matches returned", ["bank", "signal_type"])
        self.verdicts = Counter(
            "hashguard_verdicts", "Items checked, by the policy's verdict", ["verdict"]
        )
        self.shadow_verdicts = Counter(
            "hashguard_shadow_verdicts",
            "Items on which shadow rules fired, by the verdict they would have given",
            ["verdict"],
        )
        self.suppressed = Counter(
            "hashguard_suppressed",
            "Matches cancelled by a match in a suppress bank (known-benign items), by that bank",
            ["bank"],
        )
        self.flood_capped = Counter(
            "hashguard_flood_capped",
            "Verdicts a rule's flood guard lowered to review (alert: a list entry may be bad)",
            ["rule"],
        )
        self.deliveries = Counter(
            "hashguard_webhook_deliveries",
            "Webhook delivery attempts by outcome: delivered, failed (to be retried), dead "
            "(after the last attempt: alert; `hashguard webhooks replay`)",
            ["outcome"],
        )
        self.retro_acted = Counter(
            "hashguard_retro_acted", "Verdicts made retroactively: seen items a new entry matched"
        )
        self.retro_lag = Gauge(
            "hashguard_retro_lag",
            "Changes logged that retroactive matching has not looked at yet",
            multiprocess_mode="max",
        )
        self.probing = Counter(
            "hashguard_probing_alarms",
            "Keys whose queries looked like probing of the lists (then blocked a while)",
            ["key"],
        )
        self.syncs = Counter(
            "hashguard_source_syncs",
            "Source syncs by outcome: ok, rejected (alert), unavailable, error",
            ["source", "status"],
        )
        self.index_size = Gauge(
            "hashguard_index_entries",
            "Signals in the in-memory index",
            ["signal_type"],
            multiprocess_mode="liveall",
        )
        self.index_seq = Gauge(
            "hashguard_index_seq",
            "Last change-log sequence number applied",
            multiprocess_mode="liveall",
        )
        self.index_lag = Gauge(
            "hashguard_index_lag",
            "Changes logged but not yet applied to the index",
            multiprocess_mode="liveall",
        )
        self.entry_reads = Gauge(
            "hashguard_entry_reads",
            "Matched entries read since each worker started, by where from: memory (kept "
            "since an earlier match) or store",
            ["source"],
            multiprocess_mode="livesum",
        )

    def matched(self, matches: list[dict[str, Any]]) -> None:
        for m in matches:
            self.matches.labels(m["bank"], m["signal_type"]).inc()

    def decided(self, decision: Decision) -> None:
        self.verdicts.labels(decision.verdict.label).inc()
        if decision.shadow is not None:
            self.shadow_verdicts.labels(decision.shadow.label).inc()
        for bank in {s.bank: s.cancelled for s in decision.suppressed}.items():
            self.suppressed.labels(bank[0]).inc(bank[1])
        for rule in decision.capped:
            self.flood_capped.labels(rule).inc()

    def delivered(self, done: Pass) -> None:
        for outcome, n in (("delivered", done.delivered), ("failed", done.failed - done.dead),
                           ("dead", done.dead)):  # fmt: skip
            if n:
                self.deliveries.labels(outcome).inc(n)

    def retro(self, done: RetroPass, last_seq: int) -> None:
        if done.acted:
            self.retro_acted.inc(done.acted)
        self.retro_lag.set(max(0, last_seq - done.seq))

    def synced(self, source: str, status: str) -> None:
        self.syncs.labels(source, status).inc()

    def entries(self, from_memory: int, from_store: int) -> None:
        self.entry_reads.labels("memory").set(from_memory)
        self.entry_reads.labels("store").set(from_store)

    def index(self, status: Status) -> None:
        for name, size in status.sizes.items():
            self.index_size.labels(name).set(size)
        self.index_seq.set(status.seq)
        self.index_lag.set(status.lag)


_metrics: Metrics | None = None


def metrics() -> Metrics:
    global _metrics
    if _metrics is None:
        _metrics = Metrics()
    return _metrics
