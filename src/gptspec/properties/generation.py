"""Generation: a model's own ``generate`` continues a sequence as the spec's distribution says.

``generate(tokens, weights, n_new, temperature, top_k, rng, batch=1) -> Int[batch n_new]`` is the
entry point a whole model of a family provides (:mod:`gptspec.ecosystem.families`: nanoGPT's and
minGPT's ``generate``, picoGPT's): ``batch`` independent continuations of ``tokens`` by ``n_new``
tokens, each new token drawn from softmax(logits of the last position / T) restricted to the
``top_k`` largest logits (None: all), T = 0 greedy; ``rng`` seeds the draws. With the reference's
logits ℓ = ``gptspec.impl.forward(sequence, weights)[:, −1]``:

- greedy: at T = 0 each new token is an argmax of ℓ for the sequence so far (the argmax chain;
  a tie within the reference's rounding may go either way);
- sampling: at 0 < T <= 2 the first new token of :data:`DRAWS` continuations fits softmax(ℓ / T)
  (a Bernstein test with false alarm :data:`FALSE_ALARM` per example, as ``sample``'s);
- top_k: with top_k = k no drawn token is outside the k largest logits, and the draws fit the
  softmax renormalised over them.

The sampling properties need T > 0; a target that declares ``greedy-only`` (picoGPT) has them
"not applicable". ctx + n_new <= n_ctx, so no family crops its context.

The strategy draws where a wrong ``generate`` shows at once: the last logits spread over a range
of :data:`SPREADS` (a tiny drawn model's logits are nearly equal, and softmax(ℓ·T) then fits
softmax(ℓ/T)), temperatures far from 1 first, top_k < vocab, and greedy run on
:data:`GREEDY_BATCH` continuations at once (a greedy ``generate`` that samples is caught by one
example, not by many).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import strategies as st

from .. import impl as reference
from ..spec import Config, Weights
from . import expect
from .agreement import CONDITIONING, widened
from .coded import UNIT, integers
from .domain import NEEDS_SAMPLING
from .registry import prop
from .strategies import configs, dtypes, recipes, tokens
from .temperature import bernstein_bound
from .common import plain_softmax
from .tolerance import tolerance

__all__ = ["GENERATE", "DRAWS", "FALSE_ALARM", "GREEDY_BATCH", "SPREADS", "Generation", "generations", "spread", "Rule",
           "spec_rule", "follows"]

GENERATE = ("generate",)
DRAWS = 400
"""Continuations per example of the statistical tests (one batched call)."""
FALSE_ALARM = 1e-7
"""Chance that a statistical test fails one example of a correct ``generate``."""
TEMPERATURES = (0.5, 2.0, 0.25, 1.5, 1.0)
"""Temperatures the sampling tests draw, the farthest from 1 first (at T = 1, ℓ·T and ℓ/T are one
distribution): the ordinary ones (sample's T → 0 and its edges are the temperature family's)."""
SPREADS = (2.0, 5.0, 1.0)
"""max − min of the last position's logits in a drawn example (:func:`spread`), the first drawn
first: wide enough that T, top_k and the argmax matter, narrow enough that the argmax is not
certain (a greedy generate that samples must be seen to)."""
MOST_SCALE = 100.0
"""The largest factor :func:`spread` scales the logits by (logits nearly equal stay nearer)."""
MIN_VOCAB = 3
"""The least vocab drawn: with 1 token nothing can be wrong, with 2 top_k < vocab is top-1, greedy."""
GREEDY_BATCH = 4
"""Continuations per greedy example: each must be the argmax chain."""


@dataclasses.dataclass(frozen=True)
class Generation:
    """A model, tokens, how many to generate, T, top_k and the draws' seed."""

    tokens: np.ndarray
    weights: Weights
    config: Config
    n_new: int
    T: float
    top_k: int | None
    seed: int

    def __repr__(self) -> str:
        return (f"Generation(tokens={self.tokens.tolist()}, config={self.config}, {self.weights.W_E.dtype}, "
                f"n_new={self.n_new}, T={self.T:g}, top_k={self.top_k}, seed={self.seed})")

    def call(self) -> tuple[Any, ...]:
        """generate's arguments for this example, as the properties call it: greedy on
        :data:`GREEDY_BATCH` continuations, sampling on :data:`DRAWS` of one new token."""
        batch = GREEDY_BATCH if self.T == 0 else DRAWS
        return self.tokens, self.weights, self.n_new, self.T, self.top_k, np.random.default_rng(self.seed), batch


@st.composite
def generations(draw: st.DrawFn, *, sampling: bool = False, top_k: bool = False) -> Generation:
    """A drawn model (vocab >= :data:`MIN_VOCAB`, logits spread) with room for the new tokens
    (ctx + n_new <= n_ctx, ctx >= 2 where it fits);
    greedy: 1–3 new tokens,
    T = 0; sampling: one new token at a drawn T, with a drawn top_k when ``top_k``."""
    c = draw(configs(min_ctx=2, min_vocab=MIN_VOCAB))
    dt = draw(dtypes())
    weights = draw(recipes(UNIT)).build(Weights, c, dt)
    n_new = 1 if sampling else draw(integers(1, min(3, c.n_ctx - 1)))
    ctx = draw(integers(min(2, c.n_ctx - n_new), c.n_ctx - n_new))  # 2 where it fits: a position can be wrong
    T = draw(st.sampled_from(TEMPERATURES)) if sampling else 0.0
    k = draw(integers(min(2, c.vocab - 1) or 1, max(c.vocab - 1, 1))) if top_k else None  # k < vocab where it can be
    seq = draw(tokens(c.vocab, ctx))
    weights = spread(weights, seq, draw(st.sampled_from(SPREADS)))
    return Generation(seq, weights, c, n_new, T, k, draw(integers(0, 2**32 - 1)))


def spread(weights: Weights, tokens: np.ndarray, width: float) -> Weights:
    """``weights`` with the final layer norm's gain and bias scaled by s, so the reference's last
    logits of ``tokens`` span ``width`` (max − min): logits = W_U (s·g ⊙ x̂ + s·b) = s·ℓ exactly,
    whether W_U is tied to W_E or not. s is at most :data:`MOST_SCALE`; equal logits stay equal."""
    last = reference.forward(tokens, weights)[:, -1].astype(np.float64)
    now = float(np.max(last) - np.min(last))
    if not np.isfinite(now) or now == 0.0:
        return weights
    s = min(width / now, MOST_SCALE)
    dtype = weights.lnf_gain.dtype
    return dataclasses.replace(weights, lnf_gain=(weights.lnf_gain * s).astype(dtype),
                               lnf_bias=(weights.lnf_bias * s).astype(dtype))


def _last_logits(seq: np.ndarray, weights: Weights) -> tuple[np.ndarray, float]:
    """The reference's logits of the last position, and how far they may be off (the dtype's
    tolerance plus the reference's own rounding, as agreement's)."""
    logits = reference.forward(seq, weights)[:, -1]
    wide = reference.forward(seq, widened(weights))[:, -1]
    own = float(np.max(np.abs(logits.astype(np.float64) - wide.astype(np.float64))))
    return logits.astype(np.float64), tolerance(logits.dtype).of(float(np.max(np.abs(logits)))) + CONDITIONING * own


def _generated(g: Generation, got: Any, batch: int) -> np.ndarray:
    ids = expect.shape(f"generate(tokens of {len(g.tokens)}, n_new={g.n_new}, T={g.T:g}, top_k={g.top_k})",
                       np.asarray(got), (batch, g.n_new)).astype(np.int64)
    vocab = g.config.vocab
    outside = (ids < 0) | (ids >= vocab)
    if outside.any():
        raise expect.fail(f"generate(..., T={g.T:g}) returned token {ids[outside][0]}, outside the vocab of {vocab}")
    return ids


@prop("generation.greedy_is_argmax_chain", needs=GENERATE,
      statement=f"generate(tokens, T=0) appends argmax of the reference's last logits, token after token, in each of "
                f"{GREEDY_BATCH} continuations",
      strategy=lambda: generations())
def greedy_is_argmax_chain(impl: Any, g: Generation) -> None:
    got = _generated(g, impl.generate(*g.call()), GREEDY_BATCH)
    chains = np.unique(got, axis=0)  # identical continuations are one chain to check
    which = "" if len(chains) == 1 else f" ({len(chains)} different continuations in {GREEDY_BATCH})"
    for new in chains:
        seq = [int(t) for t in g.tokens]
        for i, t in enumerate(new):
            logits, tol = _last_logits(np.array(seq), g.weights)
            best = int(np.argmax(logits))
            if logits[t] < logits[best] - tol:
                raise expect.fail(
                    f"generate(tokens {seq[:len(g.tokens)]}, n_new={g.n_new}, T=0){which}: new token {i + 1} after "
                    f"{seq} is {t} (logit {expect.fmt(logits[t])}), expected the argmax {best} (logit "
                    f"{expect.fmt(logits[best])})")
            seq.append(int(t))


def _fits(g: Any, ids: np.ndarray, logits: np.ndarray, tol: float) -> None:
    """The first new tokens ``ids`` fit softmax(logits / g.T) over the g.top_k largest (all: None)."""
    p = plain_softmax(logits, g.T)
    kept = np.ones(logits.shape[0], bool)
    ambiguous = False
    if g.top_k is not None and g.top_k < logits.shape[0]:
        kth = np.sort(logits)[::-1][g.top_k - 1]
        kept = logits >= kth - tol  # ties with the k-th largest are kept, as nanoGPT and minGPT do
        ambiguous = bool(np.any((logits >= kth - tol) & (logits < kth + tol) & (logits != kth)))
        drawn_out = ids[~kept[ids]]
        if drawn_out.size:
            i = int(drawn_out[0])
            raise expect.fail(
                f"generate(..., T={g.T:g}, top_k={g.top_k}) drew token {i} (logit {expect.fmt(logits[i])}), which is not "
                f"among the {g.top_k} largest logits (the {g.top_k}-th is {expect.fmt(kth)})")
        p = np.where(kept, p, 0.0)
        p = p / p.sum()
    if ambiguous:  # a logit within rounding of the k-th: which of them is kept is not determined
        return
    counts = np.bincount(ids, minlength=logits.shape[0])
    draws = ids.size
    expected = draws * p
    bound = bernstein_bound(draws, p, FALSE_ALARM)
    excess = np.abs(counts - expected) - bound
    if np.any(excess > 0):
        i = int(np.argmax(excess))
        what = f"softmax(logits / {g.T:g})" + (f" over the {g.top_k} largest" if g.top_k is not None else "")
        raise expect.fail(
            f"generate(..., T={g.T:g}, top_k={g.top_k}) drew token {i} first {counts[i]} times in {draws}: {what} "
            f"expects {expect.fmt(expected[i])} ± {expect.fmt(bound[i])} (p = {expect.fmt(p[i])}, logit "
            f"{expect.fmt(logits[i])}; false-alarm rate {FALSE_ALARM:g})")


def _first_tokens(impl: Any, g: Generation) -> np.ndarray:
    return _generated(g, impl.generate(*g.call()), DRAWS)[:, 0]


@prop("generation.sample_follows_softmax", needs=GENERATE, requires=(NEEDS_SAMPLING,),
      statement=f"the first token of {DRAWS} generate(tokens, T) continuations fits softmax(logits / T) "
                f"(Bernstein test, false alarm {FALSE_ALARM:g} per example)",
      strategy=lambda: generations(sampling=True))
def sample_follows_softmax(impl: Any, g: Generation) -> None:
    logits, tol = _last_logits(g.tokens, g.weights)
    _fits(g, _first_tokens(impl, g), logits, tol)


@prop("generation.top_k_keeps_k_largest", needs=GENERATE, requires=(NEEDS_SAMPLING,),
      statement=f"generate(tokens, T, top_k=k) draws only among the k largest logits, {DRAWS} draws fitting their "
                "renormalised softmax",
      strategy=lambda: generations(sampling=True, top_k=True))
def top_k_keeps_k_largest(impl: Any, g: Generation) -> None:
    logits, tol = _last_logits(g.tokens, g.weights)
    _fits(g, _first_tokens(impl, g), logits, tol)


# ---------------------------------------------------------------------------------------------
# Which draw rule a generate's tokens can come from (the diagnosis of a failing generate)

Rule = Callable[[np.ndarray, float, "int | None"], tuple[np.ndarray, float, "int | None"]]
"""(the logits [vocab ctx] of the sequence so far, T, top_k) -> (the column drawn from, the T it is drawn
at (0: the argmax), the top_k it is restricted to): how a generate picks its next token."""


def spec_rule(logits: np.ndarray, temperature: float, top_k: int | None) -> tuple[np.ndarray, float, int | None]:
    """The spec's: the last position's logits, at T, over the top_k largest."""
    return logits[:, -1], temperature, top_k


@dataclasses.dataclass(frozen=True)
class _Draw:
    T: float
    top_k: int | None


def follows(args: tuple[Any, ...], ids: Any, rule: Rule = spec_rule) -> bool:
    """Whether generate(*args)'s tokens ``ids`` [batch n_new] can come from ``rule``: step by step, the
    continuations that share a prefix drew from one distribution (the properties' tests: an argmax within
    rounding at T = 0, the Bernstein fit otherwise)."""
    tokens, weights, n_new, T, top_k = args[:5]
    ids = np.asarray(ids)
    if ids.ndim != 2 or ids.shape[1] != n_new or ids.dtype.kind not in "iu":
        return False
    vocab = weights.W_E.shape[1]
    if ((ids < 0) | (ids >= vocab)).any():
        return False
    for step in range(n_new):
        groups: dict[tuple[int, ...], list[int]] = {}
        for b in range(ids.shape[0]):
            groups.setdefault(tuple(int(t) for t in ids[b, :step]), []).append(b)
        for prefix, rows in groups.items():
            seq = np.concatenate([np.asarray(tokens), np.array(prefix, dtype=np.asarray(tokens).dtype)])
            logits = reference.forward(seq, weights)
            wide = reference.forward(seq, widened(weights))
            with np.errstate(all="ignore"):
                own = float(np.max(np.abs(logits.astype(np.float64) - wide.astype(np.float64)), initial=0.0))
            tol = tolerance(logits.dtype).of(float(np.max(np.abs(logits), initial=0.0))) + CONDITIONING * own
            column, t, k = rule(logits.astype(np.float64), T, top_k)
            drawn = ids[rows, step].astype(np.int64)
            if t == 0:
                if np.any(column[drawn] < np.max(column) - tol):
                    return False
                continue
            try:
                _fits(_Draw(t, k), drawn, column, tol)
            except expect.PropertyFailure:
                return False
    return True
