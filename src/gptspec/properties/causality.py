"""Causality: a position never sees the future, at every level from the mask to the next token.

The pattern A is [ctx_k ctx_q], keys down, queries across, softmax down each column; the mask keeps
k <= q, so the lower-left is 0 exactly. Changing any column of E (or any token) after position i
must leave every output column <= i bit-for-bit unchanged: those columns are computed from the
same numbers, and a future key's weight must be exactly 0, not merely small. A prefix gives the
same columns as the whole (up to rounding: the shapes differ). Cross-attention has no mask and
does not care in which order its keys and values come.

The ordinary domain (:mod:`.ordinary`): |scores| = |KᵀQ|/√d_head up to 1e6. A finite mask constant
that leaks only beyond (−1e10) is fragile, with its onset; one that leaks inside (−1e4, −1e5) fails.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import strategies as st

from .. import impl as reference
from ..spec import BlockWeights, Weights
from . import expect
from .coded import integers, permutations
from .ordinary import SCORES_MAX, Scale, head_scores_size, mask_cause, scores_size, times, with_rows
from .common import calls, model_prefixes, model_tolerance, plain_softmax
from .domain import NEEDS_FLOAT64, NEEDS_NON_CAUSAL, NEEDS_TWO_TOKENS, causal_flags, ctx_limit
from .registry import prop
from .strategies import (
    LOGIT_LARGE,
    UNIT,
    Head,
    Model,
    MultiHead,
    Recipe,
    arrays,
    config_fields,
    configs,
    dtypes,
    heads,
    magnitudes,
    models,
    multi_heads,
    recipes,
)
from .tolerance import head_tolerance, tolerance


@dataclasses.dataclass(frozen=True)
class QK:
    """Queries and keys of one head, [d_head ctx] each (self-attention: same positions)."""

    Q: np.ndarray
    K: np.ndarray


@st.composite
def queries_keys(draw: st.DrawFn, *, same_length: bool = True) -> QK:
    c = draw(configs(uses=("d_head",)))
    dt = draw(dtypes())
    m = draw(magnitudes(LOGIT_LARGE))
    ctx_q = draw(integers(1, c.n_ctx))
    ctx_k = ctx_q if same_length else draw(integers(1, c.n_ctx))
    return QK(draw(arrays(dt, (c.d_head, ctx_q), m)), draw(arrays(dt, (c.d_head, ctx_k), m)))


# The ordinary domain (see .ordinary): |scores| = max |KᵀQ| / √d_head over every key and query (and
# head, and layer) the example makes, up to SCORES_MAX; an example moves along its scale by
# multiplying Q and K (or W_Q and W_K, of every head and block) by the same factor √(value / now).


def _factor(now: float, value: float) -> float:
    return math.sqrt(value / now) if now > 0 else 1.0


def _qk_at(qk: QK, value: float) -> QK:
    c = _factor(scores_size(qk.Q, qk.K), value)
    return QK(times(qk.Q, c), times(qk.K, c))


QK_SCORES = Scale("|scores|", lambda qk: scores_size(qk.Q, qk.K), _qk_at, high=SCORES_MAX, cause=mask_cause)


def pattern(impl: Any, qk: QK, causal: bool = True) -> np.ndarray:
    shape = (qk.K.shape[1], qk.Q.shape[1])
    return expect.shape(f"attention_pattern(Q {qk.Q.shape}, K {qk.K.shape})", impl.attention_pattern(qk.Q, qk.K, causal), shape)


@prop("causality.mask_is_upper_triangle", needs=("causal_mask",),
      statement="causal_mask(ctx)[k, q] is True exactly when key k <= query q (the lower-left is masked)",
      strategy=lambda: st.integers(1, ctx_limit(8)))
def mask_is_upper_triangle(impl: Any, ctx: int) -> None:
    k, q = np.indices((ctx, ctx))
    got = expect.array(f"causal_mask({ctx})", impl.causal_mask(ctx))
    expect.equal(f"causal_mask({ctx}) (keys down, queries across)", got, k <= q,
                 note="True means key k may inform query q")


@prop("causality.masked_entries_zero", needs=("attention_pattern",),
      statement="A[k, q] = 0 exactly for every key k after query q, at any score magnitude",
      strategy=lambda: queries_keys(),
      scale=QK_SCORES)
def masked_entries_zero(impl: Any, qk: QK) -> None:
    A = pattern(impl, qk)
    k, q = np.indices(A.shape)
    scores = float(np.max(np.abs(qk.K.astype(np.float64).T @ qk.Q))) / np.sqrt(qk.Q.shape[0])
    expect.equal("A = attention_pattern(Q, K) below the diagonal (key after query)", np.where(k > q, A, 0),
                 np.zeros(A.shape), note=f"max |score| = {expect.fmt(scores)}")


@prop("causality.columns_sum_to_one", needs=("attention_pattern",),
      statement="Σ_k A[k, q] = 1 for every query q, causal or not",
      strategy=lambda: st.tuples(queries_keys(same_length=False), causal_flags()),
      scale=Scale("|scores|", lambda e: scores_size(e[0].Q, e[0].K), lambda e, v: (_qk_at(e[0], v), e[1]),
                  high=SCORES_MAX))
def columns_sum_to_one(impl: Any, example: tuple[QK, bool]) -> None:
    qk, causal = example
    if causal:  # self-attention: as many keys as queries
        n = min(qk.Q.shape[1], qk.K.shape[1])
        qk = QK(qk.Q[:, :n], qk.K[:, :n])
    A = pattern(impl, qk, causal)
    expect.close(f"Σ_k A[k, q] (causal={causal}) for query q", A.astype(np.float64).sum(axis=0), np.ones(A.shape[1]),
                 tolerance(qk.Q.dtype).normalisation(A.shape[0]))


@dataclasses.dataclass(frozen=True)
class FutureEdit:
    """An example, a position i, and new values for every column (or token) after i."""

    case: Any
    i: int
    after: np.ndarray

    def edit(self, columns: np.ndarray) -> np.ndarray:
        """``columns`` with everything after position i replaced (columns on the last axis)."""
        return np.concatenate([columns[..., : self.i + 1], self.after], axis=-1)


@st.composite
def future_edits(draw: st.DrawFn, cases: st.SearchStrategy[Any], columns_of: Any) -> FutureEdit:
    """An edit of the columns after a drawn position i (the example has ctx >= 2)."""
    case = draw(cases)
    columns = columns_of(case)
    ctx = columns.shape[-1]
    i = draw(integers(0, ctx - 2))
    shape = columns.shape[:-1] + (ctx - i - 1,)
    if columns.dtype.kind == "i":
        vocab = case.config.vocab
        after = draw(st.lists(st.integers(0, vocab - 1), min_size=shape[0], max_size=shape[0]))
        return FutureEdit(case, i, np.array(after, dtype=columns.dtype))
    magnitude = getattr(case, "magnitude", UNIT)
    return FutureEdit(case, i, draw(arrays(columns.dtype, shape, magnitude)))


def unchanged_up_to_i(what: str, before: Any, after: Any, edit: FutureEdit, shape: tuple[int, ...]) -> None:
    before = expect.shape(what, before, shape)
    after = expect.shape(what, after, shape)
    expect.equal(f"{what} in columns ≤ i = {edit.i} after changing the columns > i", after[..., : edit.i + 1],
                 before[..., : edit.i + 1], note="the past must not see the future")


def attention_unchanged_up_to_i(impl: Any, fn: str, edit: FutureEdit) -> None:
    """ΔE = impl.<fn>(E, *weights, causal=True) and of the edited E agree exactly in columns ≤ i."""
    h: Head | MultiHead = edit.case
    rest = h.args[1:]
    made = calls(impl, (fn, (h.E, *rest, True)), (fn, (edit.edit(h.E), *rest, True)))
    unchanged_up_to_i(f"{fn} ΔE", made[0], made[1], edit, h.E.shape)


def _edit_scale(size: Callable[[Any, np.ndarray], float], input_of: Callable[[Any], np.ndarray],
               rescaled: Callable[[Any, float], Any]) -> Scale:
    """The |scores| scale of a FutureEdit: the larger of ``size(case, x)`` on the case's input x
    and on the edited one; at a value, the case ``rescaled`` by the factor c that brings it there
    (c on W_Q and on W_K: scores scale by c²)."""

    def edit_size(edit: FutureEdit) -> float:
        x = input_of(edit.case)
        return max(size(edit.case, x), size(edit.case, edit.edit(x)))

    def edit_at(edit: FutureEdit, value: float) -> FutureEdit:
        return dataclasses.replace(edit, case=rescaled(edit.case, _factor(edit_size(edit), value)))

    return Scale("|scores|", edit_size, edit_at, high=SCORES_MAX, cause=mask_cause)


HEAD_EDIT_SCORES = _edit_scale(lambda h, E: head_scores_size(E, h.W_Q, h.W_K), lambda h: h.E,
                              lambda h, c: with_rows(h, c, "W_Q", "W_K"))
"""|scores| of the head(s) of a Head or MultiHead edit, on E and on the edited E."""


@prop("causality.head_future_independent", needs=("attention_head",),
      statement="changing E's columns after i leaves attention_head's ΔE[:, :i+1] exactly unchanged",
      strategy=lambda: future_edits(heads(min_ctx=2), lambda h: h.E), requires=(NEEDS_TWO_TOKENS,),
      scale=HEAD_EDIT_SCORES)
def head_future_independent(impl: Any, edit: FutureEdit) -> None:
    attention_unchanged_up_to_i(impl, "attention_head", edit)


@prop("causality.mha_future_independent", needs=("multi_head_attention",),
      statement="changing E's columns after i leaves multi_head_attention's ΔE[:, :i+1] exactly unchanged",
      strategy=lambda: future_edits(multi_heads(min_ctx=2), lambda h: h.E), requires=(NEEDS_TWO_TOKENS,),
      scale=HEAD_EDIT_SCORES)
def mha_future_independent(impl: Any, edit: FutureEdit) -> None:
    attention_unchanged_up_to_i(impl, "multi_head_attention", edit)


@dataclasses.dataclass(frozen=True)
class BlockInput:
    """E and one block's weights, drawn from ``recipe``."""

    E: np.ndarray
    weights: BlockWeights
    recipe: Recipe

    @property
    def magnitude(self) -> float:
        return self.recipe.magnitude

    def __repr__(self) -> str:
        return f"BlockInput(E={self.E!r}, weights: {self.recipe})"


@st.composite
def block_inputs(draw: st.DrawFn) -> BlockInput:
    c = draw(configs(min_ctx=2, uses=config_fields(BlockWeights)))
    dt = draw(dtypes())
    r = draw(recipes())
    ctx = draw(integers(2, c.n_ctx))
    return BlockInput(draw(arrays(dt, (c.d_model, ctx), r.magnitude)), r.build(BlockWeights, c, dt), r)


def _block_size(E: np.ndarray, w: BlockWeights) -> float:
    """|scores| of a block's heads: on LN₁(E), computed with the reference's layer norm."""
    with np.errstate(all="ignore"):
        return head_scores_size(reference.layer_norm(E, w.ln1_gain, w.ln1_bias), w.W_Q, w.W_K)


def _block_at(w: BlockWeights, c: float) -> BlockWeights:
    return with_rows(w, c, "W_Q", "W_K")


_BLOCK_EDIT_SCORES = _edit_scale(lambda b, E: _block_size(E, b.weights), lambda b: b.E,
                                lambda b, c: dataclasses.replace(b, weights=_block_at(b.weights, c)))


def _model_size(tokens: np.ndarray, w: Weights) -> float:
    """|scores| of every head of every layer, the layers' inputs computed with the reference."""
    with np.errstate(all="ignore"):
        E = reference.embed(tokens, w.W_E) + w.W_pos[:, : tokens.shape[0]]
        size = 0.0
        for layer in w.blocks:
            size = max(size, _block_size(E, layer))
            E = reference.block(E, layer)
    return size


def _model_at(m: Model, c: float) -> Model:
    weights = dataclasses.replace(m.weights, blocks=tuple(_block_at(b, c) for b in m.weights.blocks))
    return dataclasses.replace(m, weights=weights)


_MODEL_EDIT_SCORES = _edit_scale(lambda m, tokens: _model_size(tokens, m.weights), lambda m: m.tokens, _model_at)


@prop("causality.block_future_independent", needs=("block",),
      statement="changing E's columns after i leaves block(E)[:, :i+1] exactly unchanged",
      strategy=lambda: future_edits(block_inputs(), lambda b: b.E), requires=(NEEDS_TWO_TOKENS,),
      scale=_BLOCK_EDIT_SCORES)
def block_future_independent(impl: Any, edit: FutureEdit) -> None:
    b: BlockInput = edit.case
    made = calls(impl, ("block", (b.E, b.weights)), ("block", (edit.edit(b.E), b.weights)))
    unchanged_up_to_i("block(E)", made[0], made[1], edit, b.E.shape)


@prop("causality.forward_future_independent", needs=("forward",),
      statement="changing the tokens after i leaves forward(tokens)[:, :i+1] exactly unchanged",
      strategy=lambda: future_edits(models(min_ctx=2), lambda m: m.tokens), requires=(NEEDS_TWO_TOKENS,),
      scale=_MODEL_EDIT_SCORES)
def forward_future_independent(impl: Any, edit: FutureEdit) -> None:
    m: Model = edit.case
    shape = (m.config.vocab, m.tokens.shape[0])
    made = calls(impl, ("forward", (m.tokens, m.weights)), ("forward", (edit.edit(m.tokens), m.weights)))
    unchanged_up_to_i("forward logits", made[0], made[1], edit, shape)


@prop("causality.next_token_sees_only_prefix", needs=("forward", "next_token_probs"),
      statement="next_token_probs(tokens[:i+1]) = softmax(forward(tokens)[:, i]) for every i",
      strategy=model_prefixes, requires=(NEEDS_FLOAT64, NEEDS_TWO_TOKENS))
def next_token_sees_only_prefix(impl: Any, example: tuple[Model, int]) -> None:
    m, p = example
    made = calls(impl, ("forward", (m.tokens, m.weights)), ("next_token_probs", (m.tokens[:p], m.weights, 1.0)))
    logits = expect.shape("forward(tokens)", made[0], (m.config.vocab, m.tokens.shape[0]))
    want = plain_softmax(logits[:, p - 1])
    got = made[1]
    expect.close(f"next_token_probs(tokens[:{p}])", got, want, 2 * model_tolerance(m, logits),
                 note=f"compared with softmax(forward(tokens)[:, {p - 1}]) over all {m.tokens.shape[0]} tokens")


@prop("causality.prefix_same_columns", needs=("attention_head",),
      statement="attention_head(E[:, :p]) = attention_head(E)[:, :p] for every prefix length p",
      strategy=lambda: st.tuples(heads(min_ctx=2), st.integers(1, 4)), requires=(NEEDS_TWO_TOKENS,),
      scale=Scale("|scores|", lambda e: head_scores_size(e[0].E, e[0].W_Q, e[0].W_K),
                  lambda e, v: (with_rows(e[0], _factor(head_scores_size(e[0].E, e[0].W_Q, e[0].W_K), v), "W_Q", "W_K"),
                                e[1]),
                  high=SCORES_MAX, cause=mask_cause))
def prefix_same_columns(impl: Any, example: tuple[Head, int]) -> None:
    h, p = example
    p = min(p, h.E.shape[1] - 1)
    rest = h.args[1:]
    made = calls(impl, ("attention_head", (h.E, *rest, True)), ("attention_head", (h.E[:, :p], *rest, True)))
    whole = expect.shape("attention_head(E)", made[0], h.E.shape)
    part = made[1]
    expect.close(f"attention_head(E[:, :{p}])", part, whole[:, :p], head_tolerance(h.E, h.E, *rest),
                 note=f"compared with the first {p} columns of attention_head(E) over all {h.E.shape[1]}")


@dataclasses.dataclass(frozen=True)
class Cross:
    """Cross-attention inputs: queries from E_q, keys and values from E_kv, and a permutation of E_kv's columns."""

    E_q: np.ndarray
    E_kv: np.ndarray
    W_Q: np.ndarray
    W_K: np.ndarray
    W_V_down: np.ndarray
    W_V_up: np.ndarray
    permutation: tuple[int, ...]


@st.composite
def crosses(draw: st.DrawFn) -> Cross:
    h = draw(heads())
    ctx_k = draw(integers(1, ctx_limit(5)))
    E_kv = draw(arrays(h.E.dtype, (h.E.shape[0], ctx_k), h.magnitude))
    return Cross(h.E, E_kv, h.W_Q, h.W_K, h.W_V_down, h.W_V_up, tuple(draw(permutations(ctx_k))))


@prop("causality.cross_attention_unmasked", needs=("cross_attention_head", "attention_head"),
      statement="cross_attention_head(E, E) = attention_head(E, causal=False): no mask",
      strategy=crosses, requires=(NEEDS_NON_CAUSAL,))
def cross_attention_unmasked(impl: Any, c: Cross) -> None:
    weights = (c.W_Q, c.W_K, c.W_V_down, c.W_V_up)
    made = calls(impl, ("attention_head", (c.E_kv, *weights, False)), ("cross_attention_head", (c.E_kv, c.E_kv, *weights)))
    want = expect.shape("attention_head(E, causal=False)", made[0], c.E_kv.shape)
    expect.close("cross_attention_head(E, E)", made[1], want,
                 head_tolerance(c.E_kv, c.E_kv, *weights), note="compared with attention_head(E, causal=False)")


@prop("causality.cross_attention_key_permutation", needs=("cross_attention_head",),
      statement="permuting E_kv's columns (keys and values together) leaves cross_attention_head unchanged",
      strategy=crosses)
def cross_attention_key_permutation(impl: Any, c: Cross) -> None:
    weights = (c.W_Q, c.W_K, c.W_V_down, c.W_V_up)
    shuffled = c.E_kv[:, list(c.permutation)]
    made = calls(impl, ("cross_attention_head", (c.E_q, c.E_kv, *weights)), ("cross_attention_head", (c.E_q, shuffled, *weights)))
    want = expect.shape("cross_attention_head(E_q, E_kv)", made[0], c.E_q.shape)
    expect.close(f"cross_attention_head(E_q, E_kv[:, {list(c.permutation)}])", made[1], want,
                 head_tolerance(c.E_q, c.E_kv, *weights), note="compared with the keys in their original order")

