"""What a cause is (:class:`Cause`, :class:`Fit`), how it is registered (:func:`cause`), and the reference it
changes (:func:`reference_namespace`, :func:`derive`, :func:`changed`); the groups of spec functions each part
of the reference shows in."""

from __future__ import annotations

import dataclasses
import inspect
import math
import sys
import types
from collections.abc import Callable
from typing import Any

from ...spec import SIGNATURES

__all__ = ["Fit", "Cause", "cause", "reference_namespace", "derive", "changed", "IMPL_MODULES", "EXTRA", "REGISTRY",
           "Namespace", "Change", "PATTERN", "HEADS", "SELF", "MHA", "CAUSAL", "SOFTMAX", "LAYER_NORM", "BLOCK", "MODEL", "MLP"]

EXTRA = ("next_token_rule",)
"""Names a changed reference has beside the spec's functions where a cause puts them (generate's draw rule)."""

IMPL_MODULES = ("softmax", "attention", "multihead", "embedding", "mlp", "model", "sampling", "cache")

Namespace = dict[str, Any]
Change = Callable[[Namespace, str, float], dict[str, Callable[..., Any]]]
"""(the reference's namespace, the spec function diagnosed, the fitted value or nan) -> replacements."""


def reference_namespace() -> Namespace:
    """One globals dict holding every impl module's names, with unchecked copies of its functions."""
    from ... import impl  # noqa: F401  (imports the modules read below)

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
    return types.SimpleNamespace(__name__=name, **{fn: g[fn] for fn in (*SIGNATURES, *EXTRA) if fn in g})


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
    return types.SimpleNamespace(__name__=c.name, **{fn: g[fn] for fn in (*SIGNATURES, *EXTRA) if fn in g})


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
