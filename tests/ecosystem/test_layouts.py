"""ecosystem.layouts: each layout's parameters, used the way that layout's code uses them, compute
the spec's multi-head attention; and spec_attention reads them back exactly."""

from __future__ import annotations

import numpy as np
import pytest

from gptspec.ecosystem.layouts import WEIGHT_LAYOUTS, attention_biases, attention_state, spec_attention
from gptspec.impl import multi_head_attention

N_HEADS, D_HEAD, D_MODEL, CTX = 3, 2, 6, 5


def _weights(seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    stacked = [rng.normal(size=(N_HEADS, D_HEAD, D_MODEL)) for _ in range(3)]
    return (*stacked, rng.normal(size=(D_MODEL, N_HEADS * D_HEAD)))


def _attend(q: np.ndarray, k: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Causal attention in rows, per head: q, k, v [heads ctx d_head] -> [heads ctx d_head]."""
    scores = q @ k.transpose(0, 2, 1) / np.sqrt(q.shape[-1])
    scores = np.where(np.tril(np.ones((CTX, CTX), dtype=bool)), scores, -np.inf)
    p = np.exp(scores - scores.max(-1, keepdims=True))
    return (p / p.sum(-1, keepdims=True)) @ v


def _heads(a: np.ndarray) -> np.ndarray:
    """[ctx n_heads·d_head] -> [n_heads ctx d_head], as .view(T, n_heads, d_head).transpose(0, 1)."""
    return a.reshape(CTX, N_HEADS, D_HEAD).transpose(1, 0, 2)


def _merge(z: np.ndarray) -> np.ndarray:
    """[n_heads ctx d_head] -> [ctx n_heads·d_head], head after head."""
    return z.transpose(1, 0, 2).reshape(CTX, N_HEADS * D_HEAD)


def _as_the_layout_computes(layout: str, state: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """y [ctx d_model] from x [ctx d_model], the way code in ``layout`` uses its parameters."""
    if layout == "fused-linear":  # nn.Linear: x @ weight.T; q, k, v = split(d_model)
        q, k, v = np.split(x @ state["c_attn.weight"].T, 3, axis=1)
        return _merge(_attend(_heads(q), _heads(k), _heads(v))) @ state["c_proj.weight"].T
    if layout == "hf-gpt2":  # Conv1D: x @ weight
        q, k, v = np.split(x @ state["c_attn.weight"], 3, axis=1)
        return _merge(_attend(_heads(q), _heads(k), _heads(v))) @ state["c_proj.weight"]
    if layout == "qkvo-linear":
        q, k, v = (x @ state[f"{n}_proj.weight"].T for n in "qkv")
        return _merge(_attend(_heads(q), _heads(k), _heads(v))) @ state["o_proj.weight"].T
    q, k, v = (np.einsum("tm,hmd->htd", x, state[n]) for n in ("W_Q", "W_K", "W_V"))  # TransformerLens
    return np.einsum("htd,hdm->tm", _attend(q, k, v), state["W_O"])


@pytest.mark.parametrize("layout", list(WEIGHT_LAYOUTS))
def test_each_layout_computes_the_spec_multi_head_attention(layout):
    W_Q, W_K, W_V_down, W_O = _weights()
    E = np.random.default_rng(1).normal(size=(D_MODEL, CTX))
    y = _as_the_layout_computes(layout, attention_state(layout, W_Q, W_K, W_V_down, W_O), E.T)
    np.testing.assert_allclose(y.T, multi_head_attention(E, W_Q, W_K, W_V_down, W_O), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("layout", list(WEIGHT_LAYOUTS))
def test_spec_attention_reads_a_layout_back_exactly(layout):
    weights = _weights(2)
    back = spec_attention(layout, attention_state(layout, *weights), N_HEADS)
    for name, got, want in zip(("W_Q", "W_K", "W_V_down", "W_O"), back, weights):
        assert got.shape == want.shape and np.array_equal(got, want), name


def test_the_layouts_shapes_are_those_their_code_declares():
    weights = _weights()
    shapes = {layout: {k: v.shape for k, v in attention_state(layout, *weights).items()} for layout in WEIGHT_LAYOUTS}
    assert shapes["fused-linear"] == {"c_attn.weight": (3 * D_MODEL, D_MODEL), "c_proj.weight": (D_MODEL, D_MODEL)}
    assert shapes["hf-gpt2"] == {"c_attn.weight": (D_MODEL, 3 * D_MODEL), "c_proj.weight": (D_MODEL, D_MODEL)}
    assert shapes["transformer-lens"] == {"W_Q": (N_HEADS, D_MODEL, D_HEAD), "W_K": (N_HEADS, D_MODEL, D_HEAD),
                                          "W_V": (N_HEADS, D_MODEL, D_HEAD), "W_O": (N_HEADS, D_HEAD, D_MODEL)}
    assert set(shapes["qkvo-linear"]) == {"q_proj.weight", "k_proj.weight", "v_proj.weight", "o_proj.weight"}


def test_the_state_keeps_the_dtype_and_owns_its_memory():
    weights = tuple(w.astype(np.float32) for w in _weights())
    for layout in WEIGHT_LAYOUTS:
        for name, array in attention_state(layout, *weights).items():
            assert array.dtype == np.float32 and array.flags.c_contiguous, (layout, name)
            assert not any(np.shares_memory(array, w) for w in weights), (layout, name)


def test_every_layout_names_its_biases_and_an_unknown_layout_is_a_clear_error():
    assert attention_biases("fused-linear") == ("c_attn.bias", "c_proj.bias")
    assert attention_biases("transformer-lens") == ("b_Q", "b_K", "b_V", "b_O")
    with pytest.raises(ValueError, match="unknown weight layout 'rows'; layouts: fused-linear, hf-gpt2"):
        attention_state("rows", *_weights())


def test_the_old_name_of_the_weight_layouts_still_works_with_a_deprecation_warning():
    import gptspec.ecosystem.layouts as layouts

    with pytest.warns(DeprecationWarning, match="WEIGHT_LAYOUTS"):
        assert layouts.LAYOUTS is WEIGHT_LAYOUTS
    with pytest.raises(AttributeError):
        layouts.NO_SUCH_NAME  # noqa: B018
