"""Adapters: a user's implementation seen by the properties as a columns-layout NumPy one.

The properties call ``impl.attention_pattern(Q, K, causal=True)`` with NumPy arrays in the spec's
layout (columns are tokens). An adapter sits between them and the user's function:

    spec args (columns, NumPy) → layout → framework → user's function → framework⁻¹ → layout⁻¹

**Layout "rows"** (nanoGPT, PyTorch): every 2-D tensor is transposed and stacked per-head
weights ``[n_heads d_head d_model]`` are transposed in their last two axes, so E is
``[ctx d_model]``, W_Q is ``[n_heads d_model d_head]``, the pattern is ``[ctx_q ctx_k]`` with its
softmax over the last axis. 1-D tensors (tokens, biases, a logit vector) and the arguments of
``softmax`` (any shape, axis explicit) and ``sample`` are unchanged. Which tensor is 2-D or
stacked is read from the spec's annotations, parameters, results and the fields of the weights
containers alike, so a new tensor in the spec needs no change here.

**Framework**: a :class:`~.frameworks.Framework` of :mod:`.frameworks` converts each array, once
in the target's layout, to what the target takes, and what comes back to NumPy (a one-element
integer where the spec returns ``int``, ``sample``, becomes that int); NumPy's converts nothing.

Arguments are bound to the spec's signature and passed positionally, so a user's parameter
names do not matter, only their order. Results that are not arrays where the spec returns one
fail the calling property with a :class:`ResultTypeError` naming the function.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from ..properties.registry import PropertyFailure
from ..spec.hints import Plan, dim_text, is_array, struct_mapper
from ..spec.hints import map_struct as _map_struct
from ..spec.hints import n_axes as array_axes
from ..target import TargetError
from .conventions import ENTRY_POINTS
from . import unmodified
from .choices import FRAMEWORKS, LAYOUTS
from .errors import OptionError
from .frameworks import Framework, named

__all__ = [
    "LAYOUTS", "FRAMEWORKS", "ResultTypeError", "Adapted", "adapt", "check_result",
    "to_rows", "from_rows", "array_axes",
]



class ResultTypeError(PropertyFailure):
    """A target function returned something that is not what its signature promises."""


def _transpose_leaf(value: Any, hint: Any) -> Any:
    """2-D: transpose; 3-D stacked per head: swap the last two axes; anything else unchanged."""
    return _transposer(array_axes(hint))(value)


def _transposer(axes: int | None) -> Callable[[Any], Any]:
    """:func:`_transpose_leaf` for leaves of ``axes`` axes, the hint read once."""
    if axes is None or axes < 2:
        return _unchanged

    def transpose(value: Any) -> Any:
        if getattr(value, "ndim", None) != axes:
            return value
        return value.transpose(-1, -2) if axes == 2 else value.swapaxes(-1, -2)

    return transpose


def _unchanged(value: Any) -> Any:
    return value


def to_rows(value: Any, hint: Any) -> Any:
    """A value typed ``hint`` in the columns layout, in the rows layout (weights field by field)."""
    return _map_struct(value, hint, _transpose_leaf)


from_rows = to_rows
"""Transposition is its own inverse: the same rule brings a rows result back to columns."""


def _leaves(rows: bool, framework: Framework, *, back: bool = False) -> Callable[[Any], Callable[[Any], Any]]:
    """``leaf_for`` of :func:`~gptspec.spec.hints.struct_mapper`: a columns-layout NumPy leaf typed
    ``hint`` as the target takes it (transposed for rows, then the framework's); ``back``: a
    target's leaf back to that."""
    to_native, from_native = framework.to_native, framework.from_native

    def leaf_for(hint: Any) -> Callable[[Any], Any]:
        transpose = _transposer(array_axes(hint)) if rows else _unchanged
        if not framework.converts:
            return transpose
        if back:
            integer = hint is int
            return lambda value: transpose(from_native(value, integer))
        return lambda value: to_native(transpose(value))

    return leaf_for


def check_result(name: str, value: Any, hint: Any) -> Any:
    """The result unchanged if it is of the promised kind; a ResultTypeError naming it if not."""
    if is_array(hint):
        if not isinstance(value, np.ndarray):
            raise ResultTypeError(
                f"{name} returned {type(value).__name__}, the spec returns an array [{dim_text(hint)}]"
            )
    elif hint is int and not (isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))):
        raise ResultTypeError(f"{name} returned {type(value).__name__} {value!r:.40}, the spec returns an int")
    return value


def _adapt_function(
    name: str, fn: Callable[..., Any], layout: str, framework: Framework,
    guard: Callable[[str, Callable[..., Any]], Callable[..., Any]], check: bool = True,
) -> Callable[..., Any]:
    call = guard(name, fn)
    if name in ENTRY_POINTS:  # a model family's own entry point (generate): NumPy in and out already
        return call
    plan = Plan.of(name)
    rows = layout == "rows"
    into = _leaves(rows, framework)
    arguments = tuple(struct_mapper(hint, into) for hint in plan.hints)  # each hint's walk worked out once
    result_back = struct_mapper(plan.result, _leaves(rows, framework, back=True))
    kept_at = unmodified.read_only(plan.names)  # the KV cache: read, never written

    def adapted(*args: Any, **kwargs: Any) -> Any:
        values = plan.positional(args, kwargs)
        given = [convert(value) for convert, value in zip(arguments, values)]
        kept = unmodified.keep(plan.names, given, kept_at) if kept_at else None
        result = call(*given)
        if kept:
            unmodified.check(name, kept)
        value = result_back(result)
        return check_result(name, value, plan.result) if check else value

    adapted.__name__ = adapted.__qualname__ = name
    adapted.__doc__ = (f"{name} of the target, seen in the columns layout with NumPy arrays "
                       f"({layout}, {framework.name}).")
    return adapted


class Adapted:
    """The target as the properties see it: one attribute per spec function it provides."""

    def __init__(self, label: str, layout: str, framework: str, functions: dict[str, Callable[..., Any]], *,
                 assume: tuple[str, ...] = ()) -> None:
        self.label, self.layout, self.framework = label, layout, framework
        self.assume = assume  # the domain a convention declares for what it builds (words of properties.domain)
        for name, fn in functions.items():
            setattr(self, name, fn)
        self.provides = tuple(functions)

    def __repr__(self) -> str:
        return f"<{self.label} ({self.layout}, {self.framework}): {', '.join(self.provides)}>"


def _no_guard(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    return fn


def adapt(
    obj: Any,
    names: tuple[str, ...],
    *,
    layout: str = "columns",
    framework: str = "numpy",
    label: str = "target",
    guard: Callable[[str, Callable[..., Any]], Callable[..., Any]] = _no_guard,
    check: bool = True,
) -> Adapted:
    """The functions ``names`` of ``obj`` behind the layout and framework adapters (and ``guard``);
    ``check``: each result's kind checked (:func:`check_result`; off in a target's process, where
    the verifier checks the decoded answer); the domain the framework declares for the target
    (:attr:`Framework.declared`) as its ``assume``."""
    if layout not in LAYOUTS:
        raise OptionError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    chosen = named(framework)
    chosen.require()
    return Adapted(
        label, layout, framework,
        {n: _adapt_function(n, getattr(obj, n), layout, chosen, guard, check) for n in names},
        assume=chosen.declared(),
    )
