"""A real HTTP receiver on loopback for webhook tests: it answers as told (200, an error
status, too slowly, or by dropping the connection), verifies each signature, and applies
each event once by its event id, as a receiver should."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from hashguard.actions import signing


class Receiver:
    def __init__(self, secrets: list[str]) -> None:
        self.secrets = secrets
        self.plan: list[str] = []  # behaviours for the next requests: "ok", "500", "slow", "drop"
        self.requests: list[dict[str, Any]] = []  # every request that arrived
        self.applied: dict[str, dict[str, Any]] = {}  # event id -> event, each applied once
        self.bad_signatures = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    how = receiver.plan.pop(0) if receiver.plan else "ok"
                    receiver.requests.append({"headers": dict(self.headers), "body": body})
                if how == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if how == "slow":
                    time.sleep(1.5)
                if how == "500":
                    self.send_response(500)
                    self.end_headers()
                    return
                header = self.headers.get(signing.HEADER, "")
                if not signing.verify(header, body, receiver.secrets):
                    with receiver._lock:
                        receiver.bad_signatures += 1
                    self.send_response(400)
                    self.end_headers()
                    return
                event = json.loads(body)
                with receiver._lock:
                    receiver.applied.setdefault(event["event_id"], event)  # idempotent
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
