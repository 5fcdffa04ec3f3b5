"""The guard: output captured, warnings recorded, an exception marked with the function it came from."""

from __future__ import annotations

import sys
import warnings

import pytest

from gptspec.verification.guard import Guard, exception_text, raised_by


def noisy(x):
    print("debug: x =", x)
    print("more", file=sys.stderr)
    warnings.warn("careful", UserWarning)
    return x + 1


def test_output_and_warnings_are_captured_and_summarised_per_function(capsys):
    guard = Guard()
    f = guard("mlp", noisy)
    assert f(1) == 2 and f(2) == 3
    assert capsys.readouterr() == ("", "")
    assert guard.notes() == [
        "mlp printed 36 bytes (captured), first line: 'debug: x = 1'",
        "mlp warned 2×: UserWarning: careful",
    ]
    guard.reset()
    assert guard.notes() == []


def test_an_exception_is_re_raised_and_marked_with_its_function():
    guard = Guard()

    def broken(x):
        raise IndexError("index 3 is out of bounds")

    with pytest.raises(IndexError) as info:
        guard("embed", broken)(1)
    assert raised_by(info.value) == "embed"
    assert exception_text(info.value).startswith("IndexError: index 3 is out of bounds (test_guard.py line ")


def test_an_exception_the_property_raises_is_not_the_targets():
    assert raised_by(ValueError("the property's own")) is None


def test_a_target_function_called_through_another_is_marked_with_the_outer_one():
    guard = Guard()

    def inner(x):
        raise KeyError(x)

    outer = guard("multi_head_attention", lambda x: guarded_inner(x))
    guarded_inner = guard("attention_head", inner)
    with pytest.raises(KeyError) as info:
        outer(1)
    assert raised_by(info.value) == "multi_head_attention"
