"""Value checks that are part of the spec and stay on even with run-time shape checks off.

A shape error can only ever raise; these guard against silent wrong numbers (NumPy wraps a
negative token id around, and −inf − (−inf) is NaN), so they are never switched off.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from ..spec import (
    ArgumentTypeError,
    ContextLengthError,
    DtypeError,
    ShapeError,
    SoftmaxInputError,
    TemperatureError,
    TokenError,
    has_values,
    spec_error,
)

__all__ = [
    "self_attention", "softmax_temperature", "sample_temperature", "tokens_in_vocab", "context_fits", "slice_maxima",
    "cache_fits", "cache_layers",
]

SAMPLE_T_MAX = 2.0


def _real(fn: str, value: Any) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise spec_error(ArgumentTypeError, fn, f"temperature should be a real number, got {type(value).__name__}")
    return float(value)


def softmax_temperature(fn: str, temperature: Any) -> float:
    """T as a float; raises unless 0 < T < inf."""
    T = _real(fn, temperature)
    if math.isnan(T) or math.isinf(T) or T <= 0:
        raise spec_error(TemperatureError, fn, f"temperature must satisfy 0 < T < inf, got {T}")
    return T


def sample_temperature(fn: str, temperature: Any) -> float:
    """T as a float; raises unless 0 <= T <= 2 (T = 0 is greedy)."""
    T = _real(fn, temperature)
    if math.isnan(T) or not 0.0 <= T <= SAMPLE_T_MAX:
        raise spec_error(TemperatureError, fn, f"temperature must satisfy 0 <= T <= {SAMPLE_T_MAX:g}, got {T}")
    return T


def tokens_in_vocab(fn: str, tokens: Any, vocab: int) -> None:
    """Token ids form a non-empty 1-D integer array with 0 <= id < vocab."""
    if not isinstance(tokens, np.ndarray):
        raise spec_error(ArgumentTypeError, fn, f"tokens should be a NumPy integer array, got {type(tokens).__name__}")
    if tokens.dtype.kind not in "iu":
        raise spec_error(DtypeError, fn, f"tokens should have an integer dtype, got {tokens.dtype}")
    if tokens.ndim != 1:
        raise spec_error(ShapeError, fn, f"tokens should have 1 axis [ctx], got {tokens.ndim} axes with shape {tokens.shape}")
    if tokens.shape[0] == 0:
        raise spec_error(ContextLengthError, fn, "tokens axis 0 is ctx = 0; ctx must be at least 1")
    if not has_values(tokens):
        return
    bad = (tokens < 0) | (tokens >= vocab)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise spec_error(
            TokenError, fn,
            f"token id {int(tokens[i])} at position {i} is outside [0, vocab = {vocab}) "
            f"({int(bad.sum())} of {tokens.shape[0]} ids are)",
        )


def context_fits(fn: str, ctx: int, n_ctx: int) -> None:
    """ctx <= n_ctx, the columns of the position matrix."""
    if ctx > n_ctx:
        raise spec_error(
            ContextLengthError, fn,
            f"tokens axis 0 is ctx = {ctx}, more than n_ctx = {n_ctx} (bound by weights.W_pos)",
        )


def slice_maxima(fn: str, maxima: np.ndarray, axis: int) -> None:
    """Every softmax slice has a finite maximum: not all −inf, no NaN, no +inf."""
    if not has_values(maxima):
        return
    if np.all(np.isfinite(maxima)):
        return
    if np.any(np.isnan(maxima)):
        raise spec_error(SoftmaxInputError, fn, f"a slice along axis {axis} contains NaN")
    if np.any(maxima == np.inf):
        raise spec_error(SoftmaxInputError, fn, f"a slice along axis {axis} contains +inf")
    raise spec_error(
        SoftmaxInputError, fn, f"a slice along axis {axis} is all −inf: it has no distribution"
    )


def self_attention(fn: str, ctx_q: int, ctx_k: int) -> None:
    """Causal attention is self-attention: queries and keys cover the same positions."""
    if ctx_q != ctx_k:
        raise spec_error(
            ShapeError, fn,
            f"causal attention is self-attention and needs ctx_q = ctx_k, got ctx_q = {ctx_q}, ctx_k = {ctx_k}",
        )


def cache_fits(fn: str, ctx_past: int, ctx_new: int, n_ctx: int) -> None:
    """ctx_past + ctx_new <= n_ctx: a cache never wraps around the position matrix, nor is it cut."""
    if ctx_past + ctx_new > n_ctx:
        raise spec_error(
            ContextLengthError, fn,
            f"the cache holds ctx_past = {ctx_past} positions and tokens adds ctx_new = {ctx_new}: "
            f"{ctx_past + ctx_new} positions, more than n_ctx = {n_ctx} (bound by weights.W_pos)",
        )


def cache_layers(fn: str, cache: Any, n_layers: int) -> int:
    """A cache is one (K_past, V_past) pair per layer, every one as long: its length ctx_past."""
    if not isinstance(cache, (tuple, list)):
        raise spec_error(ArgumentTypeError, fn,
                         f"cache should be a sequence of (K, V) pairs, got {type(cache).__name__}")
    if len(cache) != n_layers:
        raise spec_error(
            ShapeError, fn,
            f"cache has {len(cache)} layers, the weights have n_layers = {n_layers} (bound by weights.blocks)",
        )
    lengths: set[int] = set()
    for i, pair in enumerate(cache):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise spec_error(ArgumentTypeError, fn, f"cache[{i}] should be a pair (K_past, V_past)")
        lengths.update(int(np.shape(a)[-1]) if np.ndim(a) else -1 for a in pair)
    if len(lengths) != 1:
        raise spec_error(
            ShapeError, fn,
            f"the cache's K_past and V_past should all hold ctx_past positions, got lengths {sorted(lengths)}",
        )
    return lengths.pop()
