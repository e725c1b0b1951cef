"""Small test helpers: making list files and images in memory."""

from __future__ import annotations

import io
import json
import os
import socket
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from hashguard.banks.model import ImportReport
from hashguard.errors import RowError
from hashguard.lists import formats
from hashguard.signals.registry import default_registry
from hashguard.store.repositories import Repositories


def import_text(store: Repositories, bank: str, text: str, fmt: str = "csv") -> ImportReport:
    errors: list[RowError] = []
    rows = formats.get(fmt).read(io.BytesIO(text.encode()), default_registry(), errors)
    return store.import_rows(bank, rows, errors, f"test.{fmt}")


def encode(im: Image.Image, fmt: str, **options: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **options)
    return buf.getvalue()


class Loopback:
    """A real server on loopback in a thread of its own, HTTP unless ``handler`` answers
    otherwise: its ``url`` (with ``path``), and :meth:`close`."""

    def __init__(self, handler: type[socketserver.BaseRequestHandler], path: str = "") -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{path}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def reply(handler: BaseHTTPRequestHandler, status: int, body: bytes, media_type: str) -> None:
    """Answer a test server's request with ``body``."""
    handler.send_response(status)
    handler.send_header("Content-Type", media_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


@contextmanager
def serve(handler: type[socketserver.BaseRequestHandler]) -> Iterator[str]:
    """:class:`Loopback` for a ``with`` block; yields its base URL."""
    server = Loopback(handler)
    try:
        yield server.url
    finally:
        server.close()


@contextmanager
def serve_files(root: Path, authorization: str) -> Iterator[str]:
    """``root`` over HTTP on loopback, to requests with this Authorization header only (401
    to the others); yields the base URL."""

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(root), **kwargs)

        def do_GET(self) -> None:
            if self.headers.get("Authorization") != authorization:
                self.send_error(401)
            else:
                super().do_GET()

        def log_message(self, *args: Any) -> None:
            pass

    with serve(Handler) as base:
        yield base


def run_cli(
    tmp_path: Path, *args: str, db: str | None = None, timeout: float = 120
) -> tuple[int, list[dict[str, Any]], str]:
    """``hashguard ARGS`` in a subprocess on its own store (``db``, or a SQLite file in
    ``tmp_path``) and config: exit code, the JSON lines it printed, its standard error."""
    env = {
        **os.environ,
        "HASHGUARD_DB": db or f"sqlite:///{tmp_path / 'hg.db'}",
        "HASHGUARD_INDEX_DIR": str(tmp_path / "idx"),
        "HASHGUARD_CONFIG": str(tmp_path / "none.toml"),
    }
    (tmp_path / "none.toml").write_text("")
    done = subprocess.run(
        [sys.executable, "-m", "hashguard.cli", *args],
        capture_output=True, text=True, timeout=timeout, env=env,
    )  # fmt: skip
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines()], done.stderr


def wait_ready(
    process: subprocess.Popen[Any], url: str, output: Callable[[], str], timeout: float = 60
) -> float:
    """Seconds until the server ``process`` at ``url`` answers /v1/ready with 200; an
    AssertionError with its ``output()`` if it exits first."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {output()}")
        try:
            if httpx.get(f"{url}/v1/ready", timeout=1).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError("server not ready in time")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
