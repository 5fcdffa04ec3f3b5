import numpy as np
import pytest

from gptspec import ArgumentTypeError, SoftmaxInputError, TemperatureError, impl


def test_zero_temperature_is_argmax_first_on_ties():
    rng = np.random.default_rng(0)
    assert impl.sample(np.array([0.0, 5.0, 5.0, 1.0]), 0.0, rng) == 1
    assert impl.sample(np.array([0.0, 5.0, 5.0 + 1e-12]), 0, rng) == 2


def test_returns_a_python_int():
    assert type(impl.sample(np.zeros(4), 1.0, np.random.default_rng(0))) is int


def test_draws_follow_softmax_of_logits_over_T():
    logits, T, n = np.array([0.0, 1.0, 2.0, -np.inf]), 0.7, 20000
    rng = np.random.default_rng(123)
    counts = np.bincount([impl.sample(logits, T, rng) for _ in range(n)], minlength=4)
    p = impl.softmax(logits, T)
    assert counts[3] == 0  # probability 0 is never drawn
    # each count within 5 standard deviations: a false alarm less than once in a million runs
    sd = np.sqrt(n * p * (1 - p))
    assert np.all(np.abs(counts - n * p) <= 5 * sd + 1e-9)


@pytest.mark.parametrize("T", [-0.01, 2.0001, 3.0, float("nan"), float("inf")])
def test_temperature_outside_0_2_is_rejected(T):
    with pytest.raises(TemperatureError, match="0 <= T <= 2"):
        impl.sample(np.zeros(3), T, np.random.default_rng(0))


def test_bounds_are_allowed():
    rng = np.random.default_rng(0)
    impl.sample(np.zeros(3), 2.0, rng)
    impl.sample(np.zeros(3), 0.0, rng)


def test_nan_logits_are_rejected():
    with pytest.raises(SoftmaxInputError):
        impl.sample(np.array([0.0, np.nan]), 0.0, np.random.default_rng(0))


def test_rng_must_be_a_generator():
    with pytest.raises(ArgumentTypeError):
        impl.sample(np.zeros(3), 1.0, np.random.RandomState(0))
