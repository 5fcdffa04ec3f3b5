"""One attention head: queries, keys, the masked pattern, the factored value matrix."""

from __future__ import annotations

import math

import numpy as np

from ..spec import implements
from ..spec import signatures as S
from ..spec.types import (
    CausalMask,
    CrossDeltaE,
    DeltaE,
    Embeddings,
    KeyMatrix,
    KeysK,
    KeyValueEmbeddings,
    Pattern,
    QueriesQ,
    QueryEmbeddings,
    QueryMatrix,
    ValueDown,
    ValueUp,
)
from . import validate
from .softmax import softmax


@implements(S.causal_mask)
def causal_mask(ctx: int) -> CausalMask:
    """mask[k, q] = (k <= q): the upper triangle with the diagonal; the lower-left is masked.

    np.tri(ctx)[q, k] = (k <= q), so the mask is its transpose (one pass, where
    np.triu(np.ones(...)) takes several: this runs in every causal attention call).
    """
    return np.tri(ctx, dtype=bool).T


def masked_pattern(scores: np.ndarray, causal: bool, fn: str) -> np.ndarray:
    """softmax over keys (axis −2) of [..., ctx_k, ctx_q] scores, masked entries set to −inf."""
    if causal:
        ctx_k, ctx_q = scores.shape[-2:]
        validate.self_attention(fn, ctx_q, ctx_k)
        scores = np.where(causal_mask(ctx_q), scores, -np.inf)
    return softmax(scores, axis=-2)


@implements(S.attention_pattern)
def attention_pattern(Q: QueriesQ, K: KeysK, causal: bool = True) -> Pattern:
    """A = softmax down each column of KᵀQ / √d_head (keys down, queries across)."""
    scores = K.T @ Q / math.sqrt(Q.shape[0])
    return masked_pattern(scores, causal, "attention_pattern")


@implements(S.attention_head)
def attention_head(
    E: Embeddings,
    W_Q: QueryMatrix,
    W_K: KeyMatrix,
    W_V_down: ValueDown,
    W_V_up: ValueUp,
    causal: bool = True,
) -> DeltaE:
    """ΔE = W_V_up W_V_down E A, A = attention_pattern(W_Q E, W_K E, causal)."""
    A = attention_pattern(W_Q @ E, W_K @ E, causal)
    return W_V_up @ (W_V_down @ E @ A)


@implements(S.cross_attention_head)
def cross_attention_head(
    E_q: QueryEmbeddings,
    E_kv: KeyValueEmbeddings,
    W_Q: QueryMatrix,
    W_K: KeyMatrix,
    W_V_down: ValueDown,
    W_V_up: ValueUp,
) -> CrossDeltaE:
    """ΔE = W_V_up W_V_down E_kv A, A = attention_pattern(W_Q E_q, W_K E_kv, causal=False)."""
    A = attention_pattern(W_Q @ E_q, W_K @ E_kv, False)
    return W_V_up @ (W_V_down @ E_kv @ A)
