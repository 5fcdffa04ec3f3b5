"""What more than one family of properties uses: the softmax definition, whole-model examples and
their tolerance, and arguments as a message shows them.

Families import these from here, never from one another.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from .coded import integers
from .strategies import UNIT, Model, MultiHead, models
from .tolerance import head_tolerance, tolerance

__all__ = [
    "plain_softmax", "agreeing", "first_column_off", "model_prefixes", "model_tolerance", "heads_tolerance",
    "describe", "repeated", "calls", "Calls",
]


def repeated(impl: Any, name: str, times: int, *args: Any) -> list[Any]:
    """``[impl.name(*args) for _ in range(times)]``, in one request where ``impl`` can batch calls
    (a target in its own process: ``Remote.repeat``), else one call after another."""
    batch = getattr(impl, "repeat", None)
    if callable(batch):
        return list(batch(name, times, *args))
    fn = getattr(impl, name)
    return [fn(*args) for _ in range(times)]


class Calls:
    """The results of several target calls made one after another, read in the order they were
    made: ``calls[i]`` is call i's result, or raises what call i raised (and a call after one that
    raised is not made), exactly as the loop of calls would have."""

    def __init__(self, impl: Any, requests: list[tuple[str, tuple[Any, ...]]]) -> None:
        self._impl, self._requests = impl, requests
        batch = getattr(impl, "calls", None)  # a target in its own process: one request for them all
        self._outcomes: list[Any] | None = list(batch(requests)) if callable(batch) else None
        self._made: list[Any] = []

    def __len__(self) -> int:
        return len(self._requests)

    def __getitem__(self, i: int) -> Any:
        if self._outcomes is not None:  # what the target's process reported for each call
            outcome = self._outcomes[i] if i < len(self._outcomes) else None
            if outcome is None:
                raise IndexError(f"call {i} was not made: an earlier call raised (read the results in order)")
            if isinstance(outcome, BaseException):
                raise outcome
            return outcome.value
        while len(self._made) <= i:  # in this process: call when first read, in order
            name, args = self._requests[len(self._made)]
            self._made.append(getattr(self._impl, name)(*args))
        return self._made[i]

    def __iter__(self) -> Any:
        return (self[i] for i in range(len(self)))


def calls(impl: Any, *requests: tuple[str, tuple[Any, ...]]) -> Calls:
    """``impl.name(*args)`` for each ``(name, args)``, one after another, in one round trip to a
    target in its own process (:meth:`..verification.isolation.Remote.calls`) instead of one
    each; read the results in order (see :class:`Calls`)."""
    return Calls(impl, list(requests))


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
    return m, draw(integers(1, m.tokens.shape[0] - 1))


def model_tolerance(m: Model, logits: np.ndarray) -> float:
    """float64 only: rtol times the largest logit the final layer norm and W_U allow."""
    w = m.weights
    bound = np.abs(w.W_U) @ (np.sqrt(m.config.d_model) * np.abs(w.lnf_gain) + np.abs(w.lnf_bias))
    return float(tolerance(np.float64).of(np.max(bound) + np.max(np.abs(logits))))


def first_column_off(got: np.ndarray, want: np.ndarray, tol: Any) -> int | None:
    """The first column (last axis) where some entry is more than ``tol`` off (NaN is off), or None."""
    bad = ~(np.abs(np.asarray(got).astype(np.float64) - want) <= tol)
    off = np.flatnonzero(bad.reshape(-1, bad.shape[-1]).any(axis=0))
    return int(off[0]) if off.size else None


def agreeing(j: int, what: str = "position") -> str:
    """What agrees before the first column ``j`` that is off: '', '; position 0 agrees', '; positions 0–3 agree'."""
    return "" if j == 0 else f"; {what} 0 agrees" if j == 1 else f"; {what}s 0–{j - 1} agree"


def heads_tolerance(h: MultiHead) -> float:
    """Σ over heads of each head's tolerance: the sum adds their rounding."""
    return sum(head_tolerance(h.E, h.E, *h.head(i).args[1:]) for i in range(h.W_Q.shape[0]))


def describe(args: tuple[Any, ...]) -> str:
    """Arguments as shapes and scalars: "(2, 3), (3, 4), 0.5, Generator"."""

    def one(a: Any) -> str:
        if hasattr(a, "shape"):
            return str(tuple(a.shape))
        return repr(a) if isinstance(a, (bool, int, float)) else type(a).__name__

    return ", ".join(map(one, args))
