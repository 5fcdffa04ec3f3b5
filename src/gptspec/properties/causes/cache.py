"""The KV cache: positions that restart or wrap, the new queries' mask aligned top-left, new keys put before
the cached ones, a cache returned without the new keys or never read, a cache written into."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .base import Change, Namespace, cause

__all__ = ["CACHED", "CACHE_POSITIONS_RESTART", "CACHE_WRAPS", "CACHE_MASK_TOP_LEFT", "CACHE_KEYS_PREPENDED",
           "CACHE_STALE", "CACHE_IGNORED", "CACHE_MODIFIED"]

CACHED = ("multi_head_attention_cached", "forward_cached")


def _positions(columns: Callable[[int, int, int], np.ndarray], checked: bool = True) -> Change:
    """forward_cached whose new tokens get W_pos's ``columns(ctx_past, ctx_new, n_ctx)`` (and, unless
    ``checked``, no refusal of ctx_past + ctx_new > n_ctx)."""

    def change(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
        validate, block_cached, layer_norm = g["validate"], g["block_cached"], g["layer_norm"]

        def forward_cached(tokens, weights, cache=None):
            f = "forward_cached"
            validate.tokens_in_vocab(f, tokens, weights.W_E.shape[1])
            layers = g["empty_cache"](weights) if cache is None or len(cache) == 0 else cache
            ctx_past = validate.cache_layers(f, layers, weights.n_layers) if weights.n_layers else 0
            ctx_new, n_ctx = tokens.shape[0], weights.W_pos.shape[1]
            if checked:
                validate.cache_fits(f, ctx_past, ctx_new, n_ctx)
            E = g["embed"](tokens, weights.W_E) + weights.W_pos[:, columns(ctx_past, ctx_new, n_ctx)]
            after = []
            for w, (K_past, V_past) in zip(weights.blocks, layers):
                E, K, V = block_cached(E, w, K_past, V_past)
                after.append((K, V))
            return g["unembed"](layer_norm(E, weights.lnf_gain, weights.lnf_bias), weights.W_U), tuple(after)

        return {"forward_cached": forward_cached}

    return change


CACHE_POSITIONS_RESTART = cause(
    "cache-positions-restart", "the positions restart at 0 in every forward_cached call: the new tokens get "
    "W_pos[:, :ctx_new], not W_pos[:, ctx_past:ctx_past + ctx_new]", ("forward_cached",))(
    _positions(lambda past, new, n_ctx: np.arange(new)))
CACHE_WRAPS = cause(
    "cache-wraps-past-n-ctx", "forward_cached does not refuse ctx_past + ctx_new > n_ctx: the positions wrap around "
    "W_pos (column p mod n_ctx)", ("forward_cached",))(
    _positions(lambda past, new, n_ctx: (past + np.arange(new)) % n_ctx, checked=False))


def _attend(g: Namespace, E: np.ndarray, W_Q: np.ndarray, W_O: np.ndarray, K: np.ndarray, V: np.ndarray,
            allowed: np.ndarray) -> np.ndarray:
    """W_O · concat_h(V_h softmax_cols(K_hᵀ W_Q[h] E / √d_head, masked where not ``allowed``))."""
    n_heads, d_head, _ = W_Q.shape
    scores = K.swapaxes(-1, -2) @ (W_Q @ E) / math.sqrt(d_head)
    A = g["softmax"](np.where(allowed, scores, -np.inf), 1.0, -2)
    return W_O @ (V @ A).reshape(n_heads * d_head, E.shape[1])


def _cached(body: Callable[..., tuple[np.ndarray, np.ndarray, np.ndarray]]) -> Change:
    """multi_head_attention_cached as ``body(g, reference's, E, W_Q, W_K, W_V_down, W_O, K_past, V_past)``:
    forward_cached (and everything else that calls it) calls the change."""

    def change(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
        original = g["multi_head_attention_cached"]

        def multi_head_attention_cached(E, W_Q, W_K, W_V_down, W_O, K_past, V_past):
            return body(g, original, E, W_Q, W_K, W_V_down, W_O, K_past, V_past)

        return {"multi_head_attention_cached": multi_head_attention_cached}

    return change


def _prepended(g, mha_cached, E, W_Q, W_K, W_V_down, W_O, K_past, V_past):
    K = np.concatenate([W_K @ E, K_past], axis=-1)
    V = np.concatenate([W_V_down @ E, V_past], axis=-1)
    return _attend(g, E, W_Q, W_O, K, V, g["cached_mask"](K_past.shape[-1], E.shape[1])), K, V


def _stale(g, mha_cached, E, W_Q, W_K, W_V_down, W_O, K_past, V_past):
    delta, _, _ = mha_cached(E, W_Q, W_K, W_V_down, W_O, K_past, V_past)
    return delta, K_past, V_past


def _ignored(g, mha_cached, E, W_Q, W_K, W_V_down, W_O, K_past, V_past):
    _, K, V = mha_cached(E, W_Q, W_K, W_V_down, W_O, K_past, V_past)
    ctx_new = E.shape[1]
    return _attend(g, E, W_Q, W_O, W_K @ E, W_V_down @ E, g["causal_mask"](ctx_new)), K, V


def _written(g, mha_cached, E, W_Q, W_K, W_V_down, W_O, K_past, V_past):
    delta, K, V = mha_cached(E, W_Q, W_K, W_V_down, W_O, K_past, V_past)
    for past in (K_past, V_past):
        if past.size and past.flags.writeable:
            past[...] = 0  # which arguments a call writes is what is compared, not what it writes
    return delta, K, V


CACHE_KEYS_PREPENDED = cause("cache-keys-prepended", "the new keys and values are put before the cached ones "
                             "([new | past], not [past | new])", CACHED)(_cached(_prepended))
CACHE_STALE = cause("cache-stale", "the cache comes back as it was passed in: the new positions' keys and values are "
                    "never appended", CACHED)(_cached(_stale))
CACHE_IGNORED = cause("cache-ignored", "the new queries attend over the new keys only: the cached keys are appended "
                      "to but never read", CACHED)(_cached(_ignored))
CACHE_MODIFIED = cause("cache-modified", "the cache passed in is written into (its buffers reused in place): a cache "
                       "fed twice, as branching and beam search do, then reads other numbers", CACHED)(
    _cached(_written))


@cause("cache-mask-top-left", "the new queries' mask is aligned top-left (torch SDPA's is_causal with fewer queries "
       "than keys): new query i sees keys 0 … i, not the cached keys and itself (0 … ctx_past + i)", CACHED)
def _mask_top_left(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    def cached_mask(ctx_past, ctx_new):
        return np.tri(ctx_new, ctx_past + ctx_new, dtype=bool).T

    return {"cached_mask": cached_mask}


CACHE_MASK_TOP_LEFT = _mask_top_left
