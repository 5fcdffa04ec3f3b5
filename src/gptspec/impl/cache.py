"""Incremental decoding: multi-head attention and the forward pass on new positions, with a KV cache.

A cache holds, per layer, the keys K = W_K E and value-downs V = W_V_down E of the positions
already seen, [n_heads d_head ctx_past] each. A call on ctx_new new positions appends theirs and
lets new query i (position ctx_past + i) see keys 0 … ctx_past + i: the causal mask of the whole
sequence, its last ctx_new columns. Positions continue at ctx_past. Nothing passed in is modified:
the cache that comes back is made of new arrays.
"""

from __future__ import annotations

import math

import numpy as np

from ..spec import BlockWeights, Weights, implements, located
from ..spec import signatures as S
from ..spec.types import (
    CachedKeys,
    CachedValues,
    KVCache,
    KVCacheAfter,
    KeysSoFar,
    NewDeltaE,
    NewEmbeddings,
    NewLogits,
    NewTokens,
    OutputMatrix,
    StackedKeyMatrix,
    StackedQueryMatrix,
    StackedValueDown,
    ValuesSoFar,
)
from . import validate
from .attention import causal_mask
from .embedding import embed, unembed
from .model import layer_norm, mlp_residual
from .softmax import softmax

__all__ = ["cached_mask", "multi_head_attention_cached", "empty_cache", "block_cached", "forward_cached"]


def cached_mask(ctx_past: int, ctx_new: int) -> np.ndarray:
    """mask[k, i] = (k <= ctx_past + i), [ctx_past+ctx_new ctx_new]: the whole sequence's causal mask,
    its last ctx_new columns (aligned bottom-right; the top-left alignment would hide the cache)."""
    return causal_mask(ctx_past + ctx_new)[:, ctx_past:]


@implements(S.multi_head_attention_cached)
def multi_head_attention_cached(
    E: NewEmbeddings,
    W_Q: StackedQueryMatrix,
    W_K: StackedKeyMatrix,
    W_V_down: StackedValueDown,
    W_O: OutputMatrix,
    K_past: CachedKeys,
    V_past: CachedValues,
) -> tuple[NewDeltaE, KeysSoFar, ValuesSoFar]:
    """K = [K_past | W_K E], V = [V_past | W_V_down E]; ΔE = W_O · concat_h(V_h A_h) with
    A_h = softmax_cols(K_hᵀ W_Q[h] E / √d_head) masked by cached_mask(ctx_past, ctx_new)."""
    n_heads, d_head, _ = W_Q.shape
    ctx_past, ctx_new = K_past.shape[-1], E.shape[1]
    K = np.concatenate([K_past, W_K @ E], axis=-1)  # [n_heads d_head ctx_past+ctx_new], a new array
    V = np.concatenate([V_past, W_V_down @ E], axis=-1)
    scores = K.swapaxes(-1, -2) @ (W_Q @ E) / math.sqrt(d_head)  # [n_heads ctx_past+ctx_new ctx_new]
    A = softmax(np.where(cached_mask(ctx_past, ctx_new), scores, -np.inf), axis=-2)
    heads = V @ A  # [n_heads d_head ctx_new]
    return W_O @ heads.reshape(n_heads * d_head, ctx_new), K, V


def empty_cache(weights: Weights) -> KVCache:
    """One (K_past, V_past) of ctx_past = 0 per layer: the cache before the first call."""
    return tuple(
        (np.zeros(w.W_K.shape[:2] + (0,), w.W_K.dtype), np.zeros(w.W_V_down.shape[:2] + (0,), w.W_V_down.dtype))
        for w in weights.blocks
    )


def block_cached(
    E: np.ndarray, w: BlockWeights, K_past: np.ndarray, V_past: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """block on the new columns: E ← E + MHA_cached(LN₁(E)); E ← E + MLP(LN₂(E)); and the layer's (K, V)."""
    delta, K, V = multi_head_attention_cached(
        layer_norm(E, w.ln1_gain, w.ln1_bias), w.W_Q, w.W_K, w.W_V_down, w.W_O, K_past, V_past
    )
    return mlp_residual(E + delta, w), K, V


@implements(S.forward_cached)
def forward_cached(
    tokens: NewTokens, weights: Weights, cache: KVCache | None = None
) -> tuple[NewLogits, KVCacheAfter]:
    """logits = W_U · LN_f(blocks_cached(W_E · onehot(tokens) + W_pos[:, ctx_past : ctx_past+ctx_new])),
    and every layer's (K, V) after the new positions."""
    fn = "forward_cached"
    validate.tokens_in_vocab(fn, tokens, weights.W_E.shape[1])
    layers = empty_cache(weights) if cache is None or len(cache) == 0 else cache
    ctx_past = validate.cache_layers(fn, layers, weights.n_layers) if weights.n_layers else 0
    ctx_new = tokens.shape[0]
    validate.cache_fits(fn, ctx_past, ctx_new, weights.W_pos.shape[1])
    E = embed(tokens, weights.W_E) + weights.W_pos[:, ctx_past : ctx_past + ctx_new]
    after = []
    for i, (w, (K_past, V_past)) in enumerate(zip(weights.blocks, layers)):
        with located(f"layer {i}"):
            E, K, V = block_cached(E, w, K_past, V_past)
        after.append((K, V))
    return unembed(layer_norm(E, weights.lnf_gain, weights.lnf_bias), weights.W_U), tuple(after)
