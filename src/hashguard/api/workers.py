"""Running the service in N worker processes, each with a listening socket of its own.

uvicorn's own ``--workers`` shares one listening socket between its workers. Two things go
wrong with that (measured in docs/benchmarks.md): the socket is made without the TCP
protocol number, so asyncio never sets TCP_NODELAY on accepted connections and every answer
on a kept-alive connection waits ~40 ms for a delayed ACK (uvicorn issue #3149); and a
client's burst of connections lands on whichever worker wakes first. Here each worker has
its own socket with SO_REUSEPORT, so the kernel spreads connections over the workers, and
with IPPROTO_TCP, so TCP_NODELAY is set. A worker that dies is replaced.

SO_REUSEPORT would also let a second server (of the same user) bind the same port and take
half the connections, answering from another store. So the parent process makes every
worker's socket itself, once, after checking with a plain socket (no SO_REUSEPORT) that
nothing is bound to the port, and hands them to the workers; workers never bind. A second
server's check then fails against this one's sockets: "address in use". A lock held from
the check until the sockets are bound closes the window in which two servers starting at
the same moment could both pass it. The parent keeps the sockets open, so a replaced
worker takes over its predecessor's socket, and connections queued on it meanwhile wait
for it instead of being reset.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import multiprocessing
import os
import signal
import socket
import tempfile
import time
from collections.abc import Iterator
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import FrameType

from hashguard.errors import ConfigError

log = logging.getLogger(__name__)
APP = "hashguard.api.server:app_from_environment"
BACKLOG = 2048  # uvicorn's default


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


@contextlib.contextmanager
def _binding_lock() -> Iterator[None]:
    """Held from the check that a port is free until its sockets are bound: one server of
    this user at a time. Per user, as SO_REUSEPORT shares ports only within one user."""
    path = Path(tempfile.gettempdir()) / f"hashguard-serve-{os.getuid()}.lock"
    with open(path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _check_free(host: str, port: int) -> None:
    probe = socket.socket(_family(host), socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        # SO_REUSEADDR only: connections of a stopped server in TIME_WAIT do not count, but
        # any bound socket does, SO_REUSEPORT or not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"cannot listen on {host}:{port}: address in use (by another server, maybe "
                "another `hashguard serve`); stop it or choose another --port"
            ) from None
        raise ConfigError(f"cannot listen on {host}:{port}: {e.strerror}") from None
    finally:
        probe.close()


def listen(host: str, port: int) -> socket.socket:
    """One worker's listening socket: SO_REUSEPORT, so the workers' sockets share the port,
    and IPPROTO_TCP, so asyncio sets TCP_NODELAY on what it accepts."""
    sock = socket.socket(_family(host), socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)  # connections queue from now on, before the worker is up
    return sock


def bind(host: str, port: int, workers: int) -> list[socket.socket]:
    """The workers' sockets, or ConfigError if anything else is bound to ``host:port``."""
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port must be between 0 and 65535, not {port}")
    with _binding_lock():
        _check_free(host, port)
        sockets: list[socket.socket] = []
        try:
            sockets.append(listen(host, port))
            port = sockets[0].getsockname()[1]  # the port chosen, if 0 was asked for
            sockets.extend(listen(host, port) for _ in range(workers - 1))
        except OSError as e:
            for sock in sockets:
                sock.close()
            raise ConfigError(f"cannot listen on {host}:{port}: {e.strerror}") from None
        return sockets


def _worker(sock: socket.socket, log_level: str) -> None:
    import uvicorn

    config = uvicorn.Config(APP, factory=True, log_level=log_level, access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


def run(sockets: list[socket.socket], log_level: str = "info") -> None:
    """Start a worker per socket and keep them running until SIGINT or SIGTERM."""
    context = multiprocessing.get_context("spawn")

    def start(sock: socket.socket) -> BaseProcess:
        process = context.Process(target=_worker, args=(sock, log_level))
        process.start()
        return process

    processes = [start(sock) for sock in sockets]
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for process in processes:
            process.terminate()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping:
        for i, process in enumerate(processes):
            if not process.is_alive() and not stopping:
                log.warning(
                    "worker %s exited (%s); starting another", process.pid, process.exitcode
                )
                processes[i] = start(sockets[i])
        time.sleep(0.5)
    for process in processes:
        process.join(10)
    for sock in sockets:
        sock.close()
