"""The spec's attention weights in the ecosystem's parameter layouts.

The spec's multi-head attention (DESIGN, columns are tokens) is

    Q_h = W_Q[h] · E,  K_h = W_K[h] · E,  V_h = W_V_down[h] · E       W_Q [n_heads d_head d_model]
    ΔE  = W_O · concat_h(V_h · A_h)                                    W_O [d_model n_heads·d_head]

with head h's rows of the concatenation at ``h·d_head : (h+1)·d_head``. Code in rows
(``x [batch ctx d_model]``) stores the same numbers as:

===================  ==========================================================================
layout               parameters (shapes)
===================  ==========================================================================
``fused-linear``     nanoGPT / minGPT: ``c_attn = nn.Linear(d_model, 3·d_model)``, weight
                     ``[3·n_heads·d_head d_model]`` = rows of W_Q, then W_K, then W_V_down, each
                     head after head (``q, k, v = c_attn(x).split(d_model, dim=2)`` then
                     ``.view(B, T, n_heads, d_head)``); ``c_proj = nn.Linear``, weight = W_O.
``hf-gpt2``          Hugging Face GPT-2: the same two layers as ``Conv1D`` (``y = x · weight +
                     bias``), so each weight is the transpose: ``c_attn.weight [d_model
                     3·n_heads·d_head]``, ``c_proj.weight [n_heads·d_head d_model]`` = W_Oᵀ.
``qkvo-linear``      Llama-style: ``q_proj``, ``k_proj``, ``v_proj`` ``nn.Linear``, weights
                     ``[n_heads·d_head d_model]`` (head h's rows at h·d_head), ``o_proj.weight``
                     = W_O.
``transformer-lens`` ``W_Q``, ``W_K``, ``W_V [n_heads d_model d_head]`` (``q = x · W_Q[h]``: each
                     head's matrix transposed), ``W_O [n_heads d_head d_model]`` (``W_O[h]`` = head
                     h's column block of the spec's W_O, transposed).
===================  ==========================================================================

Biases are not part of the spec's attention (the video counts none): every layout's biases are
zero when the spec's weights are loaded, and :func:`attention_state` names them so a loader can
zero exactly those (``c_attn.bias``, ``q_proj.bias``, ``b_Q``...).

:func:`attention_state` maps spec → layout; :func:`spec_attention` maps back, so a test can check
that the two are inverse and a model's own weights can be read in the spec's terms.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["WEIGHT_LAYOUTS", "PARAMETER_DIMS", "AttentionWeights", "attention_state", "attention_biases", "spec_attention"]

WEIGHT_LAYOUTS: dict[str, str] = {
    "fused-linear": "nanoGPT/minGPT: nn.Linear c_attn [3·d_model, d_model] (q, k, v = split), nn.Linear c_proj",
    "hf-gpt2": "Hugging Face GPT-2: Conv1D c_attn [d_model, 3·d_model] and Conv1D c_proj (weights [in, out])",
    "qkvo-linear": "Llama-style: separate nn.Linear q_proj, k_proj, v_proj, o_proj",
    "transformer-lens": "TransformerLens: W_Q, W_K, W_V [n_heads, d_model, d_head], W_O [n_heads, d_head, d_model]",
}
"""Each weight layout's name and what its parameters are. (Named ``LAYOUTS`` before: that word is the
columns/rows orientation everywhere else, ``--layout``; the old name still works, with a warning.)"""


def __getattr__(name: str) -> object:
    if name == "LAYOUTS":
        import warnings

        warnings.warn("gptspec.ecosystem.layouts.LAYOUTS is now WEIGHT_LAYOUTS (LAYOUTS means columns/rows "
                      "elsewhere)", DeprecationWarning, stacklevel=2)
        return WEIGHT_LAYOUTS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

PARAMETER_DIMS: dict[str, dict[str, str]] = {
    "fused-linear": {"c_attn.weight": "[3·n_heads·d_head d_model]", "c_proj.weight": "[d_model n_heads·d_head]"},
    "hf-gpt2": {"c_attn.weight": "[d_model 3·n_heads·d_head]", "c_proj.weight": "[n_heads·d_head d_model]"},
    "qkvo-linear": {"q_proj.weight": "[n_heads·d_head d_model]", "k_proj.weight": "[n_heads·d_head d_model]",
                    "v_proj.weight": "[n_heads·d_head d_model]", "o_proj.weight": "[d_model n_heads·d_head]"},
    "transformer-lens": {"W_Q": "[n_heads d_model d_head]", "W_K": "[n_heads d_model d_head]",
                         "W_V": "[n_heads d_model d_head]", "W_O": "[n_heads d_head d_model]"},
}
"""Each layout's weight parameters (the keys :func:`attention_state` returns) and their dims in
symbols, for messages that say what a parameter should have been."""


class AttentionWeights(NamedTuple):
    """The spec's attention weights: ``W_Q``, ``W_K``, ``W_V_down`` ``[n_heads d_head d_model]``,
    ``W_O [d_model n_heads·d_head]``."""

    W_Q: np.ndarray
    W_K: np.ndarray
    W_V_down: np.ndarray
    W_O: np.ndarray


def _check_layout(layout: str) -> None:
    if layout not in WEIGHT_LAYOUTS:
        raise ValueError(f"unknown weight layout {layout!r}; layouts: {', '.join(WEIGHT_LAYOUTS)}")


def _rows(W: np.ndarray) -> np.ndarray:
    """``[n_heads d_head d_model]`` → ``[n_heads·d_head d_model]``: head after head."""
    n_heads, d_head, d_model = W.shape
    return W.reshape(n_heads * d_head, d_model)


def attention_state(layout: str, W_Q: np.ndarray, W_K: np.ndarray, W_V_down: np.ndarray,
                    W_O: np.ndarray) -> dict[str, np.ndarray]:
    """The layout's weight parameters (names relative to the attention module) holding the spec's
    weights; the biases are :func:`attention_biases`. Arrays keep the inputs' dtype."""
    _check_layout(layout)
    if layout in ("fused-linear", "hf-gpt2"):
        c_attn = np.concatenate([_rows(W_Q), _rows(W_K), _rows(W_V_down)])  # [3·n_heads·d_head d_model]
        if layout == "fused-linear":
            return {"c_attn.weight": c_attn, "c_proj.weight": W_O.copy()}
        return {"c_attn.weight": np.ascontiguousarray(c_attn.T), "c_proj.weight": np.ascontiguousarray(W_O.T)}
    if layout == "qkvo-linear":
        return {"q_proj.weight": _rows(W_Q).copy(), "k_proj.weight": _rows(W_K).copy(),
                "v_proj.weight": _rows(W_V_down).copy(), "o_proj.weight": W_O.copy()}
    n_heads, d_head, d_model = W_Q.shape
    per_head = W_O.reshape(d_model, n_heads, d_head).transpose(1, 2, 0)  # [n_heads d_head d_model]
    return {"W_Q": np.ascontiguousarray(W_Q.transpose(0, 2, 1)), "W_K": np.ascontiguousarray(W_K.transpose(0, 2, 1)),
            "W_V": np.ascontiguousarray(W_V_down.transpose(0, 2, 1)), "W_O": np.ascontiguousarray(per_head)}


def attention_biases(layout: str) -> tuple[str, ...]:
    """The layout's bias parameters, all zero when the spec's weights are loaded."""
    _check_layout(layout)
    if layout in ("fused-linear", "hf-gpt2"):
        return ("c_attn.bias", "c_proj.bias")
    if layout == "qkvo-linear":
        return ("q_proj.bias", "k_proj.bias", "v_proj.bias", "o_proj.bias")
    return ("b_Q", "b_K", "b_V", "b_O")


def spec_attention(layout: str, state: dict[str, np.ndarray], n_heads: int) -> AttentionWeights:
    """The spec's weights held by a layout's parameters (the inverse of :func:`attention_state`)."""
    _check_layout(layout)
    if layout == "transformer-lens":
        W_O_tl = state["W_O"]  # [n_heads d_head d_model]
        heads, d_head, d_model = W_O_tl.shape
        W_O = W_O_tl.transpose(2, 0, 1).reshape(d_model, heads * d_head)
        W_Q, W_K, W_V = (state[k].transpose(0, 2, 1) for k in ("W_Q", "W_K", "W_V"))
        return AttentionWeights(W_Q, W_K, W_V, W_O)
    if layout == "qkvo-linear":
        fused = np.concatenate([state["q_proj.weight"], state["k_proj.weight"], state["v_proj.weight"]])
        W_O = state["o_proj.weight"]
    elif layout == "fused-linear":
        fused, W_O = state["c_attn.weight"], state["c_proj.weight"]
    else:
        fused, W_O = state["c_attn.weight"].T, state["c_proj.weight"].T
    d_model = fused.shape[1]
    W_Q, W_K, W_V = (part.reshape(n_heads, -1, d_model) for part in np.split(fused, 3))
    return AttentionWeights(W_Q, W_K, W_V, W_O)
