"""The helpers the families share: the softmax definition, model examples and their tolerance, describe."""

import numpy as np
from hypothesis import given, settings

from gptspec import impl
from gptspec.properties.common import describe, model_prefixes, model_tolerance, plain_softmax
from gptspec.properties.tolerance import tolerance


def test_plain_softmax_is_the_definition():
    x = np.array([1.0, -2.0, 0.5], dtype=np.float32)
    z = np.exp(x.astype(np.float64))
    np.testing.assert_allclose(plain_softmax(x), z / z.sum(), rtol=1e-15)
    np.testing.assert_allclose(plain_softmax(x, 0.5), z**2 / (z**2).sum(), rtol=1e-15)
    assert plain_softmax(x).dtype == np.float64


def test_plain_softmax_has_no_nan_at_the_limits():
    np.testing.assert_array_equal(plain_softmax(np.array([1.0, 1.0]), 5e-324), [0.5, 0.5])  # (max − max) / T is 0
    np.testing.assert_array_equal(plain_softmax(np.array([-np.inf, 0.0])), [0.0, 1.0])


def test_describe_shows_shapes_and_scalars():
    args = (np.zeros((2, 3)), np.zeros(4, dtype=np.int64), 0.5, 3, True, np.random.default_rng(0))
    assert describe(args) == "(2, 3), (4,), 0.5, 3, True, Generator"


@settings(max_examples=5, deadline=None)
@given(model_prefixes())
def test_model_prefixes_are_float64_with_a_proper_prefix(example):
    m, p = example
    assert m.weights.W_U.dtype == np.float64
    assert 1 <= p < m.tokens.shape[0]
    logits = impl.forward(m.tokens, m.weights)
    assert model_tolerance(m, logits) >= tolerance(np.float64).rtol * np.max(np.abs(logits))
