"""gptspec.impl.fast: the attention functions of the spec, written for speed in NumPy.

Same names, argument order, defaults, orientation (columns are tokens) and value guarantees as
:mod:`gptspec.impl`, checked against the same signatures on every call. What makes it fast:

- fused projections: one matmul computes Q, K and V of every head, [Q; K; V]ᵀ = Eᵀ [W_Q/√d_head;
  W_K; W_V_down]ᵀ (the stacked weights are copied per call: 2-5% of a GPT-2-small call, and
  a copy cannot go stale when the caller changes a weight in place, as a cache could);
- query tiles: queries are taken ``BLOCK`` at a time, and a causal tile computes only the keys
  its last query can see, so the masked lower-left of the pattern is mostly never computed;
- tiles are worked on rows = queries (the transposed pattern Aᵀ), so the softmax runs along
  contiguous memory, and the column sums Σ_k exp(s_kq) come out of the value matmul for free
  (V gets one extra row of ones), so each score is touched once, by exp, in cache;
- exp without the max shift when it is safe: exp(s) / Σ exp(s) equals the shifted form exactly
  in real numbers, and a tile falls back to the shifted form when a sum overflows or is too
  small to trust (large scores, huge inputs, −inf), so no finite input gives NaN;
- float32 stays float32 (no float64 scalars, NEP 50), float16 is computed in float32.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np

from ..spec import ShapeError, implements, spec_error
from ..spec import signatures as S
from ..spec.types import (
    DeltaE,
    Embeddings,
    KeyMatrix,
    KeysK,
    OutputMatrix,
    Pattern,
    QueriesQ,
    QueryMatrix,
    StackedKeyMatrix,
    StackedQueryMatrix,
    StackedValueDown,
    ValueDown,
    ValueUp,
)
from . import validate

__all__ = ["attention_pattern", "attention_head", "multi_head_attention", "BLOCK"]

BLOCK = 128
"""Queries per tile: a tile of scores (BLOCK × ctx) stays in a core's L2 cache at GPT-2 sizes."""


# ---------------------------------------------------------------------------------------------
# Tiles of the transposed pattern: rows are queries, columns are keys


def _compute_dtype(*arrays: np.ndarray) -> np.dtype:
    """The dtype to compute in: the arrays' common float type, at least float32 (BLAS has no float16)."""
    return np.result_type(*arrays, np.float32)


@functools.lru_cache(maxsize=8)
def _diagonal_mask(dtype: np.dtype) -> np.ndarray:
    """[BLOCK BLOCK] additive mask of a diagonal tile: −inf where key > query, else 0."""
    mask = np.triu(np.full((BLOCK, BLOCK), -np.inf, dtype=dtype), k=1)
    mask.flags.writeable = False
    return mask


def _scores_tile(QT: np.ndarray, KT: np.ndarray, start: int, stop: int, causal: bool, out: np.ndarray) -> np.ndarray:
    """Sᵀ[q, k] = q·k for queries start..stop (rows) and the keys they may see (columns).

    QT is already scaled by 1/√d_head. Causal: keys 0..stop only, and the diagonal block gets −inf
    above its diagonal (key > query). Written into ``out`` and returned.
    """
    n_keys = stop if causal else KT.shape[0]
    tile = np.matmul(QT[start:stop], KT[:n_keys].T, out=out[: stop - start, :n_keys])
    if causal:
        b = stop - start
        tile[:, start:stop] += _diagonal_mask(tile.dtype)[:b, :b]
    return tile


@functools.lru_cache(maxsize=8)
def _smallest_plain_sum(dtype: np.dtype) -> float:
    """√tiny (1e-19 in float32, 1e-154 in float64): when Σ exp(s) is at least this, every entry that
    underflowed is below eps of the sum, so the unshifted exp loses nothing that shows."""
    return math.sqrt(float(np.finfo(dtype).tiny))


def _plain_exp_ok(result: np.ndarray, sums: np.ndarray) -> bool:
    """Whether a tile's unshifted exp can be trusted: everything computed from it is finite, and
    no row sum Σ exp(s) is too small."""
    return bool(np.all(np.isfinite(result)) and np.min(sums) >= _smallest_plain_sum(sums.dtype))


def _shifted_exp(tile: np.ndarray, fn: str) -> None:
    """exp(s − max_row s) in place: the always-stable form. A row whose max is NaN, +inf, or −inf
    (all masked) has no distribution, and raises as the reference does."""
    top = tile.max(axis=1, keepdims=True)
    validate.slice_maxima(fn, top, -2)
    np.subtract(tile, top, out=tile)
    np.exp(tile, out=tile)


def _exp_tile(make_tile: Callable[[], np.ndarray], sums_of: Callable[[np.ndarray], np.ndarray], fn: str) -> tuple[np.ndarray, np.ndarray]:
    """(exp(Sᵀ − c), whatever ``sums_of`` computes from it) with c = 0 when that is safe, else the row max.

    ``sums_of(tile)`` returns an array whose last column (or itself, 1-D) holds the row sums;
    the tile is recomputed by ``make_tile`` for the shifted form, as exp overwrote it.
    """
    tile = make_tile()
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        np.exp(tile, out=tile)
        result = sums_of(tile)
    sums = result[..., -1] if result.ndim == 2 else result
    if _plain_exp_ok(result, sums):
        return tile, result
    tile = make_tile()
    with np.errstate(under="ignore"):
        _shifted_exp(tile, fn)
    return tile, sums_of(tile)


def _require_self_attention(ctx_q: int, ctx_k: int, fn: str) -> None:
    if ctx_q != ctx_k:
        raise spec_error(
            ShapeError, fn,
            f"causal attention is self-attention and needs ctx_q = ctx_k, got ctx_q = {ctx_q}, ctx_k = {ctx_k}",
        )


# ---------------------------------------------------------------------------------------------
# One head: V A, tile by tile


def _attend(QT: np.ndarray, KT: np.ndarray, VT: np.ndarray, causal: bool, fn: str, out: np.ndarray) -> None:
    """out = V A for one head, A = softmax over keys of K Qᵀ (Q pre-scaled), masked if causal.

    QT, KT, VT are [ctx d_head] (one row per position); out is [d_head ctx]. Each query tile
    computes exp(Sᵀ) once and multiplies it by [Vᵀ 1]: the last column is Σ_k exp(s), the
    normaliser, so A itself is never written out.
    """
    ctx, d_head = VT.shape
    V1 = np.empty((ctx, d_head + 1), dtype=VT.dtype)  # [Vᵀ 1]
    V1[:, :d_head] = VT
    V1[:, d_head] = 1
    buffer = np.empty((min(BLOCK, QT.shape[0]), ctx), dtype=QT.dtype)
    for start in range(0, QT.shape[0], BLOCK):
        stop = min(start + BLOCK, QT.shape[0])
        n_keys = stop if causal else ctx
        _, weighted = _exp_tile(
            lambda: _scores_tile(QT, KT, start, stop, causal, buffer),
            lambda tile: tile @ V1[:n_keys],
            fn,
        )
        np.divide(weighted[:, :d_head].T, weighted[:, d_head], out=out[:, start:stop])


def _stacked_qkv(W_Q: np.ndarray, W_K: np.ndarray, W_V_down: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """[W_Q/√d_head; W_K; W_V_down] as one [3·heads·d_head d_model] matrix (heads stacked on axis 0)."""
    n_heads, d_head, d_model = W_Q.shape
    W = np.concatenate([W_Q, W_K, W_V_down], dtype=dtype).reshape(3 * n_heads * d_head, d_model)
    W[: n_heads * d_head] *= 1.0 / math.sqrt(d_head)  # a Python float keeps float32 float32
    return W


def _heads(E: np.ndarray, W_Q: np.ndarray, W_K: np.ndarray, W_V_down: np.ndarray, causal: bool, fn: str) -> np.ndarray:
    """concat_h(W_V_down[h] E A_h) as [n_heads d_head ctx], every head from one fused projection.

    Heads run one after another, each on BLAS's threads. Splitting heads over Python threads, each
    with a one-thread BLAS (via threadpoolctl), was measured at 0.8-1.1× this time on the 2-core
    development machine: not reliably faster, so not worth a dependency and a global BLAS switch.
    """
    n_heads, d_head, _ = W_Q.shape
    dtype = _compute_dtype(E, W_Q, W_K, W_V_down)
    W = _stacked_qkv(W_Q, W_K, W_V_down, dtype)
    QKV_T = (E.T.astype(dtype, copy=False) @ W.T).reshape(E.shape[1], 3, n_heads, d_head)
    out = np.empty((n_heads, d_head, E.shape[1]), dtype=dtype)
    for h in range(n_heads):
        _attend(QKV_T[:, 0, h], QKV_T[:, 1, h], QKV_T[:, 2, h], causal, fn, out[h])
    return out


# ---------------------------------------------------------------------------------------------
# The spec's functions


@implements(S.attention_pattern)
def attention_pattern(Q: QueriesQ, K: KeysK, causal: bool = True) -> Pattern:
    """A = softmax down each column of KᵀQ / √d_head, computed as Aᵀ tile by tile.

    Causal tiles fill only the keys their queries may see; the rest of A stays exactly 0. The
    result is the transpose of a C-ordered Aᵀ (a view: F-ordered, shape [ctx_k ctx_q]).
    """
    ctx_q, ctx_k = Q.shape[1], K.shape[1]
    if causal:
        _require_self_attention(ctx_q, ctx_k, "attention_pattern")
    dtype = _compute_dtype(Q, K)
    QT = np.multiply(Q.T, 1.0 / math.sqrt(Q.shape[0]), dtype=dtype)
    KT = K.T.astype(dtype, copy=False)
    AT = np.zeros((ctx_q, ctx_k), dtype=dtype)
    for start in range(0, ctx_q, BLOCK):
        stop = min(start + BLOCK, ctx_q)
        tile, sums = _exp_tile(
            lambda: _scores_tile(QT, KT, start, stop, causal, AT[start:]),
            lambda tile: tile.sum(axis=1),
            "attention_pattern",
        )
        tile /= sums[:, None]
    return AT.T.astype(np.result_type(Q, K), copy=False)


@implements(S.attention_head)
def attention_head(
    E: Embeddings,
    W_Q: QueryMatrix,
    W_K: KeyMatrix,
    W_V_down: ValueDown,
    W_V_up: ValueUp,
    causal: bool = True,
) -> DeltaE:
    """ΔE = W_V_up W_V_down E A: multi-head attention's path with one head."""
    head = _heads(E, W_Q[None], W_K[None], W_V_down[None], causal, "attention_head")[0]
    return (W_V_up @ head).astype(np.result_type(E, W_Q, W_K, W_V_down, W_V_up), copy=False)


@implements(S.multi_head_attention)
def multi_head_attention(
    E: Embeddings,
    W_Q: StackedQueryMatrix,
    W_K: StackedKeyMatrix,
    W_V_down: StackedValueDown,
    W_O: OutputMatrix,
    causal: bool = True,
) -> DeltaE:
    """ΔE = W_O · concat_h(W_V_down[h] E A_h), the heads from one fused projection."""
    heads = _heads(E, W_Q, W_K, W_V_down, causal, "multi_head_attention")
    n_heads, d_head, ctx = heads.shape
    return (W_O @ heads.reshape(n_heads * d_head, ctx)).astype(
        np.result_type(E, W_Q, W_K, W_V_down, W_O), copy=False
    )
