"""A writer thread for small writes that arrive one by one (group commit): each
transaction takes every item queued while the previous one committed, and each caller's
future is settled only after the commit that holds its item."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

MAX_BATCH = 256  # items in one transaction


class GroupWriter(Generic[T, R]):
    """Subclasses write a batch in :meth:`write`, settling every future in it."""

    name = "hashguard-writer"

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[tuple[T, Future[R]] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()
        self.batches = 0  # transactions committed, for tests and benchmarks
        self.largest = 0

    def submit(self, item: T) -> Future[R]:
        future: Future[R] = Future()
        with self._start:
            if self._thread is None:
                thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                thread.start()
                self._thread = thread
        self._queue.put((item, future))
        return future

    def close(self) -> None:
        """Write what is queued, then stop the thread."""
        with self._start:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(30)

    def write(self, batch: list[tuple[T, Future[R]]]) -> None:
        raise NotImplementedError

    def _take(self) -> Iterator[list[tuple[T, Future[R]]]]:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            while len(batch) < MAX_BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)  # stop after this batch
                    break
                batch.append(more)
            yield batch

    def _run(self) -> None:
        for batch in self._take():
            try:
                self.write(batch)
            except BaseException as e:  # never leave a caller waiting
                for _, future in batch:
                    if not future.done():
                        future.set_exception(e)
