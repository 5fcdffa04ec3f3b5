"""Expectations fail with what was expected and what came back, never with an array dump."""

import numpy as np
import pytest

from gptspec.properties import expect
from gptspec.properties.registry import PropertyFailure


def test_close_names_the_worst_entry_with_expected_and_got():
    want = np.zeros((3, 4))
    got = want.copy()
    got[2, 1], got[0, 0] = 0.5, 1e-3
    with pytest.raises(PropertyFailure) as failure:
        expect.close("ΔE", got, want, 1e-2)
    message = str(failure.value)
    assert "ΔE at [2, 1]: expected 0, got 0.5" in message and "1 of 12 entries off, shape (3, 4)" in message


def test_close_counts_nan_as_off_and_shape_mismatch_as_failure():
    with pytest.raises(PropertyFailure, match="got nan"):
        expect.close("p", np.array([np.nan, 1.0]), np.array([0.0, 1.0]), 1.0)
    with pytest.raises(PropertyFailure, match=r"expected shape \(2, 3\), got \(3, 2\)"):
        expect.close("E", np.zeros((3, 2)), np.zeros((2, 3)), 1.0)


def test_close_shows_enough_digits_to_tell_the_two_apart():
    with pytest.raises(PropertyFailure, match="expected -21.999985, got -21.99999333"):
        expect.close("logits", np.array([-21.99999333]), np.array([-21.999985]), 1e-9)


def test_equal_is_exact_and_within_rejects_out_of_range():
    expect.equal("mask", np.eye(2, dtype=bool), np.eye(2, dtype=bool))
    with pytest.raises(PropertyFailure, match=r"A at \[1, 0\]: expected exactly 0, got 1e-300"):
        expect.equal("A", np.array([[1.0, 0.0], [1e-300, 1.0]]), np.eye(2))
    with pytest.raises(PropertyFailure, match=r"expected a value in \[0, 1\], got -0.25"):
        expect.within("p", np.array([0.5, -0.25]), 0.0, 1.0)


def test_rejects_accepts_any_exception_and_fails_on_a_returned_value():
    expect.rejects("embed(id −1)", lambda: [][1])
    with pytest.raises(PropertyFailure, match=r"expected an exception, got an array of shape \(2, 1\)"):
        expect.rejects("embed(id −1)", lambda: np.zeros((2, 1)))
    with pytest.raises(PropertyFailure, match="expected an exception, got 3"):
        expect.rejects("sample(T=3)", lambda: 3)
