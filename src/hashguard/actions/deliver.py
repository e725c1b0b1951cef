"""Delivering the outbox to webhook endpoints: at least once, in order per content item,
signed, retried with backoff and jitter, dead-lettered after the last attempt.

One pass (:meth:`Deliverer.run_once`) fans new events out to the endpoints that want them,
then sends each endpoint's due deliveries oldest first. A delivery that fails holds back the
later ones of the same content item at that endpoint (their order matters: a block, then
its reversal); other items go on. A failing endpoint backs up only its own deliveries,
never the match path, which only writes the outbox. A process killed mid-pass resends what
it had sent but not yet marked: receivers deduplicate on ``event_id`` (the
``Hashguard-Event-Id`` header and the body's field).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from hashguard import __version__
from hashguard.actions import signing
from hashguard.actions.webhooks import MAX_ATTEMPTS, TIMEOUT, Webhook, check_url, retry_delay
from hashguard.errors import InvalidValue
from hashguard.store.webhook_table import Delivery, Webhooks

log = logging.getLogger(__name__)
# Deliveries marked done per transaction. A deliverer that dies resends at most these
# (and the one in flight): at least once, which the event id makes harmless.
MARK_EVERY = 50


@dataclass
class Pass:
    """What one pass did."""

    queued: int = 0
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    held: int = 0  # waiting behind an earlier failed delivery of the same item
    errors: list[str] = field(default_factory=list)


class Deliverer:
    def __init__(
        self, hooks: Webhooks, *, allow_private: bool = False,
        client: httpx.Client | None = None, clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:  # fmt: skip
        self.hooks = hooks
        self.allow_private = allow_private
        self.client = client or httpx.Client(timeout=TIMEOUT, follow_redirects=False)
        self.clock = clock
        self.rng = rng or random.Random()

    def run_once(self) -> Pass:
        done = Pass(queued=self.hooks.fan_out(self.clock()))
        for hook in self.hooks.list():
            if hook.enabled:
                self._endpoint(hook, done)
        return done

    def _endpoint(self, hook: Webhook, done: Pass) -> None:
        held: set[str] = set()  # items with an earlier delivery not yet through
        sent: list[int] = []  # delivered, to be marked so (in one transaction per batch)
        refused: str | None = None
        checked = False
        for delivery in self.hooks.pending(hook.id):
            now = self.clock()
            if delivery.content_key in held or delivery.next_at > now:
                held.add(delivery.content_key)
                done.held += delivery.next_at <= now
                continue
            if not checked:  # once a pass, and only with something to send: names may move
                checked = True
                try:
                    check_url(hook.url, allow_private=self.allow_private)
                except InvalidValue as e:
                    refused = e.message
            error = refused or self._send(hook, delivery)
            if error is None:
                sent.append(delivery.id)
                if len(sent) >= MARK_EVERY:
                    self.hooks.delivered(sent, self.clock())
                    sent.clear()
                done.delivered += 1
                continue
            held.add(delivery.content_key)
            attempts = delivery.attempts + 1
            last = attempts >= MAX_ATTEMPTS
            retry_at = None if last else now + retry_delay(attempts, self.rng)
            self.hooks.failed(delivery, error, retry_at)
            done.failed += 1
            done.dead += last
            done.errors.append(f"{hook.name}: {error}")
            if last:
                log.warning("webhook %s: event of delivery %d dead after %d attempts: %s",
                            hook.name, delivery.id, attempts, error)  # fmt: skip
        self.hooks.delivered(sent, self.clock())

    def _send(self, hook: Webhook, delivery: Delivery) -> str | None:
        """None when the endpoint took it (2xx), else why not."""
        body = delivery.payload.encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"hashguard/{__version__}",
            signing.HEADER: signing.sign(body, hook.secrets),  # wall time, whatever the clock
            "Hashguard-Event-Id": _event_id(delivery.payload),
        }
        try:
            response = self.client.post(hook.url, content=body, headers=headers)
        except httpx.HTTPError as e:
            return f"{type(e).__name__}: {e}"[:500]
        if 200 <= response.status_code < 300:
            return None
        return f"HTTP {response.status_code}"

    def close(self) -> None:
        self.client.close()


def _event_id(payload: str) -> str:
    import json

    return str(json.loads(payload)["event_id"])
