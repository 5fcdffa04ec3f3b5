import numpy as np
import pytest

from gptspec import ArgumentTypeError, ShapeError, SoftmaxInputError, TemperatureError, impl
from tests.helpers import randn

rng = np.random.default_rng(2)


def direct(x, T, axis):
    e = np.exp(x / T)
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("T", [0.25, 0.5, 1.0, 2.0, 7.0])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_matches_the_direct_formula(T, axis):
    x = randn(rng, 4, 5)
    np.testing.assert_allclose(impl.softmax(x, T, axis), direct(x, T, axis), rtol=1e-12)


def test_keyword_arguments():
    x = randn(rng, 3, 4)
    np.testing.assert_allclose(impl.softmax(x, temperature=0.5, axis=0), direct(x, 0.5, 0))


@pytest.mark.parametrize("dtype, big", [(np.float64, 1e30), (np.float64, 1.7e308), (np.float32, 3e38), (np.float16, 6e4)])
def test_huge_finite_logits_give_no_nan_and_no_overflow(dtype, big):
    x = np.array([big, -big, 0.0, big / 2], dtype=dtype)
    with np.errstate(all="raise"):
        p = impl.softmax(x)
    assert p.dtype == dtype and np.all(np.isfinite(p))
    np.testing.assert_allclose(p.astype(np.float64), [1, 0, 0, 0], atol=1e-3)


def test_float16_works_and_sums_to_one():
    x = randn(rng, 50257, dtype=np.float16)
    p = impl.softmax(x)
    assert p.dtype == np.float16
    assert abs(float(p.astype(np.float64).sum()) - 1) < 1e-2


def test_minus_infinity_gets_exactly_zero():
    p = impl.softmax(np.array([0.0, -np.inf, 1.0]))
    assert p[1] == 0.0 and abs(p.sum() - 1) < 1e-15


def test_tiny_temperature_is_one_hot_without_nan():
    p = impl.softmax(np.array([1.0, 3.0, 2.0]), 1e-300)
    np.testing.assert_array_equal(p, [0, 1, 0])


@pytest.mark.parametrize("T", [0.0, -1.0, float("nan"), float("inf"), -float("inf")])
def test_invalid_temperature(T):
    with pytest.raises(TemperatureError, match="0 < T < inf"):
        impl.softmax(np.zeros(3), T)


@pytest.mark.parametrize("T", ["1", None, True])
def test_temperature_must_be_a_number(T):
    with pytest.raises(ArgumentTypeError):
        impl.softmax(np.zeros(3), T)


@pytest.mark.parametrize("x, what", [([-np.inf, -np.inf], "all −inf"), ([0.0, np.nan], "NaN"), ([np.inf, 0.0], r"\+inf")])
def test_slices_without_a_distribution_are_errors(x, what):
    with pytest.raises(SoftmaxInputError, match=what):
        impl.softmax(np.array(x))


def test_axis_out_of_range():
    with pytest.raises(ShapeError, match="axis 2 is out of range"):
        impl.softmax(np.zeros((2, 3)), 1.0, 2)
