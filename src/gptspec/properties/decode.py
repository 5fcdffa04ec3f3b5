"""Incremental decoding: a KV cache gives exactly what the whole forward pass gives.

The mask makes column p of every layer a function of columns 0 … p only, so the keys and
value-downs of the past are the same numbers whether the future has been fed or not: feeding a
sequence in any chunks through ``forward_cached``, each call taking the cache the one before
returned, must give ``forward``'s logits on the whole, column for column, and leave the same cache
as one call on the whole. The chunks are drawn (a prefill then one-token steps, or uneven
chunks); a counterexample names them, their positions, and the first logit column that differs.

The traps these properties search for: positions that restart at 0 in every call; the mask of the
new queries aligned top-left (torch SDPA's ``is_causal`` with fewer queries than keys: the new
query sees the first keys, not the cached ones and itself); new keys put before the cached ones;
a cache that is returned without the new keys; a cache modified in place (branching and beam
search feed one cache twice); a context past n_ctx wrapped around W_pos or cut, not refused.

Examples are float64 at unit scale (as ``causality.next_token_sees_only_prefix``): chunked and
whole computations round differently, and a near-constant column's layer norm amplifies float32
rounding beyond a useful tolerance. A cache modified in place is seen by ``cache_not_modified`` in
the process that made the call; a target in its own process gets a copy of every argument, so
there the adapter compares the cache with a copy kept before the call
(:mod:`gptspec.verification.unmodified`) and any property that hands it a cache fails.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import numpy as np
from hypothesis import strategies as st

from ..spec import BlockWeights
from . import expect
from .coded import integers
from .common import agreeing, calls, first_column_off, heads_tolerance, model_prefixes, model_tolerance
from .domain import NEEDS_FLOAT64, NEEDS_TWO_TOKENS
from .registry import prop
from .strategies import UNIT, Model, MultiHead, models, multi_heads
from .tolerance import tolerance

__all__ = ["Chunked", "ChunkedHeads", "splits", "chunked_models", "chunked_heads", "spans", "show_chunks"]

F64 = np.dtype(np.float64)


# ---------------------------------------------------------------------------------------------
# Splits of a sequence into chunks


@functools.lru_cache(maxsize=64)
def splits(ctx: int, *, min_chunks: int = 1) -> st.SearchStrategy[tuple[int, ...]]:
    """Chunk sizes adding up to ``ctx``: a prefill then one-token steps (where shrinking ends), or
    a prefill then uneven chunks; at least ``min_chunks`` of them when ctx allows. One strategy per
    (ctx, min_chunks): Hypothesis validates a strategy object on its first draw."""
    return _splits(ctx, min_chunks)


_BOOLEANS = st.booleans()


@functools.lru_cache(maxsize=64)
def _cuts(n: int) -> st.SearchStrategy[list[bool]]:
    return st.lists(_BOOLEANS, min_size=n, max_size=n)


@st.composite
def _splits(draw: st.DrawFn, ctx: int, min_chunks: int) -> tuple[int, ...]:
    most = ctx - min(min_chunks, ctx) + 1  # the longest prefill that leaves room for the other chunks
    prefill = draw(integers(1, most))
    rest = ctx - prefill
    if rest == 0 or not draw(_BOOLEANS):
        return (prefill,) + (1,) * rest
    cuts = draw(_cuts(rest - 1))  # True: a chunk ends after this token
    sizes, size = [prefill], 1
    for cut in cuts:
        if cut:
            sizes.append(size)
            size = 0
        size += 1
    sizes.append(size)
    if len(sizes) < min_chunks:  # an uneven split with too few cuts: one-token steps instead
        return (prefill,) + (1,) * rest
    return tuple(sizes)


def spans(sizes: tuple[int, ...]) -> list[tuple[int, int]]:
    """(start, stop) of every chunk: the positions it covers."""
    out, start = [], 0
    for size in sizes:
        out.append((start, start + size))
        start += size
    return out


def show_chunks(sizes: tuple[int, ...]) -> str:
    """'3 chunks of 2 | 1 | 2 tokens at positions 0–1 | 2 | 3–4'."""
    at = " | ".join(f"{a}" if b - a == 1 else f"{a}–{b - 1}" for a, b in spans(sizes))
    count = f"{len(sizes)} chunk" + ("s" if len(sizes) > 1 else "")
    return f"{count} of {' | '.join(map(str, sizes))} tokens at positions {at}"


def _chunk_of(sizes: tuple[int, ...], column: int) -> str:
    """'the 1st token of chunk 2' for a position."""
    for i, (a, b) in enumerate(spans(sizes)):
        if a <= column < b:
            n = column - a + 1
            suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
            return f"the {n}{suffix} token of chunk {i + 1}"
    return "no chunk"


@dataclasses.dataclass(frozen=True)
class Chunked:
    """A model, its tokens, and a split of the tokens into chunks fed one after another."""

    model: Model
    sizes: tuple[int, ...]

    def __repr__(self) -> str:
        return f"Chunked({self.model!r}, {show_chunks(self.sizes)})"


@st.composite
def chunked_models(draw: st.DrawFn, *, min_ctx: int = 1, min_chunks: int = 1) -> Chunked:
    """A float64 unit-scale model, its tokens, and a drawn split of them."""
    m = draw(models(dtype=F64, magnitude=UNIT, min_ctx=min_ctx))
    return Chunked(m, draw(splits(m.tokens.shape[0], min_chunks=min_chunks)))


@dataclasses.dataclass(frozen=True)
class ChunkedHeads:
    """Multi-head attention inputs and a split of E's columns into chunks."""

    heads: MultiHead
    sizes: tuple[int, ...]

    def __repr__(self) -> str:
        h = self.heads
        return (f"ChunkedHeads(E {h.E.shape}, W_Q {h.W_Q.shape}, W_O {h.W_O.shape}, {h.E.dtype}, "
                f"magnitude {h.magnitude:g}, {show_chunks(self.sizes)})")


@st.composite
def chunked_heads(draw: st.DrawFn) -> ChunkedHeads:
    h = draw(multi_heads())
    return ChunkedHeads(h, draw(splits(h.E.shape[1])))


# ---------------------------------------------------------------------------------------------
# Feeding chunks


def _pair(what: str, result: Any, n: int) -> tuple[Any, ...]:
    """A result that must be a tuple of ``n`` (a list is accepted)."""
    if not isinstance(result, (tuple, list)) or len(result) != n:
        got = type(result).__name__ + (f" of {len(result)}" if isinstance(result, (tuple, list)) else "")
        raise expect.fail(f"{what}: expected a tuple of {n} items, got {got}")
    return tuple(result)


def _cache(what: str, cache: Any, m: Model, length: int) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """The cache as n_layers pairs of [n_heads d_head length] arrays, or a failure naming what is off."""
    c = m.config
    layers = _pair(what, cache, c.n_layers)
    return tuple(
        tuple(expect.shape(f"{what}[{i}][{j}] ({'KV'[j]} of layer {i})", a, (c.n_heads, c.d_head, length))
              for j, a in enumerate(_pair(f"{what}[{i}]", layer, 2)))  # type: ignore[misc]
        for i, layer in enumerate(layers)
    )


def feed(impl: Any, m: Model, sizes: tuple[int, ...], cache: Any = None) -> tuple[list[np.ndarray], Any]:
    """forward_cached on every chunk in turn, each with the cache the call before returned: each
    chunk's logits, and the last cache."""
    columns = []
    for start, stop in spans(sizes):
        what = f"forward_cached(tokens[{start}:{stop}], weights, cache of {start})"
        logits, cache = _pair(what, impl.forward_cached(m.tokens[start:stop], m.weights, cache), 2)
        columns.append(expect.shape(f"{what} logits", logits, (m.config.vocab, stop - start)))
        cache = _cache(f"{what} cache", cache, m, stop)
    return columns, cache


def _kv_tolerance(m: Model, want: np.ndarray, layer: BlockWeights) -> float:
    """float64: rtol times the largest K or V entry the layer norm allows (|W| (√d_model |g| + |b|))."""
    x = np.sqrt(m.config.d_model) * np.abs(layer.ln1_gain) + np.abs(layer.ln1_bias)
    bound = max(float(np.max(np.abs(W) @ x, initial=0.0)) for W in (layer.W_K, layer.W_V_down))
    return float(tolerance(F64).of(bound + float(np.max(np.abs(want), initial=0.0))))


# ---------------------------------------------------------------------------------------------
# The properties


@prop("decode.chunks_equal_forward", needs=("forward", "forward_cached"),
      statement="feeding tokens in any chunks through forward_cached, cache to cache, gives forward(tokens)'s logits",
      strategy=lambda: chunked_models(), requires=(NEEDS_FLOAT64,))
def chunks_equal_forward(impl: Any, c: Chunked) -> None:
    m = c.model
    vocab, ctx = m.config.vocab, m.tokens.shape[0]
    want = expect.shape("forward(tokens)", impl.forward(m.tokens, m.weights), (vocab, ctx)).astype(np.float64)
    columns, _ = feed(impl, m, c.sizes)
    got = np.concatenate(columns, axis=1)
    tol = 2 * model_tolerance(m, want)
    j = first_column_off(got, want, tol)
    if j is not None:
        expect.close(f"forward_cached logits column {j} (position {j}, {_chunk_of(c.sizes, j)})", got[:, j], want[:, j],
                     tol, note=f"{show_chunks(c.sizes)}{agreeing(j, 'column')}; "
                               f"compared with forward(tokens)[:, {j}] of {ctx} tokens")


@prop("decode.cache_equals_one_call", needs=("forward_cached",),
      statement="the cache after feeding tokens in any chunks is the cache of one forward_cached call on them all",
      strategy=lambda: chunked_models(min_ctx=2, min_chunks=2), requires=(NEEDS_FLOAT64,))
def cache_equals_one_call(impl: Any, c: Chunked) -> None:
    m = c.model
    ctx = m.tokens.shape[0]
    _, chunked = feed(impl, m, c.sizes)
    _, whole = feed(impl, m, (ctx,))
    for i, ((K, V), (K1, V1), layer) in enumerate(zip(chunked, whole, m.weights.blocks)):
        for name, got, want in (("K", K, K1), ("V", V, V1)):
            tol = _kv_tolerance(m, want, layer)
            p = first_column_off(got, want, tol)  # the first position whose keys or values are off
            if p is not None:
                expect.close(f"cache[{i}] {name} (layer {i}) at position {p} ({_chunk_of(c.sizes, p)}), "
                             f"[n_heads d_head]", got[..., p], want[..., p], tol,
                             note=f"{show_chunks(c.sizes)}; compared with forward_cached(tokens) in one call"
                                  f"{agreeing(p)}")


@prop("decode.positions_continue", needs=("forward", "forward_cached"),
      statement="a token fed after a cache of p positions is at position p: forward(tokens[:p+1])[:, p]",
      strategy=model_prefixes, requires=(NEEDS_FLOAT64, NEEDS_TWO_TOKENS))
def positions_continue(impl: Any, example: tuple[Model, int]) -> None:
    m, p = example
    made = calls(impl, ("forward", (m.tokens[: p + 1], m.weights)), ("forward_cached", (m.tokens[:p], m.weights, None)))
    want = expect.shape(f"forward(tokens[:{p + 1}])", made[0], (m.config.vocab, p + 1)).astype(np.float64)
    _, cache = _pair(f"forward_cached(tokens[:{p}])", made[1], 2)
    what = f"forward_cached(tokens[{p}:{p + 1}], weights, cache of {p})"
    logits, _ = _pair(what, impl.forward_cached(m.tokens[p : p + 1], m.weights, cache), 2)
    got = expect.shape(f"{what} logits", logits, (m.config.vocab, 1))
    expect.close(f"{what} logits", got[:, 0], want[:, p], 2 * model_tolerance(m, want),
                 note=f"compared with forward(tokens[:{p + 1}])[:, {p}]: the new token is at position {p} "
                      f"(W_pos column {p}), after the {p} cached ones")


@prop("decode.mha_split_equals_whole", needs=("multi_head_attention", "multi_head_attention_cached"),
      statement="multi_head_attention_cached on E's columns in chunks, cache to cache, equals multi_head_attention(E)",
      strategy=lambda: chunked_heads())
def mha_split_equals_whole(impl: Any, c: ChunkedHeads) -> None:
    h = c.heads
    n_heads, d_head = h.W_Q.shape[:2]
    want = expect.shape("multi_head_attention(E)", impl.multi_head_attention(*h.args, True), h.E.shape)
    K = V = np.zeros((n_heads, d_head, 0), h.E.dtype)
    columns = []
    for start, stop in spans(c.sizes):
        what = f"multi_head_attention_cached(E[:, {start}:{stop}], ..., K_past, V_past of {start})"
        delta, K, V = _pair(what, impl.multi_head_attention_cached(h.E[:, start:stop], *h.args[1:], K, V), 3)
        columns.append(expect.shape(f"{what} ΔE", delta, (h.E.shape[0], stop - start)))
        K = expect.shape(f"{what} K", K, (n_heads, d_head, stop))
        V = expect.shape(f"{what} V", V, (n_heads, d_head, stop))
    got = np.concatenate(columns, axis=1)
    tol = 2 * heads_tolerance(h)
    j = first_column_off(got, np.asarray(want, np.float64), tol)
    if j is not None:
        expect.close(f"multi_head_attention_cached ΔE column {j} (position {j}, {_chunk_of(c.sizes, j)})", got[:, j],
                     want[:, j], tol, note=f"{show_chunks(c.sizes)}{agreeing(j, 'column')}; "
                                           f"compared with multi_head_attention(E)[:, {j}]")


@prop("decode.cache_not_modified", needs=("forward_cached",),
      statement="forward_cached leaves the cache passed in unchanged, and the same cache fed twice gives the same",
      strategy=lambda: chunked_models(min_ctx=2, min_chunks=2), requires=(NEEDS_FLOAT64, NEEDS_TWO_TOKENS))
def cache_not_modified(impl: Any, c: Chunked) -> None:
    m = c.model
    start, stop = c.sizes[0], c.sizes[0] + c.sizes[1]  # the first chunk makes the cache, the second is fed twice
    _, cache = feed(impl, m, (start,))
    kept = tuple((K.copy(), V.copy()) for K, V in cache)
    what = f"forward_cached(tokens[{start}:{stop}], weights, cache of {start})"
    first, _ = _pair(what, impl.forward_cached(m.tokens[start:stop], m.weights, cache), 2)
    for i, ((K, V), (K0, V0)) in enumerate(zip(cache, kept)):
        for name, now, before in (("K", K, K0), ("V", V, V0)):
            expect.equal(f"cache[{i}] {name} (layer {i}) passed to {what}, after the call", now, before,
                         note="the cache passed in must not be modified (branching and beam search feed it again)")
    again, _ = _pair(what, impl.forward_cached(m.tokens[start:stop], m.weights, cache), 2)
    expect.close(f"{what} logits, the same cache fed a second time", again, first,
                 2 * model_tolerance(m, np.asarray(first, np.float64)), note="compared with the first call")


@prop("decode.past_n_ctx_rejected", needs=("forward_cached",),
      statement="forward_cached refuses ctx_past + ctx_new > n_ctx: never a wrap around W_pos, never a truncation",
      strategy=lambda: st.tuples(models(dtype=F64, magnitude=UNIT), st.integers(0, 5), st.integers(1, 2)),
      requires=(NEEDS_FLOAT64,))
def past_n_ctx_rejected(impl: Any, example: tuple[Model, int, int]) -> None:
    m, p, extra = example
    n_ctx = m.config.n_ctx
    p = min(p, m.tokens.shape[0])
    cache = None
    if p:
        _, cache = _pair(f"forward_cached(tokens[:{p}])", impl.forward_cached(m.tokens[:p], m.weights, None), 2)
    new = np.resize(m.tokens, n_ctx - p + extra)
    expect.rejects(f"forward_cached({len(new)} tokens, weights, cache of {p}) with n_ctx = {n_ctx} "
                   f"(ctx_past + ctx_new = {p + len(new)})", lambda: impl.forward_cached(new, m.weights, cache))


@prop("decode.greedy_generation_same", needs=("forward", "forward_cached"),
      statement="greedy generation with the cache picks what greedy generation with forward on the whole picks",
      strategy=model_prefixes, requires=(NEEDS_FLOAT64, NEEDS_TWO_TOKENS))
def greedy_generation_same(impl: Any, example: tuple[Model, int]) -> None:
    m, p = example
    n_ctx, vocab = m.config.n_ctx, m.config.vocab
    sequence = [int(t) for t in m.tokens[:p]]
    logits, cache = _pair(f"forward_cached(prompt of {p})", impl.forward_cached(m.tokens[:p], m.weights, None), 2)
    fed = p
    while True:
        step = expect.shape("forward_cached logits", logits, (vocab, fed))
        sequence.append(int(np.argmax(step[:, -1])))
        if len(sequence) == n_ctx:
            break
        last, fed = np.array(sequence[-1:], dtype=m.tokens.dtype), 1
        what = f"forward_cached(the token at position {len(sequence) - 1})"
        logits, cache = _pair(what, impl.forward_cached(last, m.weights, cache), 2)
    prefixes = [np.array(sequence[:n], dtype=m.tokens.dtype) for n in range(p, n_ctx)]
    made = calls(impl, *(("forward", (prefix, m.weights)) for prefix in prefixes))
    for n, prefix in zip(range(p, n_ctx), prefixes):
        column = expect.shape(f"forward(tokens[:{n}])", made[n - p], (vocab, n))[:, -1].astype(np.float64)
        pick, best = sequence[n], int(np.argmax(column))
        if column[pick] < column[best] - 2 * model_tolerance(m, column):  # a tie may go either way
            raise expect.fail(
                f"greedy generation from the prompt {sequence[:p]}: step {n - p + 1} (position {n}) with the cache "
                f"picks token {pick} (logit {expect.fmt(column[pick])} in forward(tokens[:{n}])[:, -1]), forward on "
                f"the whole picks {best} (logit {expect.fmt(column[best])}); generated with the cache: {sequence[p:]}"
            )

