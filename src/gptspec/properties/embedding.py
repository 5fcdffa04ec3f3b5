"""Embedding and prediction: tokens to columns and back, and what the next token depends on.

embed(tokens, W_E) = W_E · onehot(tokens) (column i is column tokens[i] of W_E, ids in [0, vocab)
or an error); unembed(E, W_U) = W_U E is linear; the next-token distribution is the softmax of the
last column of the logits; and a direction A − a ranks A above a: (A − a)·A − (A − a)·a = |A − a|² ≥ 0.

``embedding.invalid_tokens_rejected`` checks the spec's input contract (an id outside [0, vocab)
is an error, never a wrap-around) and is tagged ``contract`` with the temperature refusals.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from hypothesis import strategies as st

from . import expect
from .coded import integers, sampled
from .common import calls, model_prefixes, model_tolerance, plain_softmax
from .domain import NEEDS_FLOAT64, NEEDS_TWO_TOKENS
from .registry import CONTRACT, prop
from .strategies import Model, arrays, configs, dtypes, magnitudes, tokens
from .tolerance import tolerance


@dataclasses.dataclass(frozen=True)
class Lookup:
    """Token ids and an embedding matrix W_E [d_model vocab] (or W_U [vocab d_model])."""

    tokens: np.ndarray
    W: np.ndarray


@st.composite
def lookups(draw: st.DrawFn, *, transpose: bool = False) -> Lookup:
    c = draw(configs(uses=("vocab", "d_model")))
    shape = (c.vocab, c.d_model) if transpose else (c.d_model, c.vocab)
    W = draw(arrays(draw(dtypes()), shape, draw(magnitudes())))
    return Lookup(draw(tokens(c.vocab, draw(integers(1, c.n_ctx)))), W)


def onehot(ids: np.ndarray, vocab: int) -> np.ndarray:
    """[vocab ctx]: column i is 1 at row ids[i]."""
    return (np.arange(vocab)[:, None] == ids[None, :]).astype(np.float64)


@prop("embedding.embed_is_onehot_product", needs=("embed",),
      statement="embed(tokens, W_E) = W_E · onehot(tokens): column i is column tokens[i] of W_E",
      strategy=lambda: lookups())
def embed_is_onehot_product(impl: Any, case: Lookup) -> None:
    W_E = case.W
    want = (W_E.astype(np.float64) @ onehot(case.tokens, W_E.shape[1])).astype(W_E.dtype)
    expect.equal(f"embed(tokens={case.tokens.tolist()}, W_E {W_E.shape})", impl.embed(case.tokens, W_E), want)


@dataclasses.dataclass(frozen=True)
class Pair:
    """Two embeddings E1, E2 [d_model ctx], coefficients a, b and W_U [vocab d_model]."""

    E1: np.ndarray
    E2: np.ndarray
    a: float
    b: float
    W_U: np.ndarray


@st.composite
def pairs(draw: st.DrawFn) -> Pair:
    c = draw(configs(uses=("vocab", "d_model")))
    dt, m = draw(dtypes()), draw(magnitudes())
    ctx = draw(integers(1, c.n_ctx))
    E1, E2 = (draw(arrays(dt, (c.d_model, ctx), m)) for _ in range(2))
    a, b = (float(draw(integers(-3, 3))) for _ in range(2))
    return Pair(E1, E2, a, b, draw(arrays(dt, (c.vocab, c.d_model), m)))


@prop("embedding.unembed_linear", needs=("unembed",),
      statement="unembed(a E1 + b E2) = a unembed(E1) + b unembed(E2)", strategy=pairs)
def unembed_linear(impl: Any, p: Pair) -> None:
    dt = p.E1.dtype
    mixed = (dt.type(p.a) * p.E1 + dt.type(p.b) * p.E2).astype(dt)
    made = calls(impl, ("unembed", (p.E1, p.W_U)), ("unembed", (p.E2, p.W_U)), ("unembed", (mixed, p.W_U)))
    want = p.a * np.asarray(made[0], np.float64) + p.b * np.asarray(made[1], np.float64)
    scale = np.abs(p.W_U.astype(np.float64)) @ (abs(p.a) * np.abs(p.E1) + abs(p.b) * np.abs(p.E2))
    expect.close(f"unembed({p.a:g} E1 + {p.b:g} E2) with W_U {p.W_U.shape}", made[2], want,
                 4 * tolerance(dt).of(scale), note=f"compared with {p.a:g} unembed(E1) + {p.b:g} unembed(E2)")


@st.composite
def tempered_models(draw: st.DrawFn) -> tuple[Model, float]:
    m, _ = draw(model_prefixes())
    return m, draw(sampled((1.0, 0.5, 2.0)))


@prop("embedding.next_token_last_column", needs=("forward", "next_token_probs"),
      statement="next_token_probs(tokens, T) = softmax(forward(tokens)[:, −1] / T): the last column only",
      strategy=tempered_models, requires=(NEEDS_FLOAT64, NEEDS_TWO_TOKENS))
def next_token_last_column(impl: Any, example: tuple[Model, float]) -> None:
    m, T = example
    ctx = m.tokens.shape[0]
    made = calls(impl, ("forward", (m.tokens, m.weights)), ("next_token_probs", (m.tokens, m.weights, T)))
    logits = expect.shape("forward(tokens)", made[0], (m.config.vocab, ctx))
    want = plain_softmax(logits[:, -1], T)
    expect.close(f"next_token_probs({ctx} tokens, T={T:g})", made[1], want,
                 2 * model_tolerance(m, logits) / T, note=f"compared with softmax(forward(tokens)[:, {ctx - 1}] / T)")


@st.composite
def two_ids(draw: st.DrawFn) -> tuple[Lookup, int, int]:
    case = draw(lookups())
    vocab = case.W.shape[1]
    return case, draw(integers(0, vocab - 1)), draw(integers(0, vocab - 1))


@prop("embedding.plural_direction", needs=("embed", "unembed"),
      statement="with W_U = (A − a)ᵀ for embeddings a, A: its logit for A >= its logit for a",
      strategy=two_ids)
def plural_direction(impl: Any, example: tuple[Lookup, int, int]) -> None:
    case, i, j = example
    E = np.asarray(impl.embed(np.array([i, j]), case.W))
    a, A = E[:, 0].astype(np.float64), E[:, 1].astype(np.float64)
    direction = (A - a).astype(case.W.dtype)[None, :]
    logits = expect.shape("unembed([a A], (A − a)ᵀ)", impl.unembed(E, direction), (1, 2))[0].astype(np.float64)
    slack = 4 * float(tolerance(case.W.dtype).of(np.abs(A - a) @ (np.abs(A) + np.abs(a))))
    if not logits[1] >= logits[0] - slack:
        raise expect.fail(
            f"unembed([a A], W_U = (A − a)ᵀ) for tokens a = {i}, A = {j}: expected (A − a)·A >= (A − a)·a "
            f"(they differ by |A − a|² = {expect.fmt(np.dot(A - a, A - a))}), got {expect.fmt(logits[1])} "
            f"< {expect.fmt(logits[0])}"
        )


@st.composite
def bad_tokens(draw: st.DrawFn) -> tuple[Lookup, int, int]:
    case = draw(lookups())
    vocab = case.W.shape[1]
    return case, draw(integers(0, case.tokens.shape[0] - 1)), draw(sampled((-1, vocab)))


@prop("embedding.invalid_tokens_rejected", needs=("embed",),
      statement="embed refuses a token id of −1 or vocab (raises; a returned value is a failure)",
      strategy=bad_tokens, tags=(CONTRACT,))
def invalid_tokens_rejected(impl: Any, example: tuple[Lookup, int, int]) -> None:
    case, position, bad = example
    ids = case.tokens.copy()
    ids[position] = bad
    expect.rejects(f"embed(tokens with id {bad} at position {position}, W_E with vocab = {case.W.shape[1]})",
                   lambda: impl.embed(ids, case.W))
