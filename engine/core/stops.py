"""Ctrl-C and SIGTERM held back while a step runs that a stop must not cut in two: a folder made but
not yet known to whoever removes it, a worker process started but not yet handed what it runs, the
rule engine running an action (rules/evaluator.py)."""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator

STOPS = (signal.SIGINT, signal.SIGTERM)  # (a run started from the command line takes a SIGTERM as a Ctrl-C)


@contextmanager
def stops_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM held back for the block's length, and taken as soon as it ends, under the
    handlers they would have met.
    - In the main thread, their handlers are replaced by ones that only note them: the system may
      hand a signal to any thread of the process (a process pool's), and Python then runs its
      handler in the main thread wherever that thread is, so a mask alone would not do.
    - The thread that runs the block blocks them (where the system can), and so does a process
      started in it, from its first instruction: a Ctrl-C reaches every process of the terminal,
      and a worker still starting would die of it with Python's own traceback. A worker unblocks
      them once its own handlers are set (`unblock_stops`)."""
    main = threading.current_thread() is threading.main_thread()
    noted: list[int] = []

    def note(signum: int, _frame: object) -> None:
        noted.append(signum)

    handlers = [signal.signal(s, note) for s in STOPS] if main else []
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, STOPS) if hasattr(signal, "pthread_sigmask") else None
    try:
        yield
    finally:
        if mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        for s, handler in zip(STOPS, handlers):
            if signal.getsignal(s) is note:  # (one the block set stays: a stop may be ignored from now on)
                signal.signal(s, handler if handler is not None else signal.SIG_DFL)
        for signum in dict.fromkeys(noted):
            signal.raise_signal(signum)


def unblock_stops() -> None:
    """In a process started inside `stops_held`, once its own handlers are set: stops taken again
    (one that came meanwhile is taken now, as those handlers say)."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPS)
