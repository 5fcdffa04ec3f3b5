"""The adapters carry a KV cache across layouts: K_past, V_past [n_heads d_head ctx_past] are
transposed in their last two axes for the rows layout, inside the cache's pairs and in the results."""

import pathlib

import numpy as np
import pytest

from gptspec import impl
from gptspec.target import load
from gptspec.verification.adapters import adapt
from tests.helpers import TINY, randn

from .test_adapters import EXAMPLES

rng = np.random.default_rng(23)


def test_a_rows_kv_cache_adapted_agrees_with_the_reference_cache_and_all():
    target = load(EXAMPLES / "numpy_kv_cache.py")
    assert {"forward_cached", "multi_head_attention_cached"} <= set(target.provides)
    adapted = adapt(target.obj, target.provides, layout="rows", framework="numpy")
    w = impl.random_weights(TINY, 0, dtype=np.float64)
    tokens = np.array([1, 2, 3, 4])
    for cache in (None, impl.forward_cached(tokens[:2], w)[1]):
        got, want = adapted.forward_cached(tokens[2:], w, cache), impl.forward_cached(tokens[2:], w, cache)
        np.testing.assert_allclose(got[0], want[0], rtol=1e-10, atol=1e-12)
        assert isinstance(got[1], tuple) and len(got[1]) == TINY.n_layers
        for pair, expected in zip(got[1], want[1]):
            for a, b in zip(pair, expected):
                assert a.shape == b.shape
                np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    b = w.blocks[0]
    E, K_past, V_past = randn(rng, TINY.d_model, 2), randn(rng, TINY.n_heads, TINY.d_head, 3), randn(rng, 2, 3, 3)
    args = (E, b.W_Q, b.W_K, b.W_V_down, b.W_O, K_past, V_past)
    for got, want in zip(adapted.multi_head_attention_cached(*args), impl.multi_head_attention_cached(*args)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_rows_swaps_the_last_two_axes_of_the_cache_on_the_way_in_and_out():
    seen = {}

    def forward_cached(tokens, weights, cache=None):
        seen["cache"] = [tuple(a.shape for a in pair) for pair in cache]
        return np.zeros((len(tokens), weights.W_E.shape[0])), [list(pair) for pair in cache]  # rows: [vocab d_model]

    module = type("M", (), {"forward_cached": staticmethod(forward_cached)})
    adapted = adapt(module, ("forward_cached",), layout="rows")
    w = impl.random_weights(TINY, 0, dtype=np.float64)
    cache = tuple((np.zeros((2, 3, 5)), np.ones((2, 3, 5))) for _ in range(TINY.n_layers))
    logits, back = adapted.forward_cached(np.array([1]), w, cache)
    assert seen["cache"] == [((2, 5, 3), (2, 5, 3))] * TINY.n_layers  # [n_heads ctx_past d_head]
    assert logits.shape == (TINY.vocab, 1)
    assert [tuple(a.shape for a in pair) for pair in back] == [((2, 3, 5), (2, 3, 5))] * TINY.n_layers
    assert isinstance(back, tuple) and all(isinstance(pair, tuple) for pair in back)


def test_a_target_that_writes_into_the_cache_it_was_given_fails_in_its_own_process():
    from gptspec.verification import verify

    target = pathlib.Path(__file__).resolve().parent / "targets" / "cache_mutated.py"
    report = verify(target, profile="quick", seed=0, only=["decode"], jobs=1)
    status = {r.name: r.status for r in report.results if r.status != "not provided"}
    assert status["decode.cache_not_modified"] == "failed"
    # every number it returns is right: what fails, in every property that hands it a cache, is the write
    for r in report.results:
        if r.status == "failed":
            assert "forward_cached modified its argument cache[0][0] in place" in r.failure.message, r.name
    assert set(status.values()) == {"failed", "passed"} and report.exit_code == 1


def test_a_cache_left_alone_passes_the_check_and_a_copy_is_compared_not_the_object():
    from gptspec.verification import unmodified

    K = np.arange(6.0).reshape(1, 2, 3)
    kept = unmodified.keep(("tokens", "weights", "cache"), (None, None, ((K, K.copy()),)), (2,))
    unmodified.check("forward_cached", kept)
    K[0, 1, 2] = -1
    with pytest.raises(unmodified.ArgumentModified, match=r"cache\[0\]\[0\] in place at \[0, 1, 2\]: 5.0 became -1.0"):
        unmodified.check("forward_cached", kept)
