"""Run-time checking of calls against the spec's typed signatures.

``@implements(spec_fn)`` wraps a function so that every call checks its arguments and its result
against the jaxtyping annotations of ``spec_fn``: dtype kind, number of axes, and every named dim,
bound within the call by the first argument that carries it ("bound by E"). Inside
``with bind(config):`` the named dims must also equal the config's sizes, and ctx may not exceed
n_ctx, across every call: the binding outlives a single call, which jaxtyping alone does not do.
``@implements`` also refuses, when it runs, an implementation whose signature drifts from the
spec's (other names, order or defaults, or other annotations), so the signature a reader sees on
``gptspec.impl`` is the published one.

Why our own binder rather than ``jaxtyping.jaxtyped``: jaxtyping forgets its bindings between
calls, and its errors print the arguments; ours say which argument bound a dim and never print
array contents. Those messages are exact and the tests assert them word for word. The
annotations stay plain jaxtyping types (the tests run them through
``jaxtyping.jaxtyped(typechecker=beartype)`` as well), and non-array arguments are checked with
beartype.

Checks are on by default. ``GPTSPEC_CHECKS=0`` in the environment turns them off at import, and
``set_checks`` / ``checks`` switch them at run time; off, a call costs one flag test.

A third mode, ``"first"`` (``set_checks("first")``, ``GPTSPEC_CHECKS=first``), checks only the
first call of each function with each *shape signature*: the types, shapes and dtypes of the
arrays (also inside weights containers), the types of float and bool arguments, the values of
int arguments, and the bound config. A later call with the same signature skips the argument
and the result checks (a dict look-up instead of tens of microseconds); a new shape, dtype,
int or ``bind`` is checked again. It trusts that a function's result shape depends only on that
signature, which holds for every function of the spec. For suites of many small calls (property
tests); value checks (token ids, temperatures) are not shape checks and always run.

The jobs live in modules of their own, all re-exported here: :mod:`.switches` (on, off, first),
:mod:`.context` (``bind``, ``located``, ``spec_error``), :mod:`.checker` (the checks of a call
and the binder), :mod:`.first` (the shape signature of a call), :mod:`.hints` (what an
annotation means); this module is the decorator.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from typing import Any, TypeVar

from . import hints
from .checker import Checker, check_call, check_result, has_values
from .context import bind, bound_config, located, spec_error
from .errors import SpecError
from .first import SEEN_MAX, call_key
from .switches import SWITCH, checks, checks_enabled, checks_mode, set_checks

__all__ = [
    "implements",
    "bind",
    "bound_config",
    "checks",
    "set_checks",
    "checks_enabled",
    "checks_mode",
    "located",
    "has_values",
    "spec_of",
    "check_call",
    "check_result",
    "spec_error",
]

F = TypeVar("F", bound=Callable[..., Any])


def _same_hints(fn: Callable[..., Any], plan: hints.Plan) -> bool:
    """An implementation may leave annotations out; those it gives must be the spec's."""
    known = set(plan.names) | {"return"}
    return all(name in known and plan.hint(name) == hint for name, hint in hints.annotations_of(fn).items())


def implements(spec_fn: F) -> Callable[[Callable[..., Any]], F]:
    """Mark ``fn`` as the implementation of ``spec_fn`` and check every call against it.

    The implementation must have exactly the spec's parameter names, order and defaults, and any
    annotation it writes must be the spec's (checked once, when the decorator runs), so the
    signature a reader sees on the implementation cannot drift from the published one. One that
    writes none (an optimised variant whose reader has the reference beside it) is given the
    spec's: ``inspect.signature`` and ``help`` show the shapes either way, written once.
    """
    checker = Checker(spec_fn)  # one per implementation: tests and benchmarks patch and time it alone
    plan = checker.plan

    def decorate(fn: Callable[..., Any]) -> F:
        impl_sig = inspect.signature(fn)
        spec_params = [(p.name, p.default) for p in plan.signature.parameters.values()]
        impl_params = [(p.name, p.default) for p in impl_sig.parameters.values()]
        if spec_params != impl_params or not _same_hints(fn, plan):
            raise SpecError(
                f"{fn.__module__}.{fn.__name__} does not match the spec signature "
                f"{plan.name}{plan.signature}: got {fn.__name__}{impl_sig}"
            )

        seen: set[Any] = set()  # "first" mode: shape signatures whose calls passed

        @functools.wraps(fn)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if not SWITCH.enabled:
                return fn(*args, **kwargs)
            key = call_key(args, kwargs) if SWITCH.first else None
            if key is not None and key in seen:
                return fn(*args, **kwargs)
            binder = checker.check_call(args, kwargs)
            result = fn(*args, **kwargs)
            checker.check_result(result, binder)
            if key is not None:
                if len(seen) >= SEEN_MAX:
                    seen.clear()
                seen.add(key)
            return result

        if not getattr(fn, "__annotations__", None):
            checked.__annotations__ = {**dict(zip(plan.names, plan.hints)), "return": plan.result}
            checked.__signature__ = inspect.signature(spec_fn, eval_str=True)  # type: ignore[attr-defined]
        # a function object takes attributes at run time; the type checker's Callable declares none
        checked.__gptspec_spec__ = spec_fn  # type: ignore[attr-defined]
        checked.__gptspec_checker__ = checker  # type: ignore[attr-defined]
        checked.__gptspec_plan__ = checker  # type: ignore[attr-defined]  # the old name, for benchmarks/run.py
        return typing.cast(F, checked)

    return decorate


def spec_of(fn: Callable[..., Any]) -> Callable[..., Any] | None:
    """The spec function a checked implementation implements, or None."""
    return getattr(fn, "__gptspec_spec__", None)
