"""A correct GPT in NumPy with a KV cache, rows layout: numpy_rows.py plus incremental decoding.

Every token is a row, so a layer's cache is K, V of [n_heads ctx_past d_head] (nanoGPT's and HF's
orientation). A call on new tokens appends their keys and value-downs to fresh arrays (the cache
passed in is left as it was), lets new query i (position ctx_past + i) see keys 0 … ctx_past + i,
and puts the new tokens at positions ctx_past onwards. Verify it with

    gptspec verify examples/numpy_kv_cache.py --layout rows
"""

import math

import numpy as np
from numpy_rows import (  # noqa: F401  (the spec's other functions, re-exported for gptspec verify)
    attention_head, attention_pattern, block, causal_mask, cross_attention_head, embed, forward, layer_norm, mlp,
    multi_head_attention, next_token_probs, sample, softmax, unembed,
)


def decode_mask(ctx_past, ctx_new):
    """mask[i, k] = k <= ctx_past + i: the whole sequence's causal mask, its last ctx_new rows."""
    return np.tril(np.ones((ctx_new, ctx_past + ctx_new), dtype=bool), k=ctx_past)


def multi_head_attention_cached(E, W_Q, W_K, W_V_down, W_O, K_past, V_past):
    """(ΔE, K, V): K = [K_past; E W_K], V = [V_past; E W_V_down] along the positions, ΔE as
    multi_head_attention's with the new queries against every key they may see."""
    ctx_past, ctx_new = K_past.shape[1], E.shape[0]
    K = np.concatenate([K_past, E @ W_K], axis=1)  # [n_heads ctx_past+ctx_new d_head]
    V = np.concatenate([V_past, E @ W_V_down], axis=1)
    q = E @ W_Q  # [n_heads ctx_new d_head]
    scores = q @ K.swapaxes(-1, -2) / math.sqrt(q.shape[-1])  # [n_heads ctx_new ctx_past+ctx_new]
    A = softmax(np.where(decode_mask(ctx_past, ctx_new), scores, -np.inf), axis=-1)
    return np.concatenate(list(A @ V), axis=-1) @ W_O, K, V


def empty_cache(weights):
    """One (K, V) of 0 positions per layer: the cache before the first call."""
    return [(np.zeros((w.W_K.shape[0], 0, w.W_K.shape[2])),) * 2 for w in weights.blocks]


def forward_cached(tokens, weights, cache=None):
    """(logits, cache): forward on the new tokens after the cached positions; positions continue."""
    cache = cache or empty_cache(weights)
    ctx_past, n_ctx = cache[0][0].shape[1], weights.W_pos.shape[0]
    if ctx_past + len(tokens) > n_ctx:
        raise ValueError(f"{ctx_past} cached + {len(tokens)} new positions exceed n_ctx = {n_ctx}")
    E = embed(tokens, weights.W_E) + weights.W_pos[ctx_past : ctx_past + len(tokens)]
    return blocks_cached(E, weights, cache)


def blocks_cached(E, weights, cache):
    """(logits, cache) of the new rows E through every block, each layer's (K, V) grown by them."""
    after = []
    for w, (K_past, V_past) in zip(weights.blocks, cache):
        delta, K, V = multi_head_attention_cached(
            layer_norm(E, w.ln1_gain, w.ln1_bias), w.W_Q, w.W_K, w.W_V_down, w.W_O, K_past, V_past)
        E = E + delta
        E = E + mlp(layer_norm(E, w.ln2_gain, w.ln2_bias), w.W_up, w.b_up, w.W_down, w.b_down)
        after.append((K, V))
    return unembed(layer_norm(E, weights.lnf_gain, weights.lnf_bias), weights.W_U), after
