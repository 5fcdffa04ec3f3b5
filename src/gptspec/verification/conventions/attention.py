"""The spec's attention functions built around one batched attention of a convention.

A convention gives ``batched(query, key, value, causal)``: NumPy arrays ``[batch heads L D]``,
rows within each head (SDPA's layout), returning ``out[b, h, l] = Σ_s P[b, h, l, s] · value[b, h, s]``
with ``P = softmax_s(query · keyᵀ / √D)`` (row l sees keys s <= l when causal). The spec is
columns-oriented (the pattern is ``[ctx_k ctx_q]``, softmax down each column), so:

- ``attention_pattern(Q, K, causal)``: with V = I (the ctx_k × ctx_k identity) the output is
  the pattern itself, ``out[l, s] = P[l, s]``; ``A = outᵀ`` (``query = Qᵀ``, ``key = Kᵀ``);
- ``attention_head(E, W_Q, W_K, W_V_down, W_V_up, causal)`` = ``W_V_up · out(Qᵀ, Kᵀ, (W_V_down E)ᵀ)ᵀ``;
- ``cross_attention_head(E_q, E_kv, ...)``: the same with keys and values from E_kv, no mask;
- ``multi_head_attention(E, W_Q, W_K, W_V_down, W_O, causal)``: every head on the heads axis of
  one call, ``concat_h out_h`` side by side in head order (``[ctx n_heads·d_head]``), then
  ``ΔE = W_O · concatᵀ``.

The projections and W_O are applied here, in NumPy, in the inputs' dtype: only the attention
itself is the target's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ...properties.registry import PropertyFailure

__all__ = ["Batched", "spec_functions", "ConventionResultError"]

Batched = Callable[[np.ndarray, np.ndarray, np.ndarray, bool], np.ndarray]


class ConventionResultError(PropertyFailure):
    """The convention's function returned something its convention does not return."""


def spec_functions(batched: Batched) -> dict[str, Callable[..., Any]]:
    """``attention_pattern``, ``attention_head``, ``cross_attention_head``, ``multi_head_attention``
    and ``batched_attention`` in the spec's columns layout, computed by ``batched``."""

    def attention_pattern(Q: np.ndarray, K: np.ndarray, causal: bool = True) -> np.ndarray:
        eye = np.eye(K.shape[1], dtype=K.dtype)
        out = batched(Q.T[None, None], K.T[None, None], eye[None, None], causal)
        return np.ascontiguousarray(out[0, 0].T)

    def _head(E_q: np.ndarray, E_kv: np.ndarray, W_Q: np.ndarray, W_K: np.ndarray, W_V_down: np.ndarray,
              W_V_up: np.ndarray, causal: bool) -> np.ndarray:
        query, key, value = (W_Q @ E_q).T, (W_K @ E_kv).T, (W_V_down @ E_kv).T
        out = batched(query[None, None], key[None, None], value[None, None], causal)[0, 0]  # [ctx_q d_head]
        return W_V_up @ out.T

    def attention_head(E: np.ndarray, W_Q: np.ndarray, W_K: np.ndarray, W_V_down: np.ndarray,
                       W_V_up: np.ndarray, causal: bool = True) -> np.ndarray:
        return _head(E, E, W_Q, W_K, W_V_down, W_V_up, causal)

    def cross_attention_head(E_q: np.ndarray, E_kv: np.ndarray, W_Q: np.ndarray, W_K: np.ndarray,
                             W_V_down: np.ndarray, W_V_up: np.ndarray) -> np.ndarray:
        return _head(E_q, E_kv, W_Q, W_K, W_V_down, W_V_up, False)

    def multi_head_attention(E: np.ndarray, W_Q: np.ndarray, W_K: np.ndarray, W_V_down: np.ndarray,
                             W_O: np.ndarray, causal: bool = True) -> np.ndarray:
        n_heads, d_head, ctx = W_Q.shape[0], W_Q.shape[1], E.shape[1]
        query, key, value = ((W @ E).swapaxes(-1, -2) for W in (W_Q, W_K, W_V_down))  # [n_heads ctx d_head]
        out = batched(query[None], key[None], value[None], causal)[0]  # [n_heads ctx d_head]
        concat = out.transpose(1, 0, 2).reshape(ctx, n_heads * d_head)
        return W_O @ concat.T

    def batched_attention(query: np.ndarray, key: np.ndarray, value: np.ndarray, causal: bool = True) -> np.ndarray:
        return batched(query, key, value, causal)

    return {
        "attention_pattern": attention_pattern,
        "attention_head": attention_head,
        "cross_attention_head": cross_attention_head,
        "multi_head_attention": multi_head_attention,
        "batched_attention": batched_attention,
    }


def expect_output(what: str, out: Any, query: np.ndarray, value: np.ndarray) -> np.ndarray:
    """``out`` (already converted by its framework) as a NumPy array of shape ``[batch heads L Dv]``,
    or a ConventionResultError saying what came back instead."""
    if not isinstance(out, np.ndarray):
        raise ConventionResultError(f"{what} returned {type(out).__name__}, expected one array [batch heads L Dv]")
    want = (*query.shape[:-1], value.shape[-1])
    if out.shape != want:
        raise ConventionResultError(f"{what} returned shape {out.shape}, expected {want} "
                                    f"(query {query.shape}, value {value.shape})")
    return out
