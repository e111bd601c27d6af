"""The threads between stages keep order and hand errors back to the thread that waits."""

from __future__ import annotations

import threading
import time

import pytest

from avatar.threads import InPlace, Prefetcher, Worker


def test_prefetcher_keeps_order():
    prefetcher = Prefetcher(iter(range(100)), depth=3)
    assert list(prefetcher) == list(range(100))
    prefetcher.close()


def test_prefetcher_raises_the_producers_error_in_the_reader():
    def frames():
        yield 1
        yield 2
        raise OSError("decoder failed")

    prefetcher = Prefetcher(frames())
    seen = []
    with pytest.raises(OSError, match="decoder failed"):
        for item in prefetcher:
            seen.append(item)
    assert seen == [1, 2]


def _alive(name: str) -> bool:
    return any(thread.name == name for thread in threading.enumerate())


def test_closing_a_prefetcher_stops_its_producer_and_releases_its_reader():
    def endless():
        i = 0
        while True:
            yield i
            i += 1

    prefetcher = Prefetcher(endless(), depth=2, name="test-decode")
    seen: list[int] = []
    reader = threading.Thread(target=lambda: seen.extend(prefetcher), name="test-reader")
    reader.start()
    while len(seen) < 10:
        time.sleep(0.001)
    prefetcher.close()  # the producer is blocked at a full queue; the reader waits for the next item
    reader.join(timeout=10.0)  # a hang check, not a speed check
    assert not reader.is_alive(), "a closed prefetcher left its reader waiting (the window froze on quit)"
    assert not _alive("test-decode")
    assert seen == sorted(set(seen))  # in order; what was still queued at the close is dropped


def test_worker_handles_items_in_order_and_finishes_on_close():
    done = []
    worker = Worker(done.append)
    for i in range(50):
        worker.submit(i)
    worker.close()
    assert done == list(range(50))


def test_worker_error_is_raised_in_the_submitting_thread():
    def handle(item):
        if item == 3:
            raise ValueError("bad item")

    worker = Worker(handle)
    with pytest.raises(ValueError, match="bad item"):
        for i in range(1000):
            worker.submit(i)
        worker.close()


def test_in_place_runs_each_item_in_the_submitting_thread_in_order():
    seen = []
    worker = InPlace(lambda item: seen.append((item, threading.current_thread())))
    for item in range(3):
        worker.submit(item)
    worker.close()
    assert seen == [(0, threading.current_thread()), (1, threading.current_thread()), (2, threading.current_thread())]
