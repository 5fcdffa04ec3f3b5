"""Softmax: a distribution along its axis, blind to a shift, keeping order, finite for any finite x.

softmax(x)_i = exp(x_i) / Σ_j exp(x_j) along ``axis``; the properties call ``impl.softmax(x, 1.0, axis)``.

The ordinary domain (:mod:`.ordinary`): |x| up to 1e6; ``finite_for_finite_input`` searches up to the
dtype's limits, where a failure is fragile unless the same input scaled into the ordinary domain fails too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from . import expect
from .coded import integers
from .common import calls
from .ordinary import LOGITS_MAX, Scale, finite_size, overflow_cause, times
from .registry import prop
from .strategies import SoftmaxInput, softmax_inputs
from .tolerance import tolerance

NEEDS = ("softmax",)


def _at(case: SoftmaxInput, value: float) -> SoftmaxInput:
    now = finite_size(case.x)
    return SoftmaxInput(times(case.x, value / now if now > 0 else 1.0), case.axis)


SIZE = Scale("|x|", lambda case: finite_size(case.x), _at, high=LOGITS_MAX,
             cause=lambda case, holds, fails: overflow_cause(case.x.dtype, fails))
"""The ordinary domain (see .ordinary): |x| = the largest finite |x_i|, up to LOGITS_MAX; an example
moves along its scale by multiplying x (−∞ stays −∞)."""


def softmax_of(impl: Any, case: SoftmaxInput) -> np.ndarray:
    """impl.softmax(x, T = 1, axis), checked to have x's shape."""
    return _shaped(impl.softmax(case.x, 1.0, case.axis), case)


def _shaped(result: Any, case: SoftmaxInput) -> np.ndarray:
    return expect.shape(f"softmax(x of shape {case.x.shape}, axis={case.axis})", result, case.x.shape)


def _expect_sums_to_one(p: np.ndarray, case: SoftmaxInput) -> None:
    """Σ_i p_i = 1 along case.axis (summed in float64), within the dtype's normalisation tolerance."""
    total = np.sum(p.astype(np.float64), axis=case.axis)
    expect.close(f"Σ softmax(x) along axis {case.axis}", total, np.ones(total.shape),
                 tolerance(case.x.dtype).normalisation(case.x.shape[case.axis]))


@prop("softmax.non_negative", needs=NEEDS, statement="every softmax(x)_i >= 0",
      strategy=lambda: softmax_inputs(),
      scale=SIZE)
def non_negative(impl: Any, case: SoftmaxInput) -> None:
    expect.within("softmax(x)", softmax_of(impl, case), 0.0, np.inf)


@prop("softmax.sums_to_one", needs=NEEDS, statement="Σ_i softmax(x)_i = 1 along the given axis",
      strategy=lambda: softmax_inputs(),
      scale=SIZE)
def sums_to_one(impl: Any, case: SoftmaxInput) -> None:
    _expect_sums_to_one(softmax_of(impl, case), case)


@st.composite
def _shifted(draw: st.DrawFn) -> tuple[SoftmaxInput, float]:
    case = draw(softmax_inputs())
    return case, float(draw(integers(-8, 8))) * max(1.0, float(np.max(np.abs(case.x))))


def _shifted_size(example: tuple[SoftmaxInput, float]) -> float:
    case, c = example
    return max(finite_size(case.x), finite_size(case.x + case.x.dtype.type(c)))


def _shifted_at(example: tuple[SoftmaxInput, float], value: float) -> tuple[SoftmaxInput, float]:
    case, c = example
    now = _shifted_size(example)
    f = value / now if now > 0 else 1.0
    return SoftmaxInput(times(case.x, f), case.axis), c * f


@prop("softmax.shift_invariant", needs=NEEDS, statement="softmax(x + c) = softmax(x) for any constant c",
      strategy=_shifted,
      scale=Scale("|x|", _shifted_size, _shifted_at, high=LOGITS_MAX,
                  cause=lambda example, holds, fails: overflow_cause(example[0].x.dtype, fails)))
def shift_invariant(impl: Any, example: tuple[SoftmaxInput, float]) -> None:
    case, c = example
    shifted = SoftmaxInput((case.x + case.x.dtype.type(c)).astype(case.x.dtype), case.axis)
    made = calls(impl, ("softmax", (case.x, 1.0, case.axis)), ("softmax", (shifted.x, 1.0, shifted.axis)))
    p = _shaped(made[0], case)
    q = _shaped(made[1], shifted)
    size = float(np.max(np.abs(shifted.x))) + float(np.max(np.abs(case.x)))
    expect.close(f"softmax(x + {c:g})", q, p, tolerance(case.x.dtype).logits_shift(size))


def _pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (i, j) of positions 0..n−1, as two index arrays."""
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    return i.ravel(), j.ravel()


@prop("softmax.keeps_order", needs=NEEDS,
      statement="x_i < x_j ⇒ softmax(x)_i <= softmax(x)_j, and x_i = x_j ⇒ equal probabilities",
      strategy=lambda: softmax_inputs(),
      scale=SIZE)
def keeps_order(impl: Any, case: SoftmaxInput) -> None:
    p = np.moveaxis(softmax_of(impl, case), case.axis, -1)
    x = np.moveaxis(case.x, case.axis, -1)
    i, j = _pairs(case.x.shape[case.axis])
    xi, xj, pi, pj = x[..., i], x[..., j], p[..., i], p[..., j]
    wrong = ((xi < xj) & ~(pi <= pj)) | ((xi == xj) & ~(pi == pj))
    if wrong.any():
        w = tuple(int(v) for v in np.argwhere(wrong)[0])
        a, b = int(i[w[-1]]), int(j[w[-1]])
        raise expect.fail(
            f"softmax along axis {case.axis} (x of shape {case.x.shape}): x[{a}] = {expect.fmt(xi[w])} "
            f"{'<' if xi[w] < xj[w] else '='} x[{b}] = {expect.fmt(xj[w])}, so expected p[{a}] "
            f"{'<=' if xi[w] < xj[w] else '='} p[{b}], got {expect.fmt(pi[w])} and {expect.fmt(pj[w])}"
        )


@prop("softmax.finite_for_finite_input", needs=NEEDS,
      statement="for any finite x (up to the dtype's limits) softmax(x) is finite, in [0, 1], and sums to 1",
      strategy=lambda: softmax_inputs(any_finite=True),
      scale=SIZE)
def finite_for_finite_input(impl: Any, case: SoftmaxInput) -> None:
    p = softmax_of(impl, case)
    expect.within("softmax(x)", p, 0.0, 1.0,
                  note=f"max |x| = {expect.fmt(np.max(np.abs(case.x)))}, dtype {case.x.dtype}")
    _expect_sums_to_one(p, case)


@prop("softmax.neg_inf_gets_zero", needs=NEEDS,
      statement="an entry x_i = −∞ gets probability exactly 0 (the rest of its slice still sums to 1)",
      strategy=lambda: softmax_inputs(neg_inf=True),
      scale=SIZE)
def neg_inf_gets_zero(impl: Any, case: SoftmaxInput) -> None:
    p = softmax_of(impl, case)
    holes = np.isneginf(case.x)
    expect.equal(f"softmax(x) where x = −∞ ({int(holes.sum())} such entries)", np.where(holes, p, 0.0),
                 np.zeros(p.shape))
    _expect_sums_to_one(p, case)
