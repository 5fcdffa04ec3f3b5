"""The right numbers in another shape: transposed, a column, an array for an int."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ...spec import SIGNATURES
from .base import Change, Namespace, cause

__all__ = ["TRANSPOSED", "AS_COLUMN", "AS_ARRAY"]


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


def _transposed(r: Any) -> Any | None:
    """The result's last two axes swapped; of a cached call's (ΔE, K, V) or (logits, cache), the first item's."""
    if isinstance(r, tuple) and r:
        first = _transposed(r[0])
        return None if first is None else (first, *r[1:])
    return np.swapaxes(r, -1, -2) if isinstance(r, np.ndarray) and r.ndim >= 2 else None


TRANSPOSED = cause("result-transposed", "the result is transposed (tokens as rows, the rows layout) where the spec "
                   "promises columns", tuple(SIGNATURES))(_reshaped(_transposed))
AS_COLUMN = cause("result-as-column", "the result is a column [n 1] where the spec promises a vector [n]",
                  tuple(SIGNATURES))(
    _reshaped(lambda r: r[:, None] if isinstance(r, np.ndarray) and r.ndim == 1 else None))
AS_ARRAY = cause("result-as-array", "the result is an array [1] where the spec promises an int", ("sample",))(
    _reshaped(lambda r: np.array([r]) if isinstance(r, (int, np.integer)) else None))
