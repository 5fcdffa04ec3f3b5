"""A per-call time limit, so that a hanging target function is reported instead of hanging the run.

The limit is a real-time interval timer (``signal.setitimer``) whose SIGALRM handler raises
:class:`CallTimeout` inside the running call. Consequences, by design:

- ``CallTimeout`` is a ``BaseException``, not an ``Exception``: a property that counts "any
  exception" as rejecting invalid input does not count a hang as a rejection, and Hypothesis
  stops at once instead of shrinking a hang (each shrink step would hang again).
- Python can only run the handler between bytecodes, so a hang inside one long C call (a huge
  matmul) is interrupted when that call returns; a Python loop or ``time.sleep`` is interrupted
  on time.
- Signals reach the main thread only: off the main thread (a test runner running tests in a
  worker thread) calls run without a limit, and :func:`can_limit` says so.

A timer already set by someone else (pytest-timeout, say) is saved and restored around the call.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

__all__ = ["CallTimeout", "can_limit", "time_limit"]


class CallTimeout(BaseException):
    """A call of the target ran longer than the per-call limit."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"did not return within the per-call limit of {seconds:g} s")
        self.seconds = seconds


def can_limit() -> bool:
    """Whether this thread can time-limit calls (the main thread, on a system with SIGALRM)."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`CallTimeout` in the block once ``seconds`` have passed (None or 0: no limit)."""
    if not seconds or not can_limit():
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise CallTimeout(seconds)

    before_handler = signal.signal(signal.SIGALRM, expire)
    before_delay, before_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    started = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, before_handler)
        if before_delay:  # give the outer timer what is left of its time (at least a tick)
            left = max(before_delay - (time.monotonic() - started), 1e-3)
            signal.setitimer(signal.ITIMER_REAL, left, before_interval)
