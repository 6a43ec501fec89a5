"""Ctrl-C and SIGTERM held back while a step that must not be cut in two runs (engine.core.stops)."""
from __future__ import annotations

import signal
import threading
import time

import pytest

from engine.core.stops import stops_held


@pytest.fixture
def taken():
    """The SIGTERMs a handler took."""
    got: list[int] = []
    before = signal.signal(signal.SIGTERM, lambda signum, frame: got.append(signum))
    yield got
    signal.signal(signal.SIGTERM, before)


def test_a_stop_in_the_block_is_taken_when_it_ends_by_the_handler_it_would_have_met(taken):
    with stops_held():
        signal.raise_signal(signal.SIGTERM)  # this thread blocks it: it waits in the system
        time.sleep(0.05)
        assert taken == []
    assert taken == [signal.SIGTERM]


def test_a_stop_handed_to_another_thread_waits_for_the_block_too(taken):
    """The system may hand a stop to any thread that does not block it; Python runs the handler in
    the main thread all the same, inside the block: it is noted, and taken at the block's end."""
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        with stops_held():
            signal.pthread_kill(other.ident, signal.SIGTERM)
            time.sleep(0.2)
            assert taken == []
        assert taken == [signal.SIGTERM]
    finally:
        stop.set()
        other.join()


def test_blocks_inside_blocks_take_the_stop_at_the_outermost_end(taken):
    with stops_held():
        with stops_held():
            signal.raise_signal(signal.SIGTERM)
        time.sleep(0.05)
        assert taken == []
    assert taken == [signal.SIGTERM]


def test_the_handlers_are_given_back(taken):
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    with stops_held():
        pass
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
