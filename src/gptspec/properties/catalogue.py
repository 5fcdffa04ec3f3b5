"""The catalogue: every family module imported, so that their properties are registered, and the
questions asked of it (which properties, which one, which apply to an implementation)."""

from __future__ import annotations

from typing import Any

from . import agreement, causality, embedding, head_concat, shapes, softmax, temperature, value  # noqa: F401
from . import decode  # noqa: F401, I001  (incremental decoding, the last of the spec's families)
# after the spec's families: registration order is report order
from . import generation, sdpa, sdpa_decode, batch, padding  # noqa: F401, I001
from ..spec.signatures import SIGNATURES
from .registry import REGISTRY, Property

__all__ = ["FAMILIES", "CONVENTION_FAMILIES", "properties", "get", "applicable"]

FAMILIES = ("softmax", "temperature", "causality", "head_concat", "embedding", "value", "shapes", "agreement",
            "decode", "generation", "sdpa", "batch", "padding")
"""The families of the catalogue, in the order a report lists them. The last four need entry
points only a convention or a model family provides (:data:`CONVENTION_FAMILIES`)."""

CONVENTION_FAMILIES = tuple(f for f in FAMILIES
                            if all(set(p.needs) - set(SIGNATURES) for p in REGISTRY.values() if p.family == f))
"""The families whose properties call entry points (:data:`gptspec.verification.conventions.ENTRY_POINTS`)
a convention or a model family provides, not the spec's functions: read from what they need."""


def properties(family: str | None = None) -> list[Property]:
    """Every registered property (of one family), in registration order."""
    return [p for p in REGISTRY.values() if family is None or p.family == family]


def get(name: str) -> Property:
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"no property named {name!r}") from None


def applicable(impl: Any) -> list[Property]:
    """The properties whose needed functions ``impl`` provides."""
    return [p for p in properties() if p.applies_to(impl)]
