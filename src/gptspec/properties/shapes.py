"""Shapes: every output has the shape (and dtype kind) its signature promises.

One property per function of the spec. Nothing is hand-written: the arguments are drawn from the
signature's jaxtyping annotations (:func:`strategies.arguments`), and the result is checked
against the return annotation with the dims the arguments bound (:func:`gptspec.spec.check_result`),
so a function returning [ctx d_model] where [d_model ctx] is promised fails with the checker's
own message ("return value axis 0 is d_model = 3 (bound by E), got 2").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..spec import SIGNATURES, SpecError, check_result, hints
from . import expect
from .common import describe
from .ordinary import temperature_argument
from .registry import Property, prop
from .strategies import arguments


def _shape_property(name: str, spec_fn: Callable[..., Any]) -> Property:
    def body(impl: Any, args: tuple[Any, ...]) -> None:
        result = getattr(impl, name)(*args)
        try:
            check_result(spec_fn, result, *args)
        except SpecError as exc:
            raise expect.fail(f"{exc} (arguments: {describe(args)})") from None

    body.__name__ = name
    hint = hints.Plan.of(spec_fn).result
    promised = f"[{hints.dim_text(hint)}]" if hints.is_array(hint) else hints.show(hint)
    return prop(
        f"shapes.{name}", needs=(name,),
        statement=f"{name} returns {promised}, with the sizes its arguments bind",
        strategy=lambda: arguments(spec_fn),
        scale=temperature_argument(1) if name == "sample" else None,  # sample(logits, T, rng)
    )(body)


SHAPE_PROPERTIES = tuple(_shape_property(name, fn) for name, fn in SIGNATURES.items())
"""One property per function of the spec, in the spec's order."""
