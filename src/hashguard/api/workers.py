"""Running the service in N worker processes, each with a listening socket of its own.

uvicorn's own ``--workers`` shares one listening socket between its workers. Two things go
wrong with that (measured in docs/benchmarks.md): the socket is made without the TCP
protocol number, so asyncio never sets TCP_NODELAY on accepted connections and every answer
on a kept-alive connection waits ~40 ms for a delayed ACK (uvicorn issue #3149); and a
client's burst of connections lands on whichever worker wakes first. Here each worker binds
its own socket with SO_REUSEPORT, so the kernel spreads connections over the workers, and
with IPPROTO_TCP, so TCP_NODELAY is set. A worker that dies is replaced.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import time
from multiprocessing.process import BaseProcess
from types import FrameType

from hashguard.errors import ConfigError

log = logging.getLogger(__name__)
APP = "hashguard.api.server:app_from_environment"


def listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _worker(host: str, port: int, log_level: str) -> None:
    import uvicorn

    sock = listen(host, port)
    config = uvicorn.Config(APP, factory=True, log_level=log_level, access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


def run(host: str, port: int, workers: int, log_level: str = "info") -> None:
    """Start ``workers`` processes and keep them running until SIGINT or SIGTERM."""
    try:
        listen(host, port).close()  # a port in use fails here, once, with a clear error
    except OSError as e:
        raise ConfigError(f"cannot listen on {host}:{port}: {e.strerror}") from None
    context = multiprocessing.get_context("spawn")

    def start() -> BaseProcess:
        process = context.Process(target=_worker, args=(host, port, log_level))
        process.start()
        return process

    processes = [start() for _ in range(workers)]
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
                processes[i] = start()
        time.sleep(0.5)
    for process in processes:
        process.join(10)
