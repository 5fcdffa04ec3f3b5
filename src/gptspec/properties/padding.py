"""Padding: each sequence of a padded batch gets the logits it gets alone.

A model that takes a batch with an attention mask (HF's ``attention_mask``: 1 at real tokens, 0 at
pads) must give every sequence of a left- or right-padded batch exactly the logits ``forward``
gives that sequence alone: the pads are masked out as keys, and each real token keeps the position
it has in its own sequence (the position ids HF's own ``generate`` passes: cumsum(mask) − 1, so a
left-padded sequence still starts at position 0). After a left-padded prefill, one step with the
cache gives each sequence ``forward(sequence + [next])``'s last column (HF transformers #18104:
padded batches with a cache). Two entry points (:data:`gptspec.target.MODULE_ENTRY_POINTS`), NumPy in and out,
``tokens Int[batch ctx_new]``, ``mask Bool[batch ctx_past+ctx_new]`` True at real tokens (the cached
positions' mask, then the new ones'):

    forward_padded(tokens, mask, weights) -> logits [batch vocab ctx]
    forward_padded_cached(tokens, mask, weights, cache=None) -> (logits [batch vocab ctx_new], cache)

where a cache is one ``(K, V)`` pair per layer of ``[batch n_heads d_head ctx_past]`` arrays (the spec's
``K_past``, ``V_past`` with a batch axis first). A whole model that has them provides them
(``hf:gpt2``); for every other target these properties are "not provided".

The traps: position ids 0 … ctx − 1 whatever the padding (a left-padded sequence then starts at the
pads' count); pad keys left unmasked (every query sees the pads); a cached step whose position
counts the pads. Examples are float64 at unit scale, as the decode family's.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from hypothesis import strategies as st

from . import expect
from .coded import integers
from .common import agreeing, calls, first_column_off, model_tolerance
from .domain import NEEDS_FLOAT64
from .registry import prop
from .strategies import UNIT, Model, models, tokens

__all__ = ["PADDED", "PADDED_CACHED", "Padded", "padded_batches", "pad"]

PADDED = ("forward_padded", "forward")
PADDED_CACHED = ("forward_padded_cached", "forward")
F64 = np.dtype(np.float64)


def pad(sequences: tuple[np.ndarray, ...], side: str, pad_token: int) -> tuple[np.ndarray, np.ndarray]:
    """``tokens [batch width]`` with every sequence padded by ``pad_token`` on ``side`` to the longest,
    and ``mask [batch width]``, True at real tokens."""
    width = max(len(s) for s in sequences)
    ids, mask = np.full((len(sequences), width), pad_token, dtype=np.int64), np.zeros((len(sequences), width), bool)
    for i, s in enumerate(sequences):
        at = slice(width - len(s), width) if side == "left" else slice(0, len(s))
        ids[i, at], mask[i, at] = s, True
    return ids, mask


@dataclasses.dataclass(frozen=True)
class Padded:
    """A model, 2–3 sequences of its vocabulary, the pad side and token, and each sequence's next token."""

    model: Model
    sequences: tuple[np.ndarray, ...]
    side: str
    pad_token: int
    following: tuple[int, ...]

    def padded(self, side: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        return pad(self.sequences, side or self.side, self.pad_token)

    def show(self, i: int, side: str | None = None) -> str:
        """'sequence 1 [3, 0] (2 tokens) of a left-padded batch of 3 sequences, width 4, pad token 5'."""
        s = self.sequences[i]
        return (f"sequence {i} {s.tolist()} ({len(s)} token{'s' * (len(s) > 1)}) of a {side or self.side}-padded "
                f"batch of {len(self.sequences)} sequences, width {max(map(len, self.sequences))}, "
                f"pad token {self.pad_token}")

    def __repr__(self) -> str:
        m = self.model
        return (f"Padded(sequences {[s.tolist() for s in self.sequences]}, {self.side}-padded with token "
                f"{self.pad_token}, next tokens {list(self.following)}, config={m.config}, weights: {m.recipe}, "
                f"{m.weights.W_E.dtype})")


@st.composite
def padded_batches(draw: st.DrawFn) -> Padded:
    """A float64 unit-scale model (n_ctx >= 2) and 2–3 sequences of 1 … n_ctx − 1 tokens (room for
    the next one), the first the model's own tokens; a pad side, a pad token and the next tokens."""
    m = draw(models(dtype=F64, magnitude=UNIT, min_ctx=2))
    vocab, most = m.config.vocab, m.config.n_ctx - 1
    first = m.tokens[: min(len(m.tokens), most)]
    others = [draw(tokens(vocab, draw(integers(1, most)))) for _ in range(draw(integers(1, 2)))]
    token = integers(0, vocab - 1)
    sequences = (first, *others)
    following = tuple(draw(token) for _ in sequences)
    return Padded(m, sequences, draw(st.sampled_from(("left", "right"))), draw(token), following)


def _alone(impl: Any, m: Model, sequences: list[np.ndarray]) -> list[np.ndarray]:
    """forward(s) of every sequence alone, in one round trip, as float64 ``[vocab len(s)]``."""
    made = calls(impl, *(("forward", (s, m.weights)) for s in sequences))
    return [expect.shape(f"forward({s.tolist()})", got, (m.config.vocab, len(s))).astype(np.float64)
            for s, got in zip(sequences, made)]


def _compare(what: str, got: np.ndarray, want: np.ndarray, tol: float, positions: np.ndarray, note: str) -> None:
    """got [vocab n] against want at the first column off: which position of the sequence it is."""
    j = first_column_off(got, want, tol)
    if j is not None:
        expect.close(f"{what} at padded column {positions[j]} (position {j} of the sequence)", got[:, j], want[:, j], tol,
                     note=note + agreeing(j))


@prop("padding.batch_equals_alone", needs=PADDED,
      statement="each sequence of a left- or right-padded batch gets the logits forward gives it alone",
      strategy=lambda: padded_batches(), requires=(NEEDS_FLOAT64,))
def batch_equals_alone(impl: Any, p: Padded) -> None:
    m = p.model
    ids, mask = p.padded()
    what = f"forward_padded(tokens {ids.shape}, mask, weights)"
    logits = expect.shape(what, impl.forward_padded(ids, mask, m.weights), (len(ids), m.config.vocab, ids.shape[1]))
    for i, alone in enumerate(_alone(impl, m, list(p.sequences))):
        columns = np.flatnonzero(mask[i])
        _compare(f"{what} logits of sequence {i}", logits[i][:, columns], alone, 2 * model_tolerance(m, alone),
                 columns, f"{p.show(i)}, mask {mask[i].astype(int).tolist()}; compared with forward(sequence {i})")


def _cache(what: str, cache: Any, m: Model, batch: int, length: int) -> None:
    """The cache as n_layers pairs of [batch n_heads d_head length] arrays, or a failure naming what is off."""
    c = m.config
    if not isinstance(cache, (tuple, list)) or len(cache) != c.n_layers:
        raise expect.fail(f"{what}: expected a cache of {c.n_layers} (K, V) pairs, got {type(cache).__name__}")
    for i, layer in enumerate(cache):
        for j, a in enumerate(layer if isinstance(layer, (tuple, list)) and len(layer) == 2 else (layer,)):
            expect.shape(f"{what}[{i}][{j}] ({'KV'[j]} of layer {i})", a, (batch, c.n_heads, c.d_head, length))


def _pair(what: str, result: Any) -> tuple[Any, Any]:
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise expect.fail(f"{what}: expected (logits, cache), got {type(result).__name__}")
    return result[0], result[1]


@prop("padding.cached_step_after_left_padding", needs=PADDED_CACHED,
      statement="after a left-padded prefill, one step with the cache gives each sequence "
                "forward(sequence + [next])'s last column",
      strategy=lambda: padded_batches(), requires=(NEEDS_FLOAT64,))
def cached_step_after_left_padding(impl: Any, p: Padded) -> None:
    m = p.model
    vocab, (ids, mask) = m.config.vocab, p.padded("left")
    batch, width = ids.shape
    what = f"forward_padded_cached(tokens {ids.shape}, mask, weights), left-padded"
    logits, cache = _pair(what, impl.forward_padded_cached(ids, mask, m.weights, None))
    expect.shape(f"{what} logits", logits, (batch, vocab, width))
    _cache(f"{what} cache", cache, m, batch, width)
    grown = np.hstack([mask, np.ones((batch, 1), bool)])  # the cached positions' mask, then the new token's
    step_what = f"forward_padded_cached(next tokens {list(p.following)}, mask {grown.shape}, weights, cache of {width})"
    step, _ = _pair(step_what, impl.forward_padded_cached(np.array(p.following, np.int64)[:, None], grown, m.weights,
                                                           cache))
    step = expect.shape(f"{step_what} logits", step, (batch, vocab, 1))
    longer = [np.append(s, np.int64(t)).astype(s.dtype) for s, t in zip(p.sequences, p.following)]
    for i, alone in enumerate(_alone(impl, m, longer)):
        n = len(p.sequences[i])
        expect.close(f"{step_what} logits of sequence {i}", step[i][:, 0], alone[:, n], 2 * model_tolerance(m, alone),
                     note=f"{p.show(i, 'left')} then token {p.following[i]} at position {n} (padded column {width}), "
                          f"fed with the cache; compared with forward(sequence {i} + [{p.following[i]}])[:, {n}]")
