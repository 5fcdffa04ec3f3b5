"""Targets for the full-size checks: small wrappers around the reference with one planted bug.

Each is a plain object with some of the spec's functions, as a user's module would be.
"""

from __future__ import annotations

import types

import numpy as np

from gptspec import impl


def mlp_wrong_in_layer(layer: int) -> types.SimpleNamespace:
    """An MLP that is right in every layer but ``layer``, where it drops the last column."""
    calls = iter(range(10**9))

    def mlp(E, W_up, b_up, W_down, b_down):
        delta = impl.mlp(E, W_up, b_up, W_down, b_down)
        return delta[:, :-1] if next(calls) == layer else delta

    return types.SimpleNamespace(mlp=mlp)


def mha_sorting_its_scores() -> types.SimpleNamespace:
    """Attention that calls an operation shape-only arrays do not support (np.sort)."""

    def multi_head_attention(E, W_Q, W_K, W_V_down, W_O, causal=True):
        np.sort(W_Q @ E, axis=-1)
        return impl.multi_head_attention(E, W_Q, W_K, W_V_down, W_O, causal)

    return types.SimpleNamespace(multi_head_attention=multi_head_attention)


def layer_norm_raising() -> types.SimpleNamespace:
    """A layer norm with an ordinary Python bug."""

    def layer_norm(E, gain, bias):
        return {"E": E}["e"]

    return types.SimpleNamespace(layer_norm=layer_norm)


def own_block() -> types.SimpleNamespace:
    """A target with its own block (the reference's, renamed): it replaces the composed one."""

    def block(E, weights):
        return impl.block(E, weights)

    return types.SimpleNamespace(block=block)


def attention_head_transposed() -> types.SimpleNamespace:
    """One head whose ΔE comes back transposed."""

    def attention_head(E, W_Q, W_K, W_V_down, W_V_up, causal=True):
        return impl.attention_head(E, W_Q, W_K, W_V_down, W_V_up, causal).T

    return types.SimpleNamespace(attention_head=attention_head)
