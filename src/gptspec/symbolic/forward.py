"""The forward pass composed from an implementation's functions, every call checked and recorded.

:class:`Functions` looks each spec function up on a target (a user's module, or any object) and
falls back to :mod:`gptspec.impl`. Each one is called through :func:`checked`: its arguments and
result are checked against the spec signature (the config bound, named dims and all), errors
say where they happened (``layer 37 › multi_head_attention``), and, inside a recording, its
arguments and result are logged beside the shape-only operations it runs.

:func:`forward` is the composition of :func:`gptspec.impl.forward` — embed, add positions, the
blocks, the final layer norm, unembed — with ``block`` composed of the target's layer norm,
attention and MLP unless the target has its own ``block``. On real arrays it computes exactly
what the reference computes (the tests hold it to that).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import impl
from ..spec import SIGNATURES, BlockWeights, Config, SpecError, Weights, bind, check_result, checks
from ..spec import hints, located, spec_error, spec_of
from ..spec import signatures as S
from .errors import SymbolicError, UnsupportedOperation
from .trace import Recorder, active_recorder, recording
from .array import shape_only
from .weights import shape_of, shape_only_tokens, shape_only_weights

__all__ = [
    "COMPOSED", "Functions", "ImplementationRaised", "Observed", "Enter", "Exit", "Layer",
    "checked", "forward", "block", "CheckRun", "check_forward", "ALONE", "check_alone",
]

COMPOSED = ("embed", "layer_norm", "multi_head_attention", "mlp", "block", "unembed")
"""The spec functions the forward pass calls (``block`` only when a target provides it)."""


class ImplementationRaised(SymbolicError):
    """An implementation's function raised something other than a gptspec error."""


# ---------------------------------------------------------------------------------------------
# What a recording holds besides operations


@dataclasses.dataclass(frozen=True)
class Observed:
    """One tensor at a call boundary: its parameter, its spec dims, the shape it had."""

    label: str
    dims: str
    shape: tuple[int, ...]
    dtype: np.dtype[Any]


@dataclasses.dataclass(frozen=True)
class Enter:
    name: str
    source: str  # "target" or "reference"
    arguments: tuple[Observed, ...]


@dataclasses.dataclass(frozen=True)
class Exit:
    name: str
    result: Observed


@dataclasses.dataclass(frozen=True)
class Layer:
    index: int


def _observed(label: str, hint: Any, value: Any) -> Observed | None:
    if not (hints.is_array(hint) and isinstance(value, np.ndarray)):
        return None
    return Observed(label, hints.dim_text(hint), tuple(value.shape), value.dtype)


# ---------------------------------------------------------------------------------------------
# Checked calls


def checked(name: str, fn: Callable[..., Any], source: str = "target") -> Callable[..., Any]:
    """``fn`` as the spec function ``name``: arguments and result checked, errors located.

    A function of the reference already checks itself; its unchecked body is called instead, so
    each call is checked once. The check comes after the call: the arguments are the spec's own
    weights and results of calls already checked, so whatever fails is the function's own doing.
    """
    spec_fn = SIGNATURES[name]
    body = getattr(fn, "__wrapped__", fn) if spec_of(fn) is spec_fn else fn
    plan = hints.Plan.of(spec_fn)

    def call(*args: Any) -> Any:
        recorder = active_recorder()
        if recorder is not None:
            seen = (_observed(p, h, a) for p, h, a in zip(plan.names, plan.hints, args))
            recorder.events.append(Enter(name, source, tuple(o for o in seen if o is not None)))
        try:
            with located(name):
                result = body(*args)
        except SpecError:
            raise
        except Exception as exc:  # the implementation's own bug: say where it happened
            raise spec_error(ImplementationRaised, name, f"raised {type(exc).__name__}: {exc}") from exc
        check_result(spec_fn, result, *args)
        if recorder is not None:
            observed = _observed("return value", plan.result, result)
            if observed is None:  # the result passed its check, so the spec's result is no array (sample's int)
                raise spec_error(UnsupportedOperation, name, "a recorded call must return an array")
            recorder.events.append(Exit(name, observed))
        return result

    call.__name__ = name
    return call


class Functions:
    """The functions the forward pass calls: the target's where it has them, else the reference's."""

    def __init__(self, target: Any = None) -> None:
        self.sources: dict[str, str] = {}
        self.calls: dict[str, Callable[..., Any]] = {}
        for name in COMPOSED:
            fn = getattr(target, name, None) if target is not None else None
            if callable(fn):
                self.sources[name] = "target"
            elif name == "block":  # composed here from the functions above
                fn, self.sources[name] = functools.partial(block, self), "composed"
            else:
                fn, self.sources[name] = getattr(impl, name), "reference"
            self.calls[name] = checked(name, fn, self.sources[name])

    def __getattr__(self, name: str) -> Callable[..., Any]:
        try:
            return self.__dict__["calls"][name]
        except KeyError:
            raise AttributeError(name) from None


def block(fns: Functions, E: np.ndarray, w: BlockWeights) -> np.ndarray:
    """E ← E + MHA(LN₁(E)); E ← E + MLP(LN₂(E)), as gptspec.impl.block, from ``fns``."""
    E = E + fns.multi_head_attention(fns.layer_norm(E, w.ln1_gain, w.ln1_bias), w.W_Q, w.W_K, w.W_V_down, w.W_O)
    return E + fns.mlp(fns.layer_norm(E, w.ln2_gain, w.ln2_bias), w.W_up, w.b_up, w.W_down, w.b_down)


def forward(fns: Functions, tokens: np.ndarray, weights: Weights) -> np.ndarray:
    """logits = W_U · LN_f(blocks(W_E · onehot(tokens) + W_pos[:, :ctx])), layer by layer, located."""
    recorder = active_recorder()
    E = fns.embed(tokens, weights.W_E) + weights.W_pos[:, : tokens.shape[0]]
    for i, layer in enumerate(weights.blocks):
        if recorder is not None:
            recorder.events.append(Layer(i))
        with located(f"layer {i}"):
            E = fns.block(E, layer)
    logits = fns.unembed(fns.layer_norm(E, weights.lnf_gain, weights.lnf_bias), weights.W_U)
    check_result(S.forward, logits, tokens, weights)
    return logits


# ---------------------------------------------------------------------------------------------
# The whole check


@dataclasses.dataclass
class CheckRun:
    """What one full-size check did: the config, the sources of the functions, the recording."""

    config: Config
    ctx: int
    dtype: np.dtype[Any]
    sources: dict[str, str]
    recorder: Recorder
    weight_bytes: int
    logits_shape: tuple[int, ...]


def check_forward(config: Config, ctx: int | None = None, target: Any = None, dtype: Any = np.float32) -> CheckRun:
    """Run the forward pass on shape-only weights and tokens with ``config`` bound.

    Raises the checker's error (a SpecError naming layer, function and dim) at the first shape
    that breaks the spec.
    """
    n = config.n_ctx if ctx is None else ctx
    fns = Functions(target)
    weights = shape_only_weights(config, dtype)
    with checks(True), bind(config), recording() as recorder:  # every call, whatever GPTSPEC_CHECKS says
        logits = forward(fns, shape_only_tokens(n), weights)
    return CheckRun(
        config, n, np.dtype(dtype), dict(fns.sources), recorder,
        sum(int(a.nbytes) for _, a in weights.arrays()), tuple(logits.shape),
    )


# ---------------------------------------------------------------------------------------------
# The target's other functions, each called once at full size

ALONE = ("softmax", "causal_mask", "attention_pattern", "attention_head", "cross_attention_head", "forward",
         "next_token_probs")
"""Spec functions the composed forward pass does not call; ``sample`` is left out: it needs values."""


def full_size_arguments(name: str, config: Config, ctx: int, weights: Weights) -> tuple[Any, ...]:
    """Arguments for spec function ``name`` at full size, from its annotations: shape-only arrays
    (softmax gets logits [vocab ctx]), the weights, ctx, and the spec's defaults."""
    plan = hints.Plan.of(name)
    args: list[Any] = []
    for p, hint, default in zip(plan.names, plan.hints, plan.defaults):
        if hints.is_array(hint):
            shape = (config.vocab, ctx) if hints.n_axes(hint) is None else shape_of(hint, config, ctx)
            kind = hints.dtype_kind(hint)
            dtype = bool if kind == "b" else np.int64 if kind == "iu" else weights.W_E.dtype
            args.append(shape_only(shape, dtype))
        elif hint is Weights:
            args.append(weights)
        elif hint is BlockWeights:
            args.append(weights.blocks[0])
        elif p == "ctx":
            args.append(ctx)
        else:
            args.append(default)
    return tuple(args)


def check_alone(target: Any, config: Config, ctx: int | None = None, dtype: Any = np.float32) -> tuple[str, ...]:
    """Call each function of ``ALONE`` the target provides once at full size, checked; their names."""
    n = config.n_ctx if ctx is None else ctx
    provided = [name for name in ALONE if callable(getattr(target, name, None))]
    weights = shape_only_weights(config, dtype)
    with checks(True), bind(config):
        for name in provided:
            checked(name, getattr(target, name))(*full_size_arguments(name, config, n, weights))
    return tuple(provided)
