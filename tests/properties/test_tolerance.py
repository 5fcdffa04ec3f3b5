"""Tolerances: one per dtype, each with its reason, and wide enough for the reference's own rounding."""

import numpy as np
import pytest

from gptspec import impl
from gptspec.properties.tolerance import TOLERANCES, head_tolerance, tolerance


@pytest.mark.parametrize("dtype", list(TOLERANCES))
def test_every_dtype_has_a_reason_and_a_tolerance_above_its_epsilon(dtype):
    t = TOLERANCES[dtype]
    assert t.reason.strip() and t.dtype == dtype
    assert t.eps == np.finfo(dtype).eps and t.rtol > 100 * t.eps and t.atol < t.eps


def test_other_floats_use_the_nearest_known_tolerance():
    assert tolerance(np.float16) is TOLERANCES[np.dtype(np.float32)]
    assert tolerance(np.longdouble) is TOLERANCES[np.dtype(np.float64)]


@pytest.mark.parametrize("dtype", list(TOLERANCES))
def test_softmax_sums_are_within_the_normalisation_bound(dtype):
    x = np.random.default_rng(0).normal(size=(200, 8)).astype(dtype) * 30
    total = impl.softmax(x).astype(np.float64).sum(axis=-1)
    assert np.max(np.abs(total - 1)) <= tolerance(dtype).normalisation(8)


def test_head_tolerance_grows_with_the_scores():
    rng = np.random.default_rng(1)
    E, W = rng.normal(size=(4, 3)).astype(np.float32), rng.normal(size=(2, 4)).astype(np.float32)
    small = head_tolerance(E, E, W, W, W, W.T)
    large = head_tolerance(E, E, 100 * W, 100 * W, W, W.T)
    assert 0 < small < large
