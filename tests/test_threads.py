"""The threads between stages keep order and hand errors back to the thread that waits."""

from __future__ import annotations

import pytest

from avatar.threads import Prefetcher, Worker


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


def test_prefetcher_can_be_closed_early():
    prefetcher = Prefetcher(iter(range(10_000)), depth=2)
    assert next(iter(prefetcher)) == 0
    prefetcher.close()  # must not hang on the producer blocked at a full queue


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
