import math

import numpy as np
import pytest

from gptspec import ShapeError, impl
from tests.helpers import randn

rng = np.random.default_rng(3)


def direct_pattern(Q, K, causal):
    d_head, n = Q.shape[0], K.shape[1]
    A = np.zeros((n, Q.shape[1]))
    for q in range(Q.shape[1]):
        keys = range(q + 1) if causal else range(n)
        s = np.array([K[:, k] @ Q[:, q] / math.sqrt(d_head) for k in keys])
        w = np.exp(s - s.max())
        A[list(keys), q] = w / w.sum()
    return A


def test_causal_mask_keys_down_queries_across_lower_left_masked():
    m = impl.causal_mask(4)
    assert m.dtype == bool
    for k in range(4):
        for q in range(4):
            assert m[k, q] == (k <= q)


@pytest.mark.parametrize("causal", [True, False])
def test_pattern_matches_a_loop_over_columns(causal):
    Q, K = randn(rng, 3, 5), randn(rng, 3, 5)
    np.testing.assert_allclose(impl.attention_pattern(Q, K, causal), direct_pattern(Q, K, causal), rtol=1e-12)


def test_masked_entries_are_exactly_zero_and_columns_sum_to_one():
    Q, K = randn(rng, 3, 6) * 1e3, randn(rng, 3, 6) * 1e3
    A = impl.attention_pattern(Q, K)
    assert np.all(A[np.tril_indices(6, -1)] == 0)
    np.testing.assert_allclose(A.sum(axis=0), 1)


def test_cross_pattern_has_different_key_and_query_lengths():
    A = impl.attention_pattern(randn(rng, 3, 2), randn(rng, 3, 7), False)
    assert A.shape == (7, 2)


def test_causal_needs_equal_lengths():
    with pytest.raises(ShapeError, match="needs ctx_q = ctx_k, got ctx_q = 2, ctx_k = 7"):
        impl.attention_pattern(randn(rng, 3, 2), randn(rng, 3, 7), True)


def test_float32_stays_float32():
    Q = randn(rng, 3, 4, dtype=np.float32)
    assert impl.attention_pattern(Q, Q).dtype == np.float32


def test_attention_head_is_value_up_value_down_E_A():
    E = randn(rng, 8, 5)
    W_Q, W_K, W_V_down = randn(rng, 3, 8), randn(rng, 3, 8), randn(rng, 3, 8)
    W_V_up = randn(rng, 8, 3)
    A = direct_pattern(W_Q @ E, W_K @ E, True)
    np.testing.assert_allclose(impl.attention_head(E, W_Q, W_K, W_V_down, W_V_up), W_V_up @ W_V_down @ E @ A, rtol=1e-10)


def test_cross_attention_head_reads_keys_and_values_from_the_other_sequence():
    E_q, E_kv = randn(rng, 8, 2), randn(rng, 8, 6)
    W_Q, W_K, W_V_down, W_V_up = randn(rng, 3, 8), randn(rng, 3, 8), randn(rng, 3, 8), randn(rng, 8, 3)
    A = direct_pattern(W_Q @ E_q, W_K @ E_kv, False)
    out = impl.cross_attention_head(E_q, E_kv, W_Q, W_K, W_V_down, W_V_up)
    assert out.shape == (8, 2)
    np.testing.assert_allclose(out, W_V_up @ W_V_down @ E_kv @ A, rtol=1e-10)
