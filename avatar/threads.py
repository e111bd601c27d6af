"""Threads that let the stages overlap: decoding ahead of inference, drawing behind it.

MediaPipe and OpenCV release the GIL in their native code, so on two cores a frame can be decoded
while the previous one is read by the model and the one before is drawn. Order is always kept,
so a file run stays deterministic.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

_END = object()


class Prefetcher:
    """Iterates `frames` in a thread of its own, `depth` items ahead. Errors surface in the reader."""

    def __init__(self, frames: Iterable[Any], depth: int = 3, name: str = "prefetch"):
        self._frames = frames
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            for item in self._frames:
                if not self._put(item):
                    return
        except BaseException as exc:  # handed to the reading thread, which raises it
            self.error = exc
        finally:
            self._put(_END)

    def __iter__(self) -> Iterator[Any]:
        while True:
            try:
                item = self._queue.get(timeout=0.1)
            except queue.Empty:
                if self._stop.is_set():  # closed: the end marker may never come
                    return
                continue
            if item is _END:
                if self.error is not None:
                    raise self.error
                return
            yield item

    def close(self) -> None:
        self._stop.set()
        while True:  # unblock a producer waiting on a full queue
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._thread.join(timeout=5.0)


class Worker:
    """Runs `handle(item)` for each submitted item, in order, in a thread of its own.

    An error in `handle` is raised again in the submitting thread at its next submit() or close().
    """

    def __init__(self, handle: Callable[[Any], None], depth: int = 3, name: str = "worker"):
        self._handle = handle
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if self.error is not None:
                continue  # drain without work after a failure
            try:
                self._handle(item)
            except BaseException as exc:
                self.error = exc

    def _raise_if_failed(self) -> None:
        if self.error is not None:
            error, self.error = self.error, None
            raise error

    def submit(self, item: Any) -> None:
        self._raise_if_failed()
        self._queue.put(item)

    def close(self) -> None:
        """Finish the queued work and stop; raises a pending error."""
        self._queue.put(_END)
        self._thread.join()
        self._raise_if_failed()


class InPlace:
    """Worker's interface, run in the submitting thread: for a process that must use one core only (a
    batch worker, where N single-threaded workers fill N cores and threads of their own would only fight)."""

    def __init__(self, handle: Callable[[Any], None]):
        self._handle = handle

    def submit(self, item: Any) -> None:
        self._handle(item)

    def close(self) -> None:
        pass
