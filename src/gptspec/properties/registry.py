"""The registry of properties: every property with its name, family, needs and statement.

A property is written once as a function of an implementation: ``body(impl, example)`` where
``impl`` is any object providing some of the spec's functions by name (in the columns layout,
NumPy in and out; adapters bring other layouts and frameworks to that form) and ``example`` is
one value drawn from the property's Hypothesis strategy. The body raises
:class:`PropertyFailure` with a message that says what was expected and what came back.
Bodies run with NumPy's floating-point warnings silenced: a property judges the values an
implementation returns (an overflow shows up as inf or NaN in them), not its warnings.

``Property.hypothesis_test(impl)`` turns it into a zero-argument Hypothesis test: calling it
searches for a counterexample under the active settings profile and raises the shrunk one.

A property may say what it cannot be stated without (``requires``: ``causal=False``,
``n_heads·d_head < d_model``, ``float64``, ``ctx >= 2``): a target's declared domain that excludes
it makes the property "not applicable" (:mod:`.domain`). A property may carry tags: ``contract``
marks the checks of the spec's input contract (refusing invalid token ids and temperatures),
which a report words apart from the math and ``--only``/``--skip contract`` select as one. A
property whose failures may lie beyond the ordinary domain declares its ``scale``
(:class:`.ordinary.Scale`): the quantity a fragility assessment moves its example along.

This module is a leaf: it imports no family. The families import it to register their
properties, and :mod:`.catalogue` imports every family and answers :func:`~.catalogue.properties`,
:func:`~.catalogue.get` and :func:`~.catalogue.applicable` (still importable from here, deprecated).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
from hypothesis import given
from hypothesis import settings as Settings
from hypothesis import strategies as st

if TYPE_CHECKING:
    from .ordinary import Scale

__all__ = ["Property", "PropertyFailure", "REGISTRY", "CONTRACT", "TAGS", "prop"]


class PropertyFailure(AssertionError):
    """A property does not hold: the message says what was expected and what came back; ``expected`` and
    ``got`` hold the two values compared (as the property compared them), ``at`` the worst entry's index."""

    def __init__(self, message: str = "", *, expected: Any = None, got: Any = None,
                 at: tuple[int, ...] | None = None) -> None:
        super().__init__(message)
        self.expected, self.got, self.at = expected, got, at


@dataclasses.dataclass(frozen=True)
class Property:
    name: str  # "softmax.sums_to_one": family, dot, what it states
    family: str  # "softmax", "temperature", "causality", "head_concat", ...
    needs: tuple[str, ...]  # spec function names the implementation must provide
    statement: str  # one line, in the words of the math
    body: Callable[[Any, Any], None]
    strategy: Callable[[], st.SearchStrategy[Any]]  # built lazily, on first use
    requires: tuple[str, ...] = ()  # what only some domains allow (domain.REQUIREMENTS): "causal=False", ...
    tags: tuple[str, ...] = ()  # "contract": checks the spec's input contract, not the math
    scale: Scale | None = None  # the ordinary-domain quantity of its examples (None: never fragile)

    @property
    def contract(self) -> bool:
        """Whether it checks the spec's own input contract (refusing invalid input) rather than the math."""
        return CONTRACT in self.tags

    def applies_to(self, impl: Any) -> bool:
        """Whether ``impl`` provides every function this property needs."""
        return all(callable(getattr(impl, name, None)) for name in self.needs)

    def check(self, impl: Any, example: Any) -> None:
        """Run the property once on one example (raises PropertyFailure if it does not hold)."""
        with np.errstate(all="ignore"):
            self.body(impl, example)

    def hypothesis_test(
        self,
        impl: Any,
        *,
        settings: Settings | None = None,
        on_example: Callable[[Any], None] | None = None,
    ) -> Callable[[], None]:
        """A zero-argument Hypothesis test of this property for ``impl``.

        ``on_example`` sees every example before it runs; the last one it sees when the test
        raises is the shrunk counterexample (Hypothesis replays the minimal failure last).
        """
        body = self.body

        @given(self.strategy())
        def test(example: Any) -> None:
            if on_example is not None:
                on_example(example)
            with np.errstate(all="ignore"):
                body(impl, example)

        test.__name__ = f"test_{self.name.replace('.', '_')}"
        test.__qualname__ = test.__name__
        return settings(test) if settings is not None else test


REGISTRY: dict[str, Property] = {}

CONTRACT = "contract"
TAGS = {CONTRACT: "the spec's input contract: refusing invalid input (token ids, temperatures), not the math"}
"""The tags a property may carry, each a name ``--only``/``--skip`` accept like a family."""


def prop(
    name: str,
    *,
    needs: Iterable[str],
    statement: str,
    strategy: Callable[[], st.SearchStrategy[Any]],
    requires: Iterable[str] = (),
    tags: Iterable[str] = (),
    scale: Scale | None = None,
) -> Callable[[Callable[[Any, Any], None]], Property]:
    """Register ``body`` as the property ``name`` (family = the part before the first dot).

    ``requires``: what the property cannot be stated without, from :data:`.domain.REQUIREMENTS`
    (a declared domain that excludes it makes the property "not applicable"); ``tags``: "contract"
    for a check of the spec's input contract (``--skip contract`` skips them all); ``scale``: the
    quantity that decides whether an example is ordinary (:mod:`.ordinary`), for a property whose
    failures beyond the ordinary domain are fragile."""
    from .domain import REQUIREMENTS

    def register(body: Callable[[Any, Any], None]) -> Property:
        if name in REGISTRY:
            raise ValueError(f"property {name!r} is registered twice")
        unknown = [r for r in requires if r not in REQUIREMENTS] + [t for t in tags if t not in TAGS]
        if unknown:
            raise ValueError(f"property {name!r}: unknown requirement or tag {unknown}")
        family = name.split(".", 1)[0]
        p = Property(name, family, tuple(needs), statement, body, strategy, tuple(requires), tuple(tags), scale)
        REGISTRY[name] = p
        return p

    return register


_MOVED = ("properties", "get", "applicable")


def __getattr__(name: str) -> Any:
    """``properties``, ``get`` and ``applicable`` moved to :mod:`.catalogue` (which loads the families)."""
    if name not in _MOVED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warnings.warn(f"gptspec.properties.registry.{name} moved to gptspec.properties.catalogue.{name}",
                  DeprecationWarning, stacklevel=2)
    from . import catalogue

    return getattr(catalogue, name)
