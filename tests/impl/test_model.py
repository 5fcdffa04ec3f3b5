import numpy as np
import pytest

from gptspec import ContextLengthError, TemperatureError, TokenError, bind, impl
from tests.helpers import TINY, randn

rng = np.random.default_rng(6)
WEIGHTS = impl.random_weights(TINY, 0, dtype=np.float64, scale=0.5)


def test_layer_norm_normalises_each_column_then_scales_and_shifts():
    E = randn(rng, 8, 4) * 3 + 1
    gain, bias = randn(rng, 8), randn(rng, 8)
    out = impl.layer_norm(E, gain, bias)
    normed = (out - bias[:, None]) / gain[:, None]
    np.testing.assert_allclose(normed.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(normed.var(axis=0), 1, rtol=1e-4)


def test_block_is_pre_layer_norm_with_residual_adds():
    E, w = randn(rng, 8, 5), WEIGHTS.blocks[0]
    E1 = E + impl.multi_head_attention(impl.layer_norm(E, w.ln1_gain, w.ln1_bias), w.W_Q, w.W_K, w.W_V_down, w.W_O)
    E2 = E1 + impl.mlp(impl.layer_norm(E1, w.ln2_gain, w.ln2_bias), w.W_up, w.b_up, w.W_down, w.b_down)
    np.testing.assert_allclose(impl.block(E, w), E2, rtol=1e-12)


def test_forward_composes_embed_blocks_final_norm_unembed():
    tokens = np.array([3, 1, 4, 1, 5])
    E = impl.embed(tokens, WEIGHTS.W_E) + WEIGHTS.W_pos[:, :5]
    for b in WEIGHTS.blocks:
        E = impl.block(E, b)
    logits = WEIGHTS.W_U @ impl.layer_norm(E, WEIGHTS.lnf_gain, WEIGHTS.lnf_bias)
    np.testing.assert_allclose(impl.forward(tokens, WEIGHTS), logits, rtol=1e-12)


def test_next_token_probs_is_softmax_of_the_last_column():
    tokens = np.array([2, 7, 1])
    for T in (0.5, 1.0, 1.7):
        expected = impl.softmax(impl.forward(tokens, WEIGHTS)[:, -1], T)
        np.testing.assert_allclose(impl.next_token_probs(tokens, WEIGHTS, T), expected, rtol=1e-10)


def test_model_level_bad_input():
    with pytest.raises(TokenError, match="forward: token id 13"):
        impl.forward(np.array([13]), WEIGHTS)
    with pytest.raises(ContextLengthError, match="ctx = 7, more than n_ctx = 6"):
        impl.forward(np.zeros(7, dtype=np.int64), WEIGHTS)
    with pytest.raises(TemperatureError):
        impl.next_token_probs(np.array([1]), WEIGHTS, 0.0)


def test_bound_config_must_match_the_weights():
    with bind(TINY.replace(d_mlp=17)), pytest.raises(ValueError, match="d_mlp = 17 \\(bound by config"):
        impl.forward(np.array([1]), WEIGHTS)


def test_errors_inside_the_stack_name_the_layer():
    w = impl.random_weights(TINY, 0)
    broken = w.blocks[1].__class__(**{**w.blocks[1].__dict__, "W_O": np.zeros((8, 5), np.float32)})
    bad = w.__class__(**{**w.__dict__, "blocks": (w.blocks[0], broken)})
    # forward checks the whole container first; the stack itself names the layer of the bad block
    with pytest.raises(ValueError, match=r"^layer 1 › block: weights.W_O axis 1 is n_heads\*d_head = 6"):
        impl.model.final_residual(np.array([1]), bad, "forward")
