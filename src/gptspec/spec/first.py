"""The "first" checks mode: the shape signature of a call, which decides whether it is checked.

In "first" mode a checked function checks only the first call with each shape signature: the
types, shapes and dtypes of the arrays (also inside weights containers), the types of float and
bool arguments, the values of int and str arguments, and the bound config. :func:`call_key` is
that signature, or None when a call cannot be keyed (and so is always checked).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import numpy as np

from .context import CONFIG

__all__ = ["call_key", "SEEN_MAX"]

SEEN_MAX = 4096
"""Signatures remembered per function before the memory starts over."""

_UNKEYED = object()
_TYPE_ONLY = (float, bool, np.float16, np.float32, np.float64, np.bool_, np.random.Generator)


def _shape_key(value: Any) -> Any:
    """What the checks of ``value`` depend on: an array's type, shape and dtype; a float's or bool's
    type; an int's or str's value; containers item by item. ``_UNKEYED`` for anything else."""
    kind: type = type(value)  # not type[Any]: mypy does not see that as Hashable for the lru_cache
    if kind is np.ndarray:
        return (value.shape, value.dtype)
    if isinstance(value, np.ndarray):  # shape-only arrays and other subclasses
        return (kind, value.shape, value.dtype)
    if kind in _TYPE_ONLY:
        return kind
    if kind is int or kind is str or value is None:
        return (kind, value)
    if isinstance(value, (tuple, list)):
        items = tuple(map(_shape_key, value))
    else:
        names = _field_names(kind)
        if names is None:
            return _UNKEYED
        items = tuple(_shape_key(getattr(value, name)) for name in names)
    return _UNKEYED if _UNKEYED in items else (kind, items)


@functools.lru_cache(maxsize=None)
def _field_names(kind: type) -> tuple[str, ...] | None:
    """The fields of a dataclass type (a weights container), or None for any other type.

    Names only, from the dataclass itself: keying needs no hints, and any dataclass can be keyed.
    """
    return tuple(f.name for f in dataclasses.fields(kind)) if dataclasses.is_dataclass(kind) else None


def call_key(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The shape signature of a call under the bound config, or None when it cannot be keyed."""
    key = _shape_key((args, sorted(kwargs.items())) if kwargs else args)
    return None if key is _UNKEYED else (CONFIG.get(), key)
