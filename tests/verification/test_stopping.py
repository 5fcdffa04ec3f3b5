"""Once the user has stopped a run (verification.stopping: noted by the CLI's signal handler before it
raises), a wait on a target ends within one poll and no request is sent nor process started, even
where the KeyboardInterrupt itself was lost on its way; without the note, the same wait goes on.
The target blocks (tests/verification/targets/blocks.py) and the note is made once it has: nothing
here depends on timing."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

import numpy as np
import pytest

from gptspec.target import address
from gptspec.verification import stopping
from gptspec.verification.isolation import CallTimeout, Setup, TargetProcess

from .processes import GUARD, TARGETS, carrying, token


@pytest.fixture
def blocking(tmp_path, monkeypatch):
    """A target process whose softmax blocks in its first call, touching a marker once it does;
    the processes carry a token (to find any left behind)."""
    mark, marker = token(), tmp_path / "marker"
    monkeypatch.setenv("GPTSPEC_TEST_MARKER", str(marker))
    monkeypatch.setenv("GPTSPEC_TEST_PHASE", "search")
    monkeypatch.setenv("GPTSPEC_TEST_TOKEN", mark)
    monkeypatch.syspath_prepend(str(TARGETS))
    with stopping.watching():
        yield marker, mark


def others(mark: str) -> list[int]:
    """The processes other than this one carrying ``mark``, once those already dying have gone."""
    until = time.monotonic() + GUARD
    while (left := [p for p in carrying(mark) if p != os.getpid()]) and time.monotonic() < until:
        time.sleep(0.05)
    return left


def _when(marker, then) -> threading.Thread:
    """``then()`` in a thread once ``marker`` exists (the target is blocked)."""
    def wait() -> None:
        while not marker.exists():
            threading.Event().wait(0.02)
        then()

    thread = threading.Thread(target=wait, daemon=True)
    thread.start()
    return thread


def test_a_stop_noted_while_a_target_blocks_ends_the_wait_and_its_process(blocking):
    marker, mark = blocking
    with TargetProcess(Setup(address(str(TARGETS / "blocks.py")), timeout=GUARD)) as process:
        thread = _when(marker, lambda: stopping.request(signal.SIGINT))
        with pytest.raises(KeyboardInterrupt):
            process.call("softmax", (np.array([0.0, 1.0]),), {})  # only the note ends it (the limit is a guard)
        thread.join()
        assert process.connection is None  # ended: its reply can never be read as a later one's
        assert process.take_noise() == {}
        with pytest.raises(KeyboardInterrupt):  # and no new process is started for another call
            process.call("softmax", (np.array([0.0, 1.0]),), {})
        assert process.connection is None
    assert others(mark) == []


def test_without_a_stop_the_same_wait_goes_on_to_the_per_call_limit(blocking):
    marker, mark = blocking
    setup = Setup(address(str(TARGETS / "blocks.py")), timeout=1.0)
    with TargetProcess(setup) as process:
        with pytest.raises(CallTimeout):
            process.call("softmax", (np.array([0.0, 1.0]),), {})
        assert marker.exists() and stopping.requested() is None
    assert others(mark) == []


def test_the_note_is_kept_from_the_first_signal_and_cleared_when_the_run_ends():
    with stopping.watching():
        assert stopping.requested() is None
        stopping.check()  # nothing noted: no raise
        stopping.request(signal.SIGTERM)
        stopping.request(signal.SIGINT)
        assert stopping.requested() == signal.SIGTERM
        with pytest.raises(KeyboardInterrupt):
            stopping.check()
    assert stopping.requested() is None


class _SignalledWhileCollected:
    """An object whose ``__del__`` is running when the user's signal comes: Python prints what a
    ``__del__`` raises ("Exception ignored") and goes on, so the KeyboardInterrupt is lost."""

    def __del__(self) -> None:
        os.kill(os.getpid(), signal.SIGINT)  # delivered before kill returns; its handler runs below
        for _ in range(10_000):
            pass


def test_a_signal_whose_keyboard_interrupt_is_lost_in_a_del_still_stops_the_next_wait(monkeypatch):
    from gptspec.cli.verify import Interrupts

    lost: list[BaseException | None] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda unraisable: lost.append(unraisable.exc_value))
    with Interrupts().installed() as interrupts:
        stopping.check()  # no signal yet
        doomed = _SignalledWhileCollected()
        del doomed  # the handler raises inside __del__: the exception goes nowhere
        assert interrupts.signal == signal.SIGINT and not interrupts.raising
        with pytest.raises(KeyboardInterrupt):  # but the note makes the next wait on a target raise it again
            stopping.check()
    assert [type(e) for e in lost] == [KeyboardInterrupt]  # what Python prints as "Exception ignored in ... __del__"
    assert stopping.requested() is None
