"""What more than one family of properties uses: the softmax definition, whole-model examples and
their tolerance, and arguments as a message shows them.

Families import these from here, never from one another.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from .strategies import UNIT, Model, models
from .tolerance import tolerance

__all__ = ["plain_softmax", "model_prefixes", "model_tolerance", "describe", "repeated"]


def repeated(impl: Any, name: str, times: int, *args: Any) -> list[Any]:
    """``[impl.name(*args) for _ in range(times)]``, in one request where ``impl`` can batch calls
    (a target in its own process: ``Remote.repeat``), else one call after another."""
    batch = getattr(impl, "repeat", None)
    if callable(batch):
        return list(batch(name, times, *args))
    fn = getattr(impl, name)
    return [fn(*args) for _ in range(times)]


def plain_softmax(x: np.ndarray, T: float = 1.0) -> np.ndarray:
    """exp((x − max x) / T) / Σ exp((x − max x) / T), in float64: the definition, not an implementation."""
    s = (x.astype(np.float64) - np.max(x)) / T
    z = np.exp(np.where(np.isnan(s), 0.0, s))  # (max − max) / 5e-324 is 0, never NaN
    return z / z.sum()


@st.composite
def model_prefixes(draw: st.DrawFn) -> tuple[Model, int]:
    """A unit-scale float64 model and a prefix length p < ctx.

    float64 only: a near-constant column's layer norm divides by √(1e-5) and so amplifies float32
    rounding (different for different shapes) by up to 316× per layer, beyond a useful tolerance.
    """
    m = draw(models(dtype=np.dtype(np.float64), magnitude=UNIT, min_ctx=2))
    return m, draw(st.integers(1, m.tokens.shape[0] - 1))


def model_tolerance(m: Model, logits: np.ndarray) -> float:
    """float64 only: rtol times the largest logit the final layer norm and W_U allow."""
    w = m.weights
    bound = np.abs(w.W_U) @ (np.sqrt(m.config.d_model) * np.abs(w.lnf_gain) + np.abs(w.lnf_bias))
    return float(tolerance(np.float64).of(np.max(bound) + np.max(np.abs(logits))))


def describe(args: tuple[Any, ...]) -> str:
    """Arguments as shapes and scalars: "(2, 3), (3, 4), 0.5, Generator"."""

    def one(a: Any) -> str:
        if hasattr(a, "shape"):
            return str(tuple(a.shape))
        return repr(a) if isinstance(a, (bool, int, float)) else type(a).__name__

    return ", ".join(map(one, args))
