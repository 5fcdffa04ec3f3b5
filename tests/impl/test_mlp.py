import math

import numpy as np

from gptspec import impl
from tests.helpers import randn

rng = np.random.default_rng(5)


def test_gelu_tanh_form_at_known_points():
    x = np.array([-3.0, -1.0, 0.0, 1.0, 3.0])
    expected = [0.5 * v * (1 + math.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v**3))) for v in x]
    np.testing.assert_allclose(impl.gelu(x), expected, rtol=1e-14)
    assert abs(impl.gelu(np.array([1.0]))[0] - 0.8411920) < 1e-6


def test_mlp_is_down_of_gelu_of_up_plus_biases():
    E = randn(rng, 4, 3)
    W_up, b_up, W_down, b_down = randn(rng, 6, 4), randn(rng, 6), randn(rng, 4, 6), randn(rng, 4)
    H = impl.gelu(W_up @ E + b_up[:, None])
    np.testing.assert_allclose(impl.mlp(E, W_up, b_up, W_down, b_down), W_down @ H + b_down[:, None])


def test_each_column_is_independent():
    E = randn(rng, 4, 3)
    args = randn(rng, 6, 4), randn(rng, 6), randn(rng, 4, 6), randn(rng, 4)
    np.testing.assert_allclose(impl.mlp(E, *args)[:, 1], impl.mlp(E[:, 1:2], *args)[:, 0])
