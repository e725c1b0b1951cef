"""`hashguard serve` as a real process on 127.0.0.1: what it prints, a port in use, bad
arguments and clients that hang up, each answered in one line."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hashguard.store.store import Store
from tests.helpers import free_port


def _serve(db: str, tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "HASHGUARD_INDEX_DIR": str(tmp_path / "idx")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return subprocess.Popen(
        [sys.executable, "-m", "hashguard.cli", "serve", "--db", db, *args],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _stop(process: subprocess.Popen[str]) -> str:
    process.terminate()
    try:
        _, err = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
    return err


def _wait_ready(process: subprocess.Popen[str], port: int, timeout: float = 60) -> None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        assert process.poll() is None, "server exited"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError("server not ready in time")


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'hg.db'}"
    Store(url).close()
    return url


@pytest.fixture
def running(db: str, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    port = free_port()
    first = _serve(db, tmp_path, "--port", str(port), "--workers", "2", "--no-auth")
    try:
        _wait_ready(first, port)
        yield first, port
    finally:
        _stop(first)


def test_a_second_server_on_the_port_is_refused(
    running: tuple[subprocess.Popen[str], int], tmp_path: Path
) -> None:
    first, port = running
    other = f"sqlite:///{tmp_path / 'other.db'}"  # another store: it must not answer
    for workers in ("1", "2"):
        second = _serve(other, tmp_path, "--port", str(port), "--workers", workers)
        try:
            _, err = second.communicate(timeout=60)
        finally:
            if second.poll() is None:  # it started: the bug; do not leave it running
                _stop(second)
        assert second.returncode == 7, err
        assert "address in use" in err and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1, err
    for _ in range(20):  # every connection still reaches the first server, keys off
        assert httpx.get(f"http://127.0.0.1:{port}/v1/health").json()["auth"] == "off"
    assert first.poll() is None


def test_a_port_held_by_another_program_is_refused(db: str, tmp_path: Path) -> None:
    with socket.socket() as squatter:  # SO_REUSEPORT: the kind of socket workers use
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        server = _serve(db, tmp_path, "--port", str(port))
        _, err = server.communicate(timeout=60)
    assert server.returncode == 7 and "address in use" in err, err


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--port", "99999"], "--port: must be between 0 and 65535, not 99999"),
        (["--port", "-1"], "--port: must be between 0 and 65535, not -1"),
        (["--workers", "0"], "--workers: must be 1 or more, not 0"),
        (["--port", "eighty"], "--port: not a whole number: 'eighty'"),
    ],
)
def test_bad_arguments_are_one_line(db: str, tmp_path: Path, args: list[str], says: str) -> None:
    server = _serve(db, tmp_path, *args)
    _, err = server.communicate(timeout=60)
    assert server.returncode == 2
    assert err.strip().splitlines() == [f"hashguard serve: argument {says} "
                                        "(see `hashguard serve --help`)"]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "value"),
    [("HASHGUARD_RATE_LIMIT", "-1"), ("HASHGUARD_MAX_UPLOAD_BYTES", "-5"),
     ("HASHGUARD_MAX_LIST_BYTES", "0"), ("HASHGUARD_MAX_PIXELS", "lots")],
)  # fmt: skip
def test_bad_limits_are_one_line(db: str, tmp_path: Path, name: str, value: str) -> None:
    os.environ[name] = value
    try:
        server = _serve(db, tmp_path, "--port", "0")
        _, err = server.communicate(timeout=60)
    finally:
        del os.environ[name]
    assert server.returncode == 7, err
    assert len(err.strip().splitlines()) == 1 and name in err, err


def test_the_banner_says_where_what_and_how(tmp_path: Path, pg_url: str) -> None:
    user_url = pg_url.replace("postgresql://postgres@", "postgresql://postgres:s3cret@")
    port = free_port()
    server = _serve(user_url, tmp_path, "--port", str(port))
    try:
        _wait_ready(server, port)
    finally:
        err = _stop(server)
    assert f"listening on http://127.0.0.1:{port} (1 worker)" in err
    assert f"API docs: http://127.0.0.1:{port}/docs" in err
    assert "s3cret" not in err and "postgres:***@127.0.0.1" in err
    assert "API keys: required (0 active)" in err
    assert "no API keys yet: make one with `hashguard keys create --scope match`" in err


def test_client_disconnects_are_one_line(
    running: tuple[subprocess.Popen[str], int],
) -> None:
    server, port = running
    for path, media in (
        ("/v1/match", "image/jpeg"),
        ("/v1/banks/iwf/entries", "application/json"),
        ("/v1/match/text", "application/json"),
        ("/v1/match", "multipart/form-data; boundary=xx"),
    ):
        with socket.create_connection(("127.0.0.1", port)) as s:
            head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                    f"Content-Type: {media}\r\nContent-Length: 100000\r\n\r\n")  # fmt: skip
            s.sendall(head.encode() + b"--xx\r\npartial")
            time.sleep(0.2)
        time.sleep(0.2)
    assert httpx.get(f"http://127.0.0.1:{port}/v1/health").status_code == 200
    err = _stop(server)
    assert "Traceback" not in err and "Exception in ASGI" not in err, err
    gone = [line for line in err.splitlines() if "disconnected" in line]
    assert len(gone) >= 2, err
    assert re.search(r"client disconnected before sending all of POST /v1/match", err)
