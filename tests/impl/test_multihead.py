import numpy as np
import pytest

from gptspec import impl
from tests.helpers import randn

rng = np.random.default_rng(4)


@pytest.mark.parametrize("n_heads, d_head, d_model", [(1, 4, 4), (3, 2, 8), (2, 5, 7)])
@pytest.mark.parametrize("causal", [True, False])
def test_equals_the_sum_of_heads_with_value_up_blocks_of_W_O(n_heads, d_head, d_model, causal):
    E = randn(rng, d_model, 6)
    W_Q, W_K, W_V = (randn(rng, n_heads, d_head, d_model) for _ in range(3))
    W_O = randn(rng, d_model, n_heads * d_head)
    expected = sum(
        impl.attention_head(E, W_Q[h], W_K[h], W_V[h], W_O[:, h * d_head : (h + 1) * d_head], causal)
        for h in range(n_heads)
    )
    np.testing.assert_allclose(impl.multi_head_attention(E, W_Q, W_K, W_V, W_O, causal), expected, rtol=1e-10)


def test_float32_stays_float32():
    E = randn(rng, 4, 3, dtype=np.float32)
    W = randn(rng, 2, 2, 4, dtype=np.float32)
    assert impl.multi_head_attention(E, W, W, W, randn(rng, 4, 4, dtype=np.float32)).dtype == np.float32
