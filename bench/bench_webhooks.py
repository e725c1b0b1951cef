"""Webhook delivery: deliveries per second from the outbox to a receiver on loopback, and
the latency from a verdict's commit to its arrival, against the floor measured in the same
run (the same signed bodies posted by a bare httpx loop, one connection, nothing stored).

1. throughput: ``--events`` block verdicts are written to the match log (outbox events),
   then one :class:`~hashguard.actions.deliver.Deliverer` delivers them all (fan-out,
   signing, one request each, marking each delivered): events/s over the whole backlog.
2. latency: a deliverer loop runs as ``hashguard serve`` runs it (a pass every
   ``--every`` s, 0.25 by default as shipped); ``--latency`` verdicts are written one at a
   time, ``--gap`` s plus a random share of a pass interval apart (so as not to fall in
   step with the passes), and the time from each write's acknowledgement to the receiver
   getting it is taken: p50 and p99.

The receiver is a ``ThreadingHTTPServer`` that verifies each signature and answers 204.

    flock /tmp/hashguard-bench.lock python bench/bench_webhooks.py [--pg postgresql://postgres@127.0.0.1:5432/test]
        [--events 2000] [--latency 100] [--every 1.0]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from _harness import machine, pg_schema

from hashguard.actions import signing
from hashguard.actions.deliver import Deliverer
from hashguard.actions.model import Checked
from hashguard.policy import Verdict
from hashguard.store.store import Store

SECRET = "bench-secret-bench-secret"


class Receiver:
    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.bad = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real receivers

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if not signing.verify(self.headers.get(signing.HEADER, ""), body, [SECRET]):
                    receiver.bad += 1
                receiver.arrived[json.loads(body)["event_id"]] = time.perf_counter()
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def verdict(i: int) -> Checked:
    return Checked(
        Verdict.BLOCK, policy_version=1, list_seq=i, content_key=f"id:c{i}",
        matches=({"bank": "b", "entry": f"e{i}", "signal_type": "pdq", "distance": 3},),
        reasons=({"rule": "r", "verdict": "block", "bank": "b", "entry": f"e{i}",
                  "signal_type": "pdq", "distance": 3},),
        context={"content_id": f"c{i}", "chat_id": "g1"},
    )  # fmt: skip


def run(url: str, args: argparse.Namespace) -> dict[str, Any]:
    receiver = Receiver()
    store = Store(url)
    store.webhooks.add("bench", receiver.url, ("block",), SECRET, actor="bench")
    for i in range(args.events):
        store.match_log.submit(verdict(i))
    store.match_log.submit(verdict(-1)).result()  # the writer is done with all before it
    bodies = [e["event"] for e in store.match_log.events(limit=args.events + 1)]
    deliverer = Deliverer(store.webhooks, allow_private=True)
    started = time.perf_counter()
    while deliverer.run_once().delivered:
        pass
    took = time.perf_counter() - started
    assert len(receiver.arrived) == args.events + 1 and receiver.bad == 0
    # the floor: the same bodies, signed, posted by a bare loop
    floor_receiver = Receiver()
    with httpx.Client() as client:
        started = time.perf_counter()
        for event in bodies:
            body = json.dumps(event).encode()
            client.post(floor_receiver.url, content=body,
                        headers={signing.HEADER: signing.sign(body, [SECRET])})  # fmt: skip
        floor = time.perf_counter() - started
    # latency with the shipped pass interval
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            deliverer.run_once()
            stop.wait(args.every)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    delays = []
    rng = random.Random(1)
    for i in range(args.latency):
        item = verdict(10_000_000 + i)
        store.match_log.submit(item).result()
        written = time.perf_counter()
        while item.event_id not in receiver.arrived:
            time.sleep(0.001)
        delays.append(receiver.arrived[item.event_id] - written)
        time.sleep(args.gap + rng.uniform(0, args.every))  # not in step with the passes
    stop.set()
    thread.join()
    deliverer.close()
    store.close()
    delays.sort()
    return {
        "events": args.events + 1,
        "deliveries_per_s": (args.events + 1) / took,
        "floor_per_s": len(bodies) / floor,
        "latency_p50_ms": 1000 * statistics.median(delays),
        "latency_p99_ms": 1000 * delays[min(len(delays) - 1, int(len(delays) * 0.99))],
        "every_s": args.every,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", help="also on PostgreSQL at this URL")
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--latency", type=int, default=100)
    parser.add_argument("--gap", type=float, default=0.05)
    parser.add_argument("--every", type=float, default=0.25, help="seconds between passes")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results: dict[str, Any] = {"machine": machine()}
    with ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        results["sqlite"] = run(f"sqlite:///{tmp}/hg.db", args)
        if args.pg:
            results["postgresql"] = run(stack.enter_context(pg_schema(args.pg)), args)
    for db in ("sqlite", "postgresql"):
        if db in results:
            r = results[db]
            print(f"{db:10}  {r['deliveries_per_s']:7.0f} deliveries/s "
                  f"({r['deliveries_per_s'] / r['floor_per_s']:.2f}x the floor of "
                  f"{r['floor_per_s']:.0f}/s)  latency p50 {r['latency_p50_ms']:.0f} ms, "
                  f"p99 {r['latency_p99_ms']:.0f} ms (a pass every {r['every_s']} s)")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
