"""The reference's KV cache: chunks fed one after another equal the whole forward pass; the cache
passed in is untouched; positions continue; too long a context is an error, never a wrap."""

import numpy as np
import pytest

from gptspec import ContextLengthError, ShapeError, bind, impl
from gptspec.impl.cache import cached_mask, empty_cache
from gptspec.spec import ArgumentTypeError
from tests.helpers import TINY, randn

rng = np.random.default_rng(23)
WEIGHTS = impl.random_weights(TINY, 0, dtype=np.float64, scale=0.5)
TOKENS = np.array([3, 1, 4, 1, 5, 9, 2, 6])[: TINY.n_ctx]


def _feed(tokens, splits, cache=None):
    """forward_cached on each chunk in turn: every chunk's logits side by side, and the last cache."""
    columns = []
    for chunk in np.split(tokens, splits):
        logits, cache = impl.forward_cached(chunk, WEIGHTS, cache)
        columns.append(logits)
    return np.concatenate(columns, axis=1), cache


@pytest.mark.parametrize("splits", [[], [1], [3], [1, 2, 3, 4], [2, 3], list(range(1, len(TOKENS)))])
def test_any_split_gives_the_whole_forward_and_the_same_cache(splits):
    logits, cache = _feed(TOKENS, splits)
    np.testing.assert_allclose(logits, impl.forward(TOKENS, WEIGHTS), rtol=1e-10, atol=1e-12)
    _, whole = impl.forward_cached(TOKENS, WEIGHTS)
    for (K, V), (K1, V1) in zip(cache, whole):
        np.testing.assert_allclose(K, K1, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(V, V1, rtol=1e-10, atol=1e-12)


def test_the_cache_holds_each_layers_keys_and_value_downs():
    _, cache = impl.forward_cached(TOKENS[:1], WEIGHTS)
    w = WEIGHTS.blocks[0]
    E = impl.embed(TOKENS[:1], WEIGHTS.W_E) + WEIGHTS.W_pos[:, :1]
    x = impl.layer_norm(E, w.ln1_gain, w.ln1_bias)
    np.testing.assert_allclose(cache[0][0], w.W_K @ x, rtol=1e-12)
    np.testing.assert_allclose(cache[0][1], w.W_V_down @ x, rtol=1e-12)
    assert len(cache) == TINY.n_layers


def test_mha_cached_on_a_split_equals_mha_on_the_whole():
    E = randn(rng, TINY.d_model, 5)
    w = WEIGHTS.blocks[0]
    weights = (w.W_Q, w.W_K, w.W_V_down, w.W_O)
    K0, V0 = empty_cache(WEIGHTS)[0]
    d1, K1, V1 = impl.multi_head_attention_cached(E[:, :2], *weights, K0, V0)
    d2, K2, V2 = impl.multi_head_attention_cached(E[:, 2:], *weights, K1, V1)
    np.testing.assert_allclose(np.hstack([d1, d2]), impl.multi_head_attention(E, *weights), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(K2, w.W_K @ E, rtol=1e-12)
    np.testing.assert_allclose(V2, w.W_V_down @ E, rtol=1e-12)


def test_the_mask_is_the_whole_sequences_last_columns():
    assert cached_mask(2, 3).tolist() == impl.causal_mask(5)[:, 2:].tolist()
    assert cached_mask(3, 1).all()  # one new query sees every cached key and itself
    assert cached_mask(0, 3).tolist() == impl.causal_mask(3).tolist()


def test_the_cache_passed_in_is_not_modified():
    _, cache = impl.forward_cached(TOKENS[:3], WEIGHTS)
    before = [(K.copy(), V.copy()) for K, V in cache]
    impl.forward_cached(TOKENS[3:5], WEIGHTS, cache)
    impl.forward_cached(TOKENS[3:4], WEIGHTS, cache)  # a branch from the same cache
    for (K, V), (K0, V0) in zip(cache, before):
        assert np.array_equal(K, K0) and np.array_equal(V, V0)


def test_positions_continue_at_the_caches_length():
    _, cache = impl.forward_cached(TOKENS[:2], WEIGHTS)
    logits, _ = impl.forward_cached(TOKENS[2:3], WEIGHTS, cache)
    np.testing.assert_allclose(logits[:, 0], impl.forward(TOKENS[:3], WEIGHTS)[:, 2], rtol=1e-10)


def test_a_list_of_lists_and_an_empty_cache_are_accepted():
    _, cache = impl.forward_cached(TOKENS[:2], WEIGHTS)
    a, _ = impl.forward_cached(TOKENS[2:4], WEIGHTS, [list(pair) for pair in cache])
    b, _ = impl.forward_cached(TOKENS[2:4], WEIGHTS, tuple(cache))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(impl.forward_cached(TOKENS[:2], WEIGHTS, ())[0],
                                  impl.forward_cached(TOKENS[:2], WEIGHTS, empty_cache(WEIGHTS))[0])


def test_past_n_ctx_is_an_error_never_a_wrap():
    _, cache = impl.forward_cached(TOKENS[: TINY.n_ctx - 1], WEIGHTS)
    impl.forward_cached(TOKENS[:1], WEIGHTS, cache)  # exactly n_ctx: fine
    with pytest.raises(ContextLengthError, match=rf"ctx_past = {TINY.n_ctx - 1} .* ctx_new = 2: .* more than n_ctx"):
        impl.forward_cached(TOKENS[:2], WEIGHTS, cache)


def test_a_bad_cache_is_a_clear_error():
    _, cache = impl.forward_cached(TOKENS[:2], WEIGHTS)
    with pytest.raises(ShapeError, match="cache has 1 layers, the weights have n_layers = 2"):
        impl.forward_cached(TOKENS[:1], WEIGHTS, cache[:1])
    K, V = cache[0]
    with pytest.raises(ShapeError, match=r"cache\[0\]\[1\] axis 2 is ctx_past = 2 \(bound by cache\[0\]\[0\]\), got 1"):
        impl.forward_cached(TOKENS[:1], WEIGHTS, ((K, V[..., :1]), cache[1]))
    with pytest.raises(ArgumentTypeError, match=r"cache\[0\] should be a tuple of 2 items, got 3"):
        impl.forward_cached(TOKENS[:1], WEIGHTS, ((K, V, V), cache[1]))


def test_bound_config_checks_the_new_dims():
    _, cache = impl.forward_cached(TOKENS[:2], WEIGHTS)
    with bind(TINY):
        impl.forward_cached(TOKENS[2:3], WEIGHTS, cache)
