"""The guard: output captured, warnings recorded, the function that raised or hung remembered."""

from __future__ import annotations

import sys
import time
import warnings

import pytest

from gptspec.verification.guard import Guard
from gptspec.verification.timeouts import CallTimeout, can_limit


def noisy(x):
    print("debug: x =", x)
    print("more", file=sys.stderr)
    warnings.warn("careful", UserWarning)
    return x + 1


def test_output_and_warnings_are_captured_and_summarised_per_function(capsys):
    guard = Guard(timeout=None)
    f = guard("mlp", noisy)
    assert f(1) == 2 and f(2) == 3
    assert capsys.readouterr() == ("", "")
    assert guard.notes() == [
        "mlp printed 36 characters (captured), first line: 'debug: x = 1'",
        "mlp warned 2×: UserWarning: careful",
    ]
    guard.reset()
    assert guard.notes() == []


def test_an_exception_is_re_raised_and_remembered_with_its_function():
    guard = Guard(timeout=None)

    def broken(x):
        raise IndexError("index 3 is out of bounds")

    with pytest.raises(IndexError) as info:
        guard("embed", broken)(1)
    assert guard.raised == ("embed", info.value)


@pytest.mark.skipif(not can_limit(), reason="needs SIGALRM on the main thread")
def test_a_hang_is_stopped_and_remembered():
    guard = Guard(timeout=0.05)
    with pytest.raises(CallTimeout):
        guard("softmax", lambda: time.sleep(5))()
    assert guard.timed_out == "softmax" and guard.raised is None
