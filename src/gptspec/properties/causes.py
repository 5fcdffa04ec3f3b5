"""Known mistakes, as data: each one a small change to the reference :mod:`gptspec.impl`.

A :class:`Cause` names a mistake people make when they write the spec's functions (a scale of
1/d_head where the spec says 1/√d_head, queries and keys swapped, the mask on the wrong
triangle, ...), says it in the user's terms, lists the spec functions it shows in, and builds
the changed reference: :func:`changed` copies every function of :mod:`gptspec.impl` (unchecked)
into one namespace and swaps in the cause's replacements (:func:`derive`), so a change planted
low (the causal mask, GELU, the pattern's softmax) reaches every function that calls it, as it
would in a user's code. A numeric cause (a finite mask constant, layer norm's ε) has a
:class:`Fit`: the range its magnitude is searched in, on a log scale, against a counterexample.

The verifier's diagnosis (:mod:`gptspec.verification.diagnosis`) tests the changed references
against a failing target; the property tests' planted bugs (tests/properties/mutants.py) are
built with the same :func:`derive`, and where a planted bug is one of these causes, from it.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import sys
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from ..spec import SIGNATURES

__all__ = ["Fit", "Cause", "CAUSES", "cause", "reference_namespace", "derive", "changed", "IMPL_MODULES"]

IMPL_MODULES = ("softmax", "attention", "multihead", "embedding", "mlp", "model", "sampling", "cache")

Namespace = dict[str, Any]
Change = Callable[[Namespace, str, float], dict[str, Callable[..., Any]]]
"""(the reference's namespace, the spec function diagnosed, the fitted value or nan) -> replacements."""


def reference_namespace() -> Namespace:
    """One globals dict holding every impl module's names, with unchecked copies of its functions."""
    from .. import impl  # noqa: F401  (imports the modules read below)

    modules = [sys.modules[f"gptspec.impl.{m}"] for m in IMPL_MODULES]
    g: Namespace = {}
    for module in modules:
        g.update(vars(module))
    for module in modules:
        for name, fn in vars(module).items():
            if inspect.isfunction(fn) and fn.__module__ == module.__name__:
                inner = inspect.unwrap(fn)
                g[name] = types.FunctionType(inner.__code__, g, inner.__name__, inner.__defaults__, inner.__closure__)
    return g


def derive(name: str, **replacements: Callable[..., Any]) -> types.SimpleNamespace:
    """The reference with ``replacements``; everything that calls a replaced function calls the change."""
    g = reference_namespace()
    g.update(replacements)
    return types.SimpleNamespace(__name__=name, **{fn: g[fn] for fn in SIGNATURES})


@dataclasses.dataclass(frozen=True)
class Fit:
    """A numeric cause's magnitude p, searched on a log scale in [low, high]."""

    low: float
    high: float
    sign: float = 1.0  # the value named is sign · p (a mask constant is negative)
    what: str = "value"


@dataclasses.dataclass(frozen=True)
class Cause:
    """One known mistake: ``sentence`` says it in the user's terms (``{value}`` is the fitted
    number), ``functions`` are the spec functions it shows in, ``change`` builds the replacements."""

    name: str
    sentence: str
    functions: tuple[str, ...]
    change: Change
    fit: Fit | None = None

    def text(self, value: float | None = None) -> str:
        return self.sentence.format(value=f"{value:.3g}" if value is not None else "?")


def changed(c: Cause, function: str, value: float | None = None) -> types.SimpleNamespace:
    """The reference with cause ``c`` (fitted to ``value``), as diagnosed on ``function``."""
    g = reference_namespace()
    g.update(c.change(g, function, math.nan if value is None else value))
    return types.SimpleNamespace(__name__=c.name, **{fn: g[fn] for fn in SIGNATURES})


# ---------------------------------------------------------------------------------------------
# The functions each part of the reference shows in

PATTERN = ("attention_pattern", "attention_head", "cross_attention_head", "multi_head_attention", "block", "forward",
           "next_token_probs")
HEADS = PATTERN[1:]
SELF = ("attention_head", "multi_head_attention", "block", "forward", "next_token_probs")
MHA = ("multi_head_attention", "block", "forward", "next_token_probs")
CAUSAL = ("causal_mask", "attention_pattern", *SELF)
SOFTMAX = ("softmax", *PATTERN)
LAYER_NORM = ("layer_norm", "block", "forward", "next_token_probs")
BLOCK = ("block", "forward", "next_token_probs")
MODEL = ("forward", "next_token_probs")
MLP = ("mlp", "block", "forward", "next_token_probs")

REGISTRY: dict[str, Cause] = {}


def cause(name: str, sentence: str, functions: tuple[str, ...], fit: Fit | None = None) -> Callable[[Change], Cause]:
    """Register ``change`` as the cause ``name`` (one object, registered once)."""

    def register(change: Change) -> Cause:
        if name in REGISTRY:
            raise ValueError(f"cause {name!r} is registered twice")
        REGISTRY[name] = c = Cause(name, sentence, functions, change, fit)
        return c

    return register


# ---------------------------------------------------------------------------------------------
# The scale of the scores


def _scaled(factor: Callable[[int, int], float], pattern_too: bool = True) -> Change:
    """Scores scaled by factor(d_head, d_model) instead of 1/√d_head: Q (or W_Q) multiplied by
    factor · √d_head before the reference's own 1/√d_head."""

    def change(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
        pattern, head, cross, mha = (g[n] for n in ("attention_pattern", "attention_head", "cross_attention_head",
                                                    "multi_head_attention"))

        def k(W_Q: np.ndarray) -> float:
            return factor(W_Q.shape[-2], W_Q.shape[-1]) * math.sqrt(W_Q.shape[-2])

        def attention_head(E, W_Q, W_K, W_V_down, W_V_up, causal=True):
            return head(E, W_Q * k(W_Q), W_K, W_V_down, W_V_up, causal)

        def cross_attention_head(E_q, E_kv, W_Q, W_K, W_V_down, W_V_up):
            return cross(E_q, E_kv, W_Q * k(W_Q), W_K, W_V_down, W_V_up)

        def multi_head_attention(E, W_Q, W_K, W_V_down, W_O, causal=True):
            return mha(E, W_Q * k(W_Q), W_K, W_V_down, W_O, causal)

        new: dict[str, Callable[..., Any]] = {"attention_head": attention_head,
                                              "cross_attention_head": cross_attention_head,
                                              "multi_head_attention": multi_head_attention}
        if pattern_too:  # the pattern knows d_head, not d_model

            def attention_pattern(Q, K, causal=True):
                return pattern(Q * (factor(Q.shape[0], 0) * math.sqrt(Q.shape[0])), K, causal)

            new["attention_pattern"] = attention_pattern
        return new

    return change


SCALE_1_D_HEAD = cause("scale-1/d_head", "the scores are scaled by 1/d_head, not 1/√d_head", PATTERN)(
    _scaled(lambda d_head, d_model: 1 / d_head))
SCALE_NONE = cause("scale-none", "the scores are not scaled: KᵀQ without the 1/√d_head", PATTERN)(
    _scaled(lambda d_head, d_model: 1.0))
SCALE_1_SQRT_D_MODEL = cause("scale-1/sqrt(d_model)", "the scores are scaled by 1/√d_model, not 1/√d_head", HEADS)(
    _scaled(lambda d_head, d_model: 1 / math.sqrt(d_model), pattern_too=False))


@cause("scale-1/sqrt(ctx)", "the scores are scaled by 1/√ctx (the number of queries: a size(-2) for a size(-1)), "
       "not 1/√d_head", PATTERN)
def _scale_by_length(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    pattern, head, cross, mha = (g[n] for n in ("attention_pattern", "attention_head", "cross_attention_head",
                                                "multi_head_attention"))

    def k(d_head: int, ctx_q: int) -> float:
        return math.sqrt(d_head) / math.sqrt(ctx_q)

    def attention_pattern(Q, K, causal=True):
        return pattern(Q * k(Q.shape[0], Q.shape[1]), K, causal)

    def attention_head(E, W_Q, W_K, W_V_down, W_V_up, causal=True):
        return head(E, W_Q * k(W_Q.shape[0], E.shape[1]), W_K, W_V_down, W_V_up, causal)

    def cross_attention_head(E_q, E_kv, W_Q, W_K, W_V_down, W_V_up):
        return cross(E_q, E_kv, W_Q * k(W_Q.shape[0], E_q.shape[1]), W_K, W_V_down, W_V_up)

    def multi_head_attention(E, W_Q, W_K, W_V_down, W_O, causal=True):
        return mha(E, W_Q * k(W_Q.shape[1], E.shape[1]), W_K, W_V_down, W_O, causal)

    return {"attention_pattern": attention_pattern, "attention_head": attention_head,
            "cross_attention_head": cross_attention_head, "multi_head_attention": multi_head_attention}


# ---------------------------------------------------------------------------------------------
# Which projection is which


def _projections(order: tuple[int, int, int]) -> Change:
    """W_Q, W_K, W_V_down read as the ``order`` of the three: (1, 0, 2) takes W_K for queries."""

    def change(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
        pattern, head, mha = g["attention_pattern"], g["attention_head"], g["multi_head_attention"]

        def attention_head(E, W_Q, W_K, W_V_down, W_V_up, causal=True):
            W = (W_Q, W_K, W_V_down)
            return head(E, *(W[i] for i in order), W_V_up, causal)

        def multi_head_attention(E, W_Q, W_K, W_V_down, W_O, causal=True):
            W = (W_Q, W_K, W_V_down)
            return mha(E, *(W[i] for i in order), W_O, causal)

        new: dict[str, Callable[..., Any]] = {"attention_head": attention_head,
                                              "multi_head_attention": multi_head_attention}
        if order[:2] == (1, 0):

            def attention_pattern(Q, K, causal=True):
                return pattern(K, Q, causal)

            new["attention_pattern"] = attention_pattern
        return new

    return change


Q_K_SWAPPED = cause("q-k-swapped", "queries and keys are swapped: the keys are computed with W_Q and the queries "
                    "with W_K (a fused projection split as k, q, v)", ("attention_pattern", *SELF))(
    _projections((1, 0, 2)))
SPLIT_Q_V_K = cause("split-q,v,k", "the fused projection is split as q, v, k, not q, k, v: the keys come from "
                    "W_V_down and the values from W_K", SELF)(_projections((0, 2, 1)))
SPLIT_K_V_Q = cause("split-k,v,q", "the fused projection is split as k, v, q, not q, k, v", SELF)(
    _projections((1, 2, 0)))
SPLIT_V_Q_K = cause("split-v,q,k", "the fused projection is split as v, q, k, not q, k, v", SELF)(
    _projections((2, 0, 1)))
SPLIT_V_K_Q = cause("split-v,k,q", "the fused projection is split as v, k, q, not q, k, v: queries and values are "
                    "swapped", SELF)(_projections((2, 1, 0)))


# ---------------------------------------------------------------------------------------------
# How the heads are merged


def _heads_read(read: Callable[[np.ndarray, int, int], np.ndarray]) -> Change:
    """Multi-head attention whose concatenated heads meet W_O's columns as ``read(W_O, n_heads, d_head)``."""

    def change(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
        mha = g["multi_head_attention"]

        def multi_head_attention(E, W_Q, W_K, W_V_down, W_O, causal=True):
            n_heads, d_head, _ = W_Q.shape
            return mha(E, W_Q, W_K, W_V_down, read(W_O, n_heads, d_head), causal)

        return {"multi_head_attention": multi_head_attention}

    return change


def _interleaved(W_O: np.ndarray, n_heads: int, d_head: int) -> np.ndarray:
    return W_O.reshape(-1, d_head, n_heads).transpose(0, 2, 1).reshape(W_O.shape)


def _reversed(W_O: np.ndarray, n_heads: int, d_head: int) -> np.ndarray:
    return W_O.reshape(-1, n_heads, d_head)[:, ::-1].reshape(W_O.shape)


def _dropped(head: int) -> Callable[[np.ndarray, int, int], np.ndarray]:
    def read(W_O: np.ndarray, n_heads: int, d_head: int) -> np.ndarray:
        blocks = W_O.reshape(-1, n_heads, d_head).copy()
        blocks[:, head] = 0
        return blocks.reshape(W_O.shape)

    return read


HEADS_INTERLEAVED = cause("heads-interleaved", "the heads are merged interleaved (d_head-major, head index fastest), "
                          "not head after head", MHA)(_heads_read(_interleaved))
HEADS_REVERSED = cause("heads-reversed", "the heads are merged in reverse order", MHA)(_heads_read(_reversed))
HEAD_DROPPED_LAST = cause("head-dropped-last", "the last head is dropped (its output never reaches W_O)", MHA)(
    _heads_read(_dropped(-1)))
HEAD_DROPPED_FIRST = cause("head-dropped-first", "the first head is dropped (its output never reaches W_O)", MHA)(
    _heads_read(_dropped(0)))


@cause("heads-share-keys", "every head reads the first head's keys and values (a multi-query broadcast), not its own",
       MHA)
def _heads_share_keys(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    mha = g["multi_head_attention"]

    def multi_head_attention(E, W_Q, W_K, W_V_down, W_O, causal=True):
        first = np.broadcast_to(W_K[:1], W_K.shape), np.broadcast_to(W_V_down[:1], W_V_down.shape)
        return mha(E, W_Q, *first, W_O, causal)

    return {"multi_head_attention": multi_head_attention}


# ---------------------------------------------------------------------------------------------
# The mask


def _mask(allowed: Callable[[int], np.ndarray]) -> Change:
    def change(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
        def causal_mask(ctx):
            return allowed(ctx)

        return {"causal_mask": causal_mask}

    return change


MASK_WRONG_TRIANGLE = cause("mask-wrong-triangle", "the mask is on the wrong triangle: each query sees the keys after "
                            "it, not before it (mask[k, q] = k ≥ q)", CAUSAL)(
    _mask(lambda ctx: np.tri(ctx, dtype=bool)))
@cause("mask-hides-diagonal", "the mask is off by one: it also hides each query's own key (k < q, not k ≤ q), so "
       "the first query sees no key at all", CAUSAL)
def _mask_hides_diagonal(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    def causal_mask(ctx):
        return np.tri(ctx, k=-1, dtype=bool).T

    def masked_pattern(scores, causal, fn):
        if not causal:
            return g["softmax"](scores, 1.0, -2)
        masked = np.where(causal_mask(scores.shape[-1]), scores, -np.inf)
        with np.errstate(all="ignore"):  # a column with no key: 0 (a "safe" softmax, as torch's SDPA)
            z = np.exp(masked - np.max(np.where(np.isneginf(masked), 0, masked), axis=-2, keepdims=True))
            return np.nan_to_num(z / z.sum(axis=-2, keepdims=True), nan=0.0)

    return {"causal_mask": causal_mask, "masked_pattern": masked_pattern}
MASK_ONE_AHEAD = cause("mask-one-ahead", "the mask is off by one: each query also sees the next key "
                       "(k ≤ q + 1, not k ≤ q)", CAUSAL)(_mask(lambda ctx: np.tri(ctx, k=1, dtype=bool).T))


@cause("mask-missing", "the causal mask is missing: every query sees every key", CAUSAL[1:])
def _mask_missing(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    masked = g["masked_pattern"]

    def masked_pattern(scores, causal, fn):
        return masked(scores, False, fn)

    return {"masked_pattern": masked_pattern}


@cause("mask-constant", "the masked scores are set to a finite constant, {value}, not −∞", CAUSAL[1:],
       Fit(1e1, 1e38, -1.0, "mask constant"))
def _mask_constant(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    causal_mask, softmax = g["causal_mask"], g["softmax"]

    def masked_pattern(scores, causal, fn):
        if causal:
            scores = np.where(causal_mask(scores.shape[-1]), scores, scores.dtype.type(-p))
        return softmax(scores, 1.0, -2)

    return {"masked_pattern": masked_pattern}


# ---------------------------------------------------------------------------------------------
# The softmax


@cause("pattern-softmax-over-queries", "the pattern's softmax runs along each row (over queries), not down each "
       "column (over keys)", PATTERN)
def _pattern_over_queries(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    causal_mask, softmax = g["causal_mask"], g["softmax"]

    def masked_pattern(scores, causal, fn):
        if causal:  # each row k keeps its entry q = k: no row is all −∞
            scores = np.where(causal_mask(scores.shape[-1]), scores, -np.inf)
        return softmax(scores, 1.0, -1)

    return {"masked_pattern": masked_pattern}


@cause("softmax-axis-0", "softmax ignores its axis and normalises along axis 0", ("softmax",))
def _softmax_axis_zero(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    softmax = g["softmax"]

    def softmax_axis_zero(x, temperature=1.0, axis=-1):
        return softmax(x, temperature, 0)

    return {"softmax": softmax_axis_zero}


@cause("softmax-axis-last", "softmax ignores its axis and normalises along the last axis", ("softmax",))
def _softmax_axis_last(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    softmax = g["softmax"]

    def softmax_axis_last(x, temperature=1.0, axis=-1):
        return softmax(x, temperature, -1)

    return {"softmax": softmax_axis_last}


@cause("softmax-no-max-shift", "softmax does not subtract the maximum before exp: exp(x / T) overflows to inf "
       "(and inf / inf is NaN) for large x", SOFTMAX)
def _softmax_no_max_shift(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    def softmax(x, temperature=1.0, axis=-1):
        with np.errstate(all="ignore"):
            z = np.exp(x / x.dtype.type(temperature) if x.dtype.kind == "f" else x / temperature)
            return z / z.sum(axis=axis, keepdims=True)

    return {"softmax": softmax}


def _softmax_of(transform: Callable[[np.ndarray, float, int, Callable[..., np.ndarray]], np.ndarray]) -> Change:
    def change(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
        softmax = g["softmax"]

        def changed_softmax(x, temperature=1.0, axis=-1):
            with np.errstate(all="ignore"):
                return transform(x, temperature, axis, softmax)

        return {"softmax": changed_softmax}

    return change


def _times_T(x: np.ndarray, T: float, axis: int, softmax: Callable[..., np.ndarray]) -> np.ndarray:
    if T <= 0 or not math.isfinite(T):
        return softmax(x, T, axis)  # invalid T is still refused
    return softmax(x * x.dtype.type(T), 1.0, axis)


def _log(x: np.ndarray, T: float, axis: int, softmax: Callable[..., np.ndarray]) -> np.ndarray:
    return np.log(softmax(x, T, axis))


def _negated(x: np.ndarray, T: float, axis: int, softmax: Callable[..., np.ndarray]) -> np.ndarray:
    return softmax(-x, T, axis)


def _exp2(x: np.ndarray, T: float, axis: int, softmax: Callable[..., np.ndarray]) -> np.ndarray:
    return softmax(x * x.dtype.type(math.log(2)), T, axis)


def _plus_one(x: np.ndarray, T: float, axis: int, softmax: Callable[..., np.ndarray]) -> np.ndarray:
    top = np.maximum(np.max(x, axis=axis, keepdims=True), 0)
    z = np.exp((x - top) / T)
    return z / (np.exp(-top / T) + z.sum(axis=axis, keepdims=True))


TEMPERATURE_MULTIPLIED = cause("temperature-multiplied", "the temperature multiplies the logits (x · T), not divides "
                               "them (x / T)", ("softmax", "next_token_probs", "sample"))(_softmax_of(_times_T))
SOFTMAX_LOG = cause("softmax-log", "softmax returns the log of the probabilities (log-softmax)", SOFTMAX)(
    _softmax_of(_log))
SOFTMAX_NEGATED = cause("softmax-negated", "softmax is taken of −x: the largest logit gets the smallest probability",
                        SOFTMAX)(_softmax_of(_negated))
SOFTMAX_EXP2 = cause("softmax-exp2", "softmax uses 2^x in place of e^x (a base-2 kernel without the log2(e) factor)",
                     SOFTMAX)(_softmax_of(_exp2))
SOFTMAX_PLUS_ONE = cause("softmax-plus-one", "softmax adds 1 to its denominator (exp(x) / (1 + Σ exp(x))): a phantom "
                         "logit 0 absorbs probability", SOFTMAX)(_softmax_of(_plus_one))


@cause("softmax-floor", "softmax adds a floor of {value} to every probability (then renormalises): −∞ gets a "
       "probability", SOFTMAX, Fit(1e-30, 1e-1, 1.0, "floor"))
def _softmax_floor(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    softmax = g["softmax"]

    def floored(x, temperature=1.0, axis=-1):
        z = softmax(x, temperature, axis) + x.dtype.type(p)
        return z / z.sum(axis=axis, keepdims=True)

    return {"softmax": floored}


@cause("softmax-clips-logits", "softmax clips the logits at {value} (a finite stand-in for −∞)", SOFTMAX,
       Fit(1e0, 1e38, -1.0, "clip"))
def _softmax_clips(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    softmax = g["softmax"]

    def clipped(x, temperature=1.0, axis=-1):
        return softmax(np.maximum(x, x.dtype.type(-p)), temperature, axis)

    return {"softmax": clipped}


# ---------------------------------------------------------------------------------------------
# Layer norm, GELU, the block and the model


@cause("layer-norm-eps", "layer norm adds ε = {value} to the variance, not 1e-5", LAYER_NORM,
       Fit(1e-15, 1e1, 1.0, "ε"))
def _layer_norm_eps(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    def layer_norm(E, gain, bias):
        mean = E.mean(axis=0, keepdims=True)
        return (E - mean) / np.sqrt(E.var(axis=0, keepdims=True) + p) * gain[:, None] + bias[:, None]

    return {"layer_norm": layer_norm}


@cause("layer-norm-unbiased", "layer norm divides by the unbiased (n − 1) variance, as torch.var does by default",
       LAYER_NORM)
def _layer_norm_unbiased(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    eps = g["LAYER_NORM_EPS"]

    def layer_norm(E, gain, bias):
        var = E.var(axis=0, ddof=1, keepdims=True) if E.shape[0] > 1 else E.var(axis=0, keepdims=True)
        return (E - E.mean(axis=0, keepdims=True)) / np.sqrt(var + eps) * gain[:, None] + bias[:, None]

    return {"layer_norm": layer_norm}


def _gelu(form: Callable[[np.ndarray], np.ndarray]) -> Change:
    def change(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
        return {"gelu": form}

    return change


def _gelu_erf(x: np.ndarray) -> np.ndarray:
    """½ x (1 + erf(x / √2))."""
    return 0.5 * x * (1.0 + np.vectorize(math.erf, otypes=[x.dtype])(x / math.sqrt(2.0)))


def _gelu_sigmoid(x: np.ndarray) -> np.ndarray:
    """x σ(1.702 x)."""
    return x / (1.0 + np.exp(-1.702 * x))


GELU_ERF = cause("gelu-erf", "GELU is the exact erf form (nn.GELU()), where the spec (as GPT-2/3) uses the tanh form "
                 "(declare the variant gelu=erf if that is meant)", MLP)(_gelu(_gelu_erf))
GELU_SIGMOID = cause("gelu-sigmoid", "GELU is the sigmoid approximation x·σ(1.702x), not the tanh form", MLP)(
    _gelu(_gelu_sigmoid))
GELU_RELU = cause("gelu-relu", "the MLP's non-linearity is ReLU, not GELU", MLP)(_gelu(lambda x: np.maximum(x, 0)))


def _block(body: Callable[[Namespace, np.ndarray, Any], np.ndarray]) -> Change:
    def change(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
        def block(E, weights):
            return body(g, E, weights)

        return {"block": block}

    return change


def _attend(g: Namespace, E: np.ndarray, w: Any) -> np.ndarray:
    return g["multi_head_attention"](E, w.W_Q, w.W_K, w.W_V_down, w.W_O)


def _feed(g: Namespace, E: np.ndarray, w: Any) -> np.ndarray:
    return g["mlp"](E, w.W_up, w.b_up, w.W_down, w.b_down)


def _ln(g: Namespace, E: np.ndarray, gain: np.ndarray, bias: np.ndarray) -> np.ndarray:
    return g["layer_norm"](E, gain, bias)


def _no_attention_residual(g: Namespace, E: np.ndarray, w: Any) -> np.ndarray:
    E = _attend(g, _ln(g, E, w.ln1_gain, w.ln1_bias), w)
    return E + _feed(g, _ln(g, E, w.ln2_gain, w.ln2_bias), w)


def _no_mlp_residual(g: Namespace, E: np.ndarray, w: Any) -> np.ndarray:
    E = E + _attend(g, _ln(g, E, w.ln1_gain, w.ln1_bias), w)
    return _feed(g, _ln(g, E, w.ln2_gain, w.ln2_bias), w)


def _post_ln(g: Namespace, E: np.ndarray, w: Any) -> np.ndarray:
    E = _ln(g, E + _attend(g, E, w), w.ln1_gain, w.ln1_bias)
    return _ln(g, E + _feed(g, E, w), w.ln2_gain, w.ln2_bias)


def _ln1_before_mlp(g: Namespace, E: np.ndarray, w: Any) -> np.ndarray:
    E = E + _attend(g, _ln(g, E, w.ln1_gain, w.ln1_bias), w)
    return E + _feed(g, _ln(g, E, w.ln1_gain, w.ln1_bias), w)


NO_ATTENTION_RESIDUAL = cause("no-attention-residual", "the block does not add attention's output to the residual "
                              "stream (E = MHA(LN₁(E)), not E + MHA(LN₁(E)))", BLOCK)(
    _block(_no_attention_residual))
NO_MLP_RESIDUAL = cause("no-mlp-residual", "the block does not add the MLP's output to the residual stream", BLOCK)(
    _block(_no_mlp_residual))
POST_LN = cause("post-layer-norm", "the block normalises after each residual add (post-LN, the 2017 Transformer), not "
                "before each sublayer (pre-LN, GPT-2)", BLOCK)(_block(_post_ln))
LN1_BEFORE_MLP = cause("ln1-before-mlp", "the block uses the first layer norm's gain and bias before the MLP, not "
                       "the second's", BLOCK)(_block(_ln1_before_mlp))


def _residual_added(name: str) -> Change:
    def change(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
        original = g[name]

        def with_residual(E, *args):
            return E + original(E, *args)

        return {name: with_residual}

    return change


HEAD_ADDS_RESIDUAL = cause("head-adds-residual", "attention_head returns E + ΔE (the block's residual add folded in), "
                           "not ΔE", ("attention_head",))(_residual_added("attention_head"))
MHA_ADDS_RESIDUAL = cause("mha-adds-residual", "multi_head_attention returns E + ΔE (the block's residual add folded "
                          "in), not ΔE", ("multi_head_attention",))(_residual_added("multi_head_attention"))


def _residual_stream(positions: Callable[[np.ndarray, int], np.ndarray], final_ln: bool = True) -> Change:
    """The model's residual stream with position embeddings ``positions(W_pos, ctx)``."""

    def change(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
        validate, embed, block, layer_norm = g["validate"], g["embed"], g["block"], g["layer_norm"]

        def final_residual(tokens, weights, fn):
            validate.tokens_in_vocab(fn, tokens, weights.W_E.shape[1])
            ctx = tokens.shape[0]
            validate.context_fits(fn, ctx, weights.W_pos.shape[1])
            E = embed(tokens, weights.W_E) + positions(weights.W_pos, ctx)
            for layer in weights.blocks:
                E = block(E, layer)
            return layer_norm(E, weights.lnf_gain, weights.lnf_bias) if final_ln else E

        return {"final_residual": final_residual}

    return change


POSITIONS_MISSING = cause("positions-missing", "the position embedding W_pos is never added", MODEL)(
    _residual_stream(lambda W_pos, ctx: np.zeros_like(W_pos[:, :ctx])))
POSITIONS_REVERSED = cause("positions-reversed", "the position embeddings are added in reverse order", MODEL)(
    _residual_stream(lambda W_pos, ctx: W_pos[:, :ctx][:, ::-1]))
POSITIONS_OFFSET = cause("positions-offset", "the positions start at 1, not 0 (W_pos[:, 1:ctx + 1])", MODEL)(
    _residual_stream(lambda W_pos, ctx: W_pos[:, 1:ctx + 1]))
NO_FINAL_LN = cause("no-final-layer-norm", "the final layer norm (ln_f) before the unembedding is missing", MODEL)(
    _residual_stream(lambda W_pos, ctx: W_pos[:, :ctx], final_ln=False))


# ---------------------------------------------------------------------------------------------
# Embedding, prediction, cross-attention


@cause("token-ids-one-based", "embed reads column id + 1 (token ids taken as 1-based)", ("embed", *MODEL))
def _one_based(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    def embed(tokens, W_E):
        return W_E[:, (tokens + 1) % W_E.shape[1]]

    return {"embed": embed}


@cause("unembed-softmaxed", "unembed returns probabilities softmax(W_U E), not the logits W_U E", ("unembed",))
def _unembed_softmaxed(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    softmax = g["softmax"]

    def unembed(E, W_U):
        return softmax(W_U @ E, 1.0, 0)

    return {"unembed": unembed}


@cause("logits-positions-reversed", "the logits come out with the positions in reverse order", ("unembed", "forward"))
def _logits_reversed(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    def unembed(E, W_U):
        return (W_U @ E)[:, ::-1]

    return {"unembed": unembed}


@cause("predicts-from-first-position", "the next-token distribution is read from the first position's logits, not "
       "the last's", ("next_token_probs",))
def _first_position(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    forward, softmax = g["forward"], g["softmax"]

    def next_token_probs(tokens, weights, temperature=1.0):
        return softmax(forward(tokens, weights)[:, 0], temperature)

    return {"next_token_probs": next_token_probs}


@cause("cross-attention-masked", "cross-attention applies the causal mask (key ≤ query) to its keys; it has none",
       ("cross_attention_head",))
def _cross_masked(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    softmax = g["softmax"]

    def cross_attention_head(E_q, E_kv, W_Q, W_K, W_V_down, W_V_up):
        scores = (W_K @ E_kv).T @ (W_Q @ E_q) / math.sqrt(W_Q.shape[0])
        A = softmax(np.where(np.triu(np.ones(scores.shape, dtype=bool)), scores, -np.inf), 1.0, -2)
        return W_V_up @ (W_V_down @ E_kv @ A)

    return {"cross_attention_head": cross_attention_head}


@cause("token-ids-unchecked", "token ids are not checked against [0, vocab): a negative id silently reads a column "
       "from the end (NumPy's wrap-around)", ("embed", *MODEL))
def _ids_unchecked(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    def embed(tokens, W_E):
        return W_E[:, tokens]

    return {"embed": embed}


@cause("sample-zero-as-tiny", "sample treats T = 0 as a tiny temperature and draws (near-ties then go either way), "
       "instead of taking the argmax", ("sample",))
def _zero_as_tiny(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    sample = g["sample"]

    def changed_sample(logits, temperature, rng):
        return sample(logits, temperature or 1e-6, rng)

    return {"sample": changed_sample}


@cause("sample-argmax-half", "sample's greedy argmax (T = 0) is taken on the logits rounded to float16", ("sample",))
def _argmax_half(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    sample = g["sample"]

    def changed_sample(logits, temperature, rng):
        if temperature == 0:
            with np.errstate(all="ignore"):
                return int(np.argmax(logits.astype(np.float16)))
        return sample(logits, temperature, rng)

    return {"sample": changed_sample}


@cause("sample-divides-first", "sample divides the logits by T before subtracting their maximum (softmax(logits / T) "
       "in the logits' dtype): at a tiny T they overflow and the draw reads NaN", ("sample",))
def _divides_first(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    sample = g["sample"]

    def changed_sample(logits, temperature, rng):
        if temperature == 0 or not 0 < temperature <= 2:
            return sample(logits, temperature, rng)
        with np.errstate(all="ignore"):
            z = logits / temperature
            cdf = np.cumsum(np.exp(z - np.max(z)))
        return int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"))

    return {"sample": changed_sample}


# ---------------------------------------------------------------------------------------------
# The result in another shape (the right numbers)


def _reshaped(form: Callable[[Any], Any | None]) -> Change:
    def change(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
        original = g[fn]

        def reshaped(*args):
            out = form(original(*args))
            if out is None:
                raise ValueError("not this cause's shape")
            return out

        return {fn: reshaped}

    return change


TRANSPOSED = cause("result-transposed", "the result is transposed (tokens as rows, the rows layout) where the spec "
                   "promises columns", tuple(SIGNATURES))(
    _reshaped(lambda r: np.swapaxes(r, -1, -2) if isinstance(r, np.ndarray) and r.ndim >= 2 else None))
AS_COLUMN = cause("result-as-column", "the result is a column [n 1] where the spec promises a vector [n]",
                  tuple(SIGNATURES))(
    _reshaped(lambda r: r[:, None] if isinstance(r, np.ndarray) and r.ndim == 1 else None))
AS_ARRAY = cause("result-as-array", "the result is an array [1] where the spec promises an int", ("sample",))(
    _reshaped(lambda r: np.array([r]) if isinstance(r, (int, np.integer)) else None))


CAUSES: tuple[Cause, ...] = tuple(REGISTRY.values())
"""Every known cause, in the order a tie between equally good ones is settled."""
