"""The shape flow of one block, as data derived from the spec's own types.

One pre-layer-norm block takes the residual stream E through attention and the MLP:

    E → LN₁ → Q_h, K_h → scores → masked → A_h → W_V_down[h] X A_h → concat → W_O → +E
      → LN₂ → W_up → GELU → W_down → +E

Nothing here retypes a shape. Every operand is a jaxtyping type of the spec — a field of
:class:`~gptspec.spec.weights.BlockWeights` or a parameter or result of a function in
:mod:`gptspec.spec.signatures` — and each step's dims are computed from its operands by a small
symbolic algebra (matrix product, head slice, head concatenation, elementwise and bias
broadcasting) that checks inner dims as it goes. Where the spec names the result (Queries,
Pattern, DeltaE, ...), the derived dims must agree with that alias, so the flow cannot drift from
the signatures. ``signature_text`` renders a spec function's annotations as the dims they mean.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
from jaxtyping import Float

from . import hints
from . import signatures as S
from . import types as T
from .config import Config
from .errors import ShapeError
from .weights import BlockWeights

__all__ = ["Step", "block_flow", "step_shape", "signature_text", "alias_name"]

Dims = tuple[str, ...]

SELF_ATTENTION = {"ctx_q": "ctx", "ctx_k": "ctx"}
"""In self-attention queries and keys cover the same positions: ctx_q = ctx_k = ctx."""


@dataclasses.dataclass(frozen=True)
class Step:
    """One step of the flow: what it is called, how it is computed, and the dims it has."""

    name: str
    formula: str
    dims: str  # space-separated symbolic dims, as jaxtyping writes them ("d_head ctx")
    alias: str | None  # the gptspec.spec.types alias with these dims, if the spec names one
    per_head: bool = False  # computed once per head (n_heads times per block)

    @property
    def hint(self) -> Any:
        """The step's jaxtyping type: the spec's alias, or Float[ndarray, dims] if it has none."""
        return getattr(T, self.alias) if self.alias else Float[np.ndarray, self.dims]


def step_shape(step: Step, config: Config, ctx: int | None = None) -> tuple[int, ...]:
    """The step's shape with the config's sizes (ctx, ctx_q, ctx_k = ``ctx`` or n_ctx)."""
    return hints.shape_for(step.hint, config, ctx)


# ---------------------------------------------------------------------------------------------
# The symbolic algebra: dims of a result from the dims of its operands


def dims_of(hint: Any) -> Dims:
    return hints.dims(hint)


def _same(a: str, b: str) -> bool:
    return SELF_ATTENTION.get(a, a) == SELF_ATTENTION.get(b, b)


def _show(d: Dims) -> str:
    return "[" + " ".join(d) + "]"


def matmul(step: str, a: Dims, b: Dims) -> Dims:
    """[m n] · [n p] → [m p]; the inner dims must be the same symbol."""
    if len(a) != 2 or len(b) != 2 or not _same(a[1], b[0]):
        raise ShapeError(f"flow step {step}: cannot multiply {_show(a)} by {_show(b)}")
    return (a[0], b[1])


def transpose(d: Dims) -> Dims:
    return d[::-1]


def head_slice(step: str, stacked: Dims) -> Dims:
    """[n_heads ...] → [...]: one head's slice of a stacked weight."""
    if stacked[:1] != ("n_heads",):
        raise ShapeError(f"flow step {step}: {_show(stacked)} is not stacked over n_heads")
    return stacked[1:]


def concat_heads(per_head: Dims) -> Dims:
    """n_heads blocks of [d ctx] stacked on the rows → [n_heads*d ctx]."""
    return (f"n_heads*{per_head[0]}",) + per_head[1:]


def elementwise(step: str, a: Dims, b: Dims) -> Dims:
    """a ⊙ b (or a + b, or where(b, a, −∞)): both must have the same dims."""
    if len(a) != len(b) or not all(_same(x, y) for x, y in zip(a, b)):
        raise ShapeError(f"flow step {step}: {_show(a)} and {_show(b)} differ")
    return a


def add_bias(step: str, a: Dims, bias: Dims) -> Dims:
    """[m ctx] + [m] broadcast to every column."""
    if len(bias) != 1 or not _same(a[0], bias[0]):
        raise ShapeError(f"flow step {step}: bias {_show(bias)} does not match the rows of {_show(a)}")
    return a


def layer_normed(step: str, a: Dims, gain: Dims, bias: Dims) -> Dims:
    """(a − mean) / std per column, · gain + bias: gain and bias run along the rows."""
    return add_bias(step, add_bias(step, a, gain), bias)


def named(step: str, derived: Dims, alias: Any) -> Dims:
    """The alias's dims, after checking that the derivation agrees with them."""
    expected = dims_of(alias)
    elementwise(f"{step} (spec type {alias_name(alias)})", derived, expected)
    return expected


def alias_name(hint: Any) -> str:
    """The name under which ``hint`` is published in gptspec.spec.types."""
    for name in T.__all__:
        if getattr(T, name) is hint:
            return name
    raise ShapeError(f"{hint!r} is not a type of gptspec.spec.types")


# ---------------------------------------------------------------------------------------------
# The flow of one block


LN = "(column − mean) / std, then · gain + bias"


@functools.lru_cache(maxsize=1)
def block_flow() -> tuple[Step, ...]:
    """Every step of one block, in order, with dims derived from the spec's types."""
    w = {f.name: dims_of(f.hint) for f in hints.fields(BlockWeights)}
    ln, pattern, mha, mlp, block = (
        hints.Plan.of(f) for f in (S.layer_norm, S.attention_pattern, S.multi_head_attention, S.mlp, S.block)
    )
    steps: list[Step] = []

    def add(name: str, formula: str, dims: Dims, alias: Any = None, per_head: bool = False) -> Dims:
        if alias is not None:
            dims = named(name, dims, alias)
        steps.append(Step(name, formula, " ".join(dims), alias_name(alias) if alias is not None else None, per_head))
        return dims

    E = add("E", "residual stream in: one column per token", dims_of(block.hint("E")), block.hint("E"))
    X = add("LN₁(E)", LN, layer_normed("LN₁", E, w["ln1_gain"], w["ln1_bias"]), ln.result)
    Q = add("Q_h", "W_Q[h] · LN₁(E)", matmul("Q_h", head_slice("Q_h", w["W_Q"]), X), T.Queries, True)
    K = add("K_h", "W_K[h] · LN₁(E)", matmul("K_h", head_slice("K_h", w["W_K"]), X), T.Keys, True)
    elementwise("Q_h", Q, dims_of(pattern.hint("Q")))  # attention_pattern takes exactly these
    elementwise("K_h", K, dims_of(pattern.hint("K")))
    scores = add("scores_h", "K_hᵀ Q_h / √d_head  (keys down, queries across)",
                 matmul("scores_h", transpose(dims_of(pattern.hint("K"))), dims_of(pattern.hint("Q"))), T.Scores, True)
    masked = add("masked_h", "scores_h where key ≤ query, −∞ in the lower-left",
                 elementwise("masked_h", scores, dims_of(T.Mask)), None, True)
    A = add("A_h", "softmax down each column of masked_h", masked, pattern.result, True)
    head = add("W_V_down[h] X A_h", "value-down of each column, mixed by the pattern",
               matmul("head_h", matmul("head_h", head_slice("head_h", w["W_V_down"]), X), A), None, True)
    concat = add("concat_h", "the n_heads head outputs stacked on the rows", concat_heads(head))
    delta = add("ΔE_attn", "W_O · concat_h  (block h of W_O = W_V_up[h])",
                matmul("ΔE_attn", w["W_O"], concat), mha.result)
    E = add("E + ΔE_attn", "residual add", elementwise("+residual", E, delta), T.Embeddings)
    X = add("LN₂(E)", LN, layer_normed("LN₂", E, w["ln2_gain"], w["ln2_bias"]), ln.result)
    up = add("W_up X + b_up", "up-projection into the MLP's hidden space",
             add_bias("W_up", matmul("W_up", w["W_up"], X), w["b_up"]))
    hidden = add("GELU", "GELU (tanh form) of every entry", up)
    delta = add("ΔE_mlp", "W_down · GELU + b_down",
                add_bias("W_down", matmul("W_down", w["W_down"], hidden), w["b_down"]), mlp.result)
    add("E + ΔE_mlp", "residual add: the block's output", elementwise("+residual", E, delta), block.result)
    return tuple(steps)


# ---------------------------------------------------------------------------------------------
# Signatures as the dims they mean


def signature_text(fn: Callable[..., Any], width: int = 96) -> str:
    """``embed(tokens: Int[ctx], W_E: Float[d_model vocab]) -> Float[d_model ctx]``.

    The signature of a spec function with each jaxtyping annotation shown as dtype[dims]; one
    parameter per line when the one-line form is wider than ``width``.
    """
    plan = hints.Plan.of(fn)
    params = []
    for name, hint, default in zip(plan.names, plan.hints, plan.defaults):
        shown = "" if default is inspect.Parameter.empty else f" = {default!r}"
        params.append(f"{name}: {hints.show(hint)}{shown}")
    result = hints.show(plan.result)
    line = f"{fn.__name__}({', '.join(params)}) -> {result}"
    if len(line) <= width:
        return line
    body = "".join(f"    {p},\n" for p in params)
    return f"{fn.__name__}(\n{body}) -> {result}"
