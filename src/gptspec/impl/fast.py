"""gptspec.impl.fast: the attention functions of the spec, written for speed in NumPy.

Same names, argument order, defaults, orientation (columns are tokens) and value guarantees as
:mod:`gptspec.impl`, checked against the same signatures on every call. What makes it fast:

- heads on every core: the heads are split into one group per core, and each group runs on its
  own worker thread with BLAS on one thread (:mod:`gptspec.impl.threads`), so exp and the small
  matmuls run on all cores, not just BLAS's big ones; the output projection is split by rows the
  same way. BLAS is on one thread in every call, threaded or not, so each job computes the same
  bits wherever and whenever it runs;
- fused heads: three matmuls compute Q, K and V of all a group's heads, each heads·d_head rows
  at once (W_Q[group] viewed as one [heads·d_head d_model] matrix, no copy of the weights);
- scratch memory kept per thread: the group's Q, K, V and score tiles go in buffers reused from
  call to call (:func:`gptspec.impl.threads.scratch`);
- query tiles: queries are taken ``BLOCK`` at a time, and a causal tile computes only the keys
  its last query can see, so the masked lower-left of the pattern is mostly never computed;
- few, large NumPy calls: a tile holds every head of the group and costs four calls (Kᵀ Q, the
  mask of its diagonal block, exp, the value matmul), with no check in between; one check per
  group at the end finds the queries to redo. The threads take turns at the GIL between calls,
  so each call saved is a wait saved;
- tiles are A's own orientation (keys down, queries across), made by Kᵀ Q straight from the
  projection's [heads d_head ctx] layout, and the column sums Σ_k exp(s_kq) come out of the
  value matmul for free ([V; 1]: V gets one extra row of ones), so each score is written by
  the matmul, exponentiated in place and read once more, and V A lands in ΔE's orientation
  with no transpose; A itself is never written out, and one division normalises every query;
- exp without the max shift when it is safe: exp(s) / Σ exp(s) equals the shifted form exactly
  in real numbers, and a query falls back to the shifted form when its sum overflows or is
  too small to trust (large scores, huge inputs, −inf), so no finite input gives NaN; the choice
  is per query, so no query's bits depend on another's scores;
- float32 stays float32 (no float64 scalars, NEP 50), float16 is computed in float32.

The measurements behind these choices are in the README's "Performance" section.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np

from ..spec import implements
from ..spec import signatures as S
from . import validate
from .threads import chunks, groups, one_thread_blas, run_jobs, scratch

__all__ = ["attention_pattern", "attention_head", "multi_head_attention", "BLOCK"]

BLOCK = 128
"""Queries per tile: 64, 128 and 256 are as fast at GPT-2-small sizes, and 128 makes fewer NumPy
calls (a group's tile there, 6 heads × 1024 keys × 128 float32, is 3 MB)."""

PARALLEL_MIN_CTX = BLOCK
"""Heads go to the worker threads from this context length on: below one tile of queries the
threads cost more than they save."""


# ---------------------------------------------------------------------------------------------
# Tiles of the pattern: keys down, a block of queries across


def _compute_dtype(*arrays: np.ndarray) -> np.dtype:
    """The dtype to compute in: the arrays' common float type, at least float32 (BLAS has no float16)."""
    return np.result_type(*arrays, np.float32)


@functools.cache
def _future_keys() -> np.ndarray:
    """[BLOCK BLOCK] bool, True where key > query: what a diagonal tile masks (a smaller tile uses its top-left)."""
    mask = np.tril(np.ones((BLOCK, BLOCK), dtype=bool), k=-1)
    mask.flags.writeable = False
    return mask


def _n_keys(stop: int, ctx_k: int, causal: bool) -> int:
    """Keys a tile of queries ending at ``stop`` computes: those its last query may see."""
    return stop if causal else ctx_k


def _scores_tile(Q: np.ndarray, KT: np.ndarray, causal: bool, start: int, stop: int, out: np.ndarray) -> np.ndarray:
    """S[..., k, q] = k·q for the keys a tile may see (rows) and queries start..stop (columns).

    Q is [... d_head ctx_q], already scaled by 1/√d_head; KT is Kᵀ [... ctx_k d_head]; ``out`` is
    [... n_keys stop−start] and is returned. Causal: the tile's diagonal block gets −inf where
    key > query (assigned, not added, so no future score can turn it into NaN); the blocks
    above it are all visible.
    """
    tile = np.matmul(KT[..., : out.shape[-2], :], Q[..., start:stop], out=out)
    if causal:
        np.copyto(tile[..., start:stop, :], -np.inf, where=_future_keys()[: stop - start, : stop - start])
    return tile


@functools.lru_cache(maxsize=8)
def _smallest_plain_sum(dtype: np.dtype) -> float:
    """√tiny (1e-19 in float32, 1e-154 in float64): when Σ exp(s) is at least this, every entry that
    underflowed is below eps of the sum, so the unshifted exp loses nothing that shows."""
    return math.sqrt(float(np.finfo(dtype).tiny))


def _plain_columns_ok(result: np.ndarray) -> np.ndarray:
    """Per column (query): whether its unshifted exp can be trusted: everything computed from it
    is finite, and its sum Σ exp(s) (the last row) is not too small."""
    return np.isfinite(result).all(axis=-2) & (result[..., -1, :] >= _smallest_plain_sum(result.dtype))


def _shifted_exp(tile: np.ndarray, fn: str) -> None:
    """exp(s − max_k s) in place, down each column: the always-stable form. A column whose max is
    NaN, +inf, or −inf (all masked) has no distribution, and raises as the reference does."""
    top = tile.max(axis=-2, keepdims=True)
    validate.slice_maxima(fn, top, -2)
    np.subtract(tile, top, out=tile)
    np.exp(tile, out=tile)


def _exp_and_reduce(
    n_queries: int,
    place: Callable[[int, int], np.ndarray],
    scores: Callable[[int, int, np.ndarray], np.ndarray],
    reduce: Callable[[np.ndarray, np.ndarray], object],
    result: np.ndarray,
    fn: str,
    keep: Callable[[np.ndarray, int, int, np.ndarray], object] | None = None,
) -> None:
    """result[..., q] = reduce(exp(S[..., :, q] − c_q)), every tile of queries, its last row Σ_k exp(s_kq − c_q).

    ``place(start, stop)`` is where the score tile of queries start..stop goes, and
    ``scores(start, stop, into)`` computes it there (or into a recomputation's own buffer);
    ``reduce(tile, into)`` works column by column and writes into ``into``, a
    [..., rows, stop−start] view of ``result``, its last row the column sums.

    c_q = 0 for every query whose unshifted numbers can be trusted (:func:`_plain_columns_ok`),
    else the column max, the always-stable form. Every tile is first done unshifted, with a
    few large NumPy calls and no check in between (the heads' threads wait on each other's GIL
    between calls, so fewer calls is faster); one check over all queries then finds those to
    redo, and only their tiles are recomputed with the shift. The choice is made per query
    from that query's numbers alone, so a query's result never depends on another query's
    scores, not even in the last bit (causality is exact). ``keep(tile, start, stop, redo)``
    gets each recomputed tile and the [..., stop−start] mask of the queries redone in it.
    """
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        for start, stop in ((q.start, q.stop) for q in chunks(n_queries, BLOCK)):
            tile = scores(start, stop, place(start, stop))
            np.exp(tile, out=tile)
            reduce(tile, result[..., start:stop])
    ok = _plain_columns_ok(result)
    if ok.all():
        return
    for start, stop in ((q.start, q.stop) for q in chunks(n_queries, BLOCK)):
        redo = ~ok[..., start:stop]
        if not redo.any():
            continue
        tile = scores(start, stop, np.empty_like(place(start, stop)))
        with np.errstate(under="ignore"):
            _shifted_exp(tile, fn)
        shifted = np.empty_like(result[..., start:stop])
        reduce(tile, shifted)
        np.copyto(result[..., start:stop], shifted, where=redo[..., None, :])
        if keep is not None:
            keep(tile, start, stop, redo)


# ---------------------------------------------------------------------------------------------
# A group of heads: V A, tile by tile


def _attend(Q: np.ndarray, KT: np.ndarray, V: np.ndarray, causal: bool, fn: str, out: np.ndarray) -> None:
    """out = V A for a group of heads, A = softmax down each column of KᵀQ (Q pre-scaled), masked if causal.

    Q, V are [heads d_head ctx], KT is Kᵀ [heads ctx d_head]; out is [heads d_head ctx]. Each
    query tile computes exp(S) of every head of the group at once (in one reused buffer) and
    multiplies [V; 1] by it: the last row is Σ_k exp(s), the normaliser, so A itself is never
    written out, and one division at the end normalises every query.
    """
    n_heads, d_head, ctx = V.shape
    V1 = scratch("V1", (n_heads, d_head + 1, ctx), V.dtype)  # [V; 1]
    V1[:, :d_head] = V
    V1[:, d_head] = 1
    weighted = scratch("weighted", (n_heads, d_head + 1, ctx), V.dtype)  # [V; 1] exp(S), column by column
    buffer = scratch("tiles", (n_heads * ctx * min(BLOCK, ctx),), Q.dtype)

    def place(start: int, stop: int) -> np.ndarray:
        n_keys = _n_keys(stop, ctx, causal)
        return buffer[: n_heads * n_keys * (stop - start)].reshape(n_heads, n_keys, stop - start)

    def reduce(tile: np.ndarray, into: np.ndarray) -> None:
        np.matmul(V1[..., : tile.shape[-2]], tile, out=into)

    _exp_and_reduce(ctx, place, functools.partial(_scores_tile, Q, KT, causal), reduce, weighted, fn)
    np.divide(weighted[:, :d_head], weighted[:, d_head:], out=out)


def _project_and_attend(E: np.ndarray, W_Q: np.ndarray, W_K: np.ndarray, W_V_down: np.ndarray, causal: bool, fn: str, out: np.ndarray) -> None:
    """out[h] = W_V_down[h] E A_h for a group of heads, Q = W_Q E / √d_head, K = W_K E, V = W_V_down E.

    E is [d_model ctx] in the compute dtype; out is [heads d_head ctx]. Each projection is one
    matmul for all the group's heads (their weights viewed as one matrix of heads·d_head rows).
    """
    n_heads, d_head, d_model = W_Q.shape
    ctx = E.shape[1]
    QKV = scratch("QKV", (3, n_heads * d_head, ctx), out.dtype)
    for W, QKV_i in zip((W_Q, W_K, W_V_down), QKV):
        np.matmul(W.reshape(n_heads * d_head, d_model), E, out=QKV_i)
    QKV[0] *= 1.0 / math.sqrt(d_head)  # a Python float keeps float32 float32
    Q, K, V = QKV.reshape(3, n_heads, d_head, ctx)
    _attend(Q, np.swapaxes(K, -1, -2), V, causal, fn, out)


def _heads(E: np.ndarray, W_Q: np.ndarray, W_K: np.ndarray, W_V_down: np.ndarray, causal: bool, fn: str) -> np.ndarray:
    """concat_h(W_V_down[h] E A_h) as [n_heads d_head ctx], in this thread's scratch memory (read it
    before this thread's next call).

    The heads go in groups, one per worker thread (see :func:`.threads.run_jobs`), each group
    projecting and attending on its own and writing only its own slice of the result.
    """
    n_heads, d_head, _ = W_Q.shape
    ctx = E.shape[1]
    dtype = _compute_dtype(E, W_Q, W_K, W_V_down)
    E = E.astype(dtype, copy=False)
    out = scratch("heads", (n_heads, d_head, ctx), dtype)
    jobs = [
        functools.partial(_project_and_attend, E, W_Q[g], W_K[g], W_V_down[g], causal, fn, out[g])
        for g in groups(n_heads)
    ]
    run_jobs(jobs, parallel=ctx >= PARALLEL_MIN_CTX)
    return out


def _project(W: np.ndarray, X: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """W X, its rows in groups, one per worker thread, as the heads were."""
    WX = np.empty((W.shape[0], X.shape[1]), dtype=np.result_type(W, X))
    jobs = [functools.partial(np.matmul, W[rows], X, out=WX[rows]) for rows in groups(W.shape[0])]
    run_jobs(jobs, parallel=X.shape[1] >= PARALLEL_MIN_CTX)
    return WX.astype(dtype, copy=False)


# ---------------------------------------------------------------------------------------------
# The spec's functions


# The three public functions below restate no types: ``implements`` gives each the spec's typed
# signature (gptspec.spec.signatures; the reference in gptspec.impl writes it out beside its
# code), so a caller, ``help`` and mypy see the same shapes as the reference's.


@implements(S.attention_pattern)
def attention_pattern(Q, K, causal=True):
    """A = softmax down each column of KᵀQ / √d_head, a tile of query columns at a time.

    Causal tiles fill only the keys their queries may see; the rest of A stays exactly 0. BLAS
    runs on one thread, as in every call of this module (see :func:`.threads.run_jobs`).
    """
    ctx_q, ctx_k = Q.shape[1], K.shape[1]
    if causal:
        validate.self_attention("attention_pattern", ctx_q, ctx_k)
    dtype = _compute_dtype(Q, K)
    Q_scaled = np.multiply(Q, 1.0 / math.sqrt(Q.shape[0]), dtype=dtype)
    KT = K.T.astype(dtype, copy=False)
    A = np.zeros((ctx_k, ctx_q), dtype=dtype)
    sums = np.empty((1, ctx_q), dtype=dtype)

    def place(start: int, stop: int) -> np.ndarray:
        return A[: _n_keys(stop, ctx_k, causal), start:stop]

    def reduce(tile: np.ndarray, into: np.ndarray) -> None:
        np.sum(tile, axis=-2, keepdims=True, out=into)

    def keep(tile: np.ndarray, start: int, stop: int, redo: np.ndarray) -> None:
        np.copyto(place(start, stop), tile, where=redo)

    with one_thread_blas:
        _exp_and_reduce(ctx_q, place, functools.partial(_scores_tile, Q_scaled, KT, causal), reduce, sums, "attention_pattern", keep)
    A /= sums
    return A.astype(np.result_type(Q, K), copy=False)


@implements(S.attention_head)
def attention_head(E, W_Q, W_K, W_V_down, W_V_up, causal=True):
    """ΔE = W_V_up W_V_down E A: multi-head attention's path with one head."""
    head = _heads(E, W_Q[None], W_K[None], W_V_down[None], causal, "attention_head")[0]
    return _project(W_V_up, head, np.result_type(E, W_Q, W_K, W_V_down, W_V_up))


@implements(S.multi_head_attention)
def multi_head_attention(E, W_Q, W_K, W_V_down, W_O, causal=True):
    """ΔE = W_O · concat_h(W_V_down[h] E A_h), each group's Q, K and V from one matmul each."""
    heads = _heads(E, W_Q, W_K, W_V_down, causal, "multi_head_attention")
    n_heads, d_head, ctx = heads.shape
    return _project(W_O, heads.reshape(n_heads * d_head, ctx), np.result_type(E, W_Q, W_K, W_V_down, W_O))
