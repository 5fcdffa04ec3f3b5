"""Softmax with temperature, stable for any finite input."""

from __future__ import annotations

import numpy as np

from ..spec import ShapeError, implements, spec_error
from ..spec import signatures as S
from ..spec.types import AnyFloat
from . import validate


@implements(S.softmax)
def softmax(x: AnyFloat, temperature: float = 1.0, axis: int = -1) -> AnyFloat:
    """softmax(x / T)_i = exp((x_i − max x) / T) / Σ_j exp((x_j − max x) / T) along ``axis``.

    Subtracting the maximum first keeps every exponent ≤ 0, so no finite input overflows, and
    −inf entries get exactly 0. float16 is computed in float32 and returned as float16.
    """
    T = validate.softmax_temperature("softmax", temperature)
    if not -x.ndim <= axis < x.ndim:
        raise spec_error(ShapeError, "softmax", f"axis {axis} is out of range for x with {x.ndim} axes {x.shape}")
    if x.shape[axis] == 0:
        raise spec_error(ShapeError, "softmax", f"x axis {axis} has size 0: there is nothing to normalise")
    work = x.astype(np.float32) if x.dtype == np.float16 else x
    top = np.max(work, axis=axis, keepdims=True)
    validate.slice_maxima("softmax", top, axis)
    with np.errstate(over="ignore", under="ignore"):
        z = np.exp((work - top) / T)
    return (z / np.sum(z, axis=axis, keepdims=True)).astype(x.dtype, copy=False)
