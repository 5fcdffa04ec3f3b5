"""The per-call time limit: a hang raises CallTimeout in time, and other timers survive it."""

from __future__ import annotations

import signal
import threading
import time

import pytest

from gptspec.verification.timeouts import CallTimeout, can_limit, time_limit

pytestmark = pytest.mark.skipif(not can_limit(), reason="needs SIGALRM on the main thread")


def test_a_python_loop_that_never_ends_is_stopped_at_the_limit():
    with pytest.raises(CallTimeout, match="per-call limit of 0.05 s"):
        with time_limit(0.05):
            while True:
                pass


def test_a_call_within_the_limit_returns_and_leaves_no_timer_behind():
    with time_limit(1.0):
        total = sum(range(1000))
    assert total == 499500
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_a_timeout_is_not_an_exception_so_any_exception_handlers_cannot_swallow_it():
    assert not issubclass(CallTimeout, Exception)
    with pytest.raises(CallTimeout):
        with time_limit(0.05):
            try:
                time.sleep(5)
            except Exception:  # a target's own handler, or a property's "any exception rejects"
                pass


def test_an_outer_timer_is_restored_with_the_time_it_had_left():
    fired = []
    before = signal.signal(signal.SIGALRM, lambda *_: fired.append(True))
    try:
        signal.setitimer(signal.ITIMER_REAL, 10.0)
        with time_limit(0.5):
            pass
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 9.0 < left <= 10.0
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, before)
    assert not fired


def test_off_the_main_thread_calls_run_without_a_limit():
    seen = []

    def worker():
        seen.append(can_limit())
        with time_limit(0.01):
            time.sleep(0.05)
        seen.append("returned")

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == [False, "returned"]
