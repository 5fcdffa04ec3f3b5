"""Failed or fragile: where a property's shrunk counterexample lies, and where along its scale it starts to fail.

A search ends with a shrunk counterexample. If the property declares the quantity that decides
whether an example is ordinary (:mod:`gptspec.properties.ordinary`) and the counterexample lies
beyond the ordinary domain, :func:`assess` asks two things of the same example moved along its
own scale (scores scaled by scaling Q and K, logits scaled, T set):

1. **Does it pass everywhere inside the ordinary domain?** It is tried at the ordinary bound and
   at two points further in (1e3 and 1e6 times smaller for |scores| ≤ 1e6; the middle and the
   far end of a bounded range such as 0.01 ≤ T ≤ 2). If any of them fails — or cannot be
   checked — the property **failed**: fragile is never said of what fails ordinary inputs.
   Hypothesis shrinks magnitudes towards unit, so a counterexample still beyond the ordinary
   domain after shrinking is itself evidence that nothing smaller failed; these checks make sure.
2. **Where does it start to fail?** Bisection on the logarithm of the quantity between the bound
   (passes) and the counterexample (fails), ``BISECTIONS`` steps: the onset is the last passing
   and the first failing value found, as measured on the moved examples (``Onset``), with a
   likely cause where the property's declaration names one.

The cost is fixed and small — at most ``EVALUATIONS`` (23) runs of the property, and only for a
failure beyond the ordinary domain — and no clock is read, so a seed still reproduces a verdict.
Failures the target crashed or hung on (not shrunk) are not assessed: each try would cost a
restart. A target that *raises* beyond the ordinary domain only (e.g. ``rng.choice`` refusing the
NaN probabilities of ``softmax(logits / 5e-324)``) is fragile like a wrong value.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from hypothesis.errors import UnsatisfiedAssumption

from ..properties.ordinary import Scale, short
from ..properties.registry import Property
from .isolation import RAISED_OR_FAULT
from .report import Onset, PropertyResult

__all__ = ["ORDINARY_CHECKS", "BISECTIONS", "EVALUATIONS", "Assessment", "assess", "judge"]

ORDINARY_CHECKS = 3
"""Points inside the ordinary domain the moved counterexample must pass at."""

BISECTIONS = 20
"""Bisection steps on log(quantity): 1e6 … 1e13 resolved to 2e-5 relative, 0.01 … 5e-324 to 1e-3."""

EVALUATIONS = ORDINARY_CHECKS + BISECTIONS
"""Most runs of the property one assessment costs."""

INSIDE = 1 - 1e-3
"""How far inside the bound the first ordinary check sits (rounding a moved example must not cross it)."""

ASSESSED_KINDS = ("does not hold", "raised")


@dataclasses.dataclass
class Assessment:
    """What the search along the counterexample's scale found."""

    fragile: bool
    onset: Onset | None
    note: str
    evaluations: int


def _fails(prop: Property, impl: Any, example: Any) -> bool | None:
    """Whether ``prop`` fails on ``example`` (None: the example is outside the property's assumptions)."""
    try:
        prop.check(impl, example)
    except UnsatisfiedAssumption:
        return None
    except RAISED_OR_FAULT:  # a PropertyFailure, or what the target raised, crashed or hung with
        return True
    return False


def _ordinary_points(scale: Scale, above: bool) -> list[float]:
    """Where the moved counterexample must pass: the bound (just inside), then further in."""
    if above:
        first = scale.high * INSIDE
        if scale.low > 0:
            return [first, math.sqrt(scale.low * scale.high), scale.low]
        return [first * 10.0 ** (-3 * k) for k in range(ORDINARY_CHECKS)]
    first = scale.low / INSIDE
    if math.isfinite(scale.high):
        return [first, math.sqrt(scale.low * scale.high), scale.high]
    return [first * 10.0 ** (3 * k) for k in range(ORDINARY_CHECKS)]


def assess(prop: Property, impl: Any, example: Any) -> Assessment | None:
    """Fragile or failed, for a failure of ``prop`` on ``example``; None when there is nothing to
    assess (no declared quantity, or the example is ordinary: it failed)."""
    scale = prop.scale
    if scale is None:
        return None
    try:
        now = float(scale.measure(example))
    except Exception:  # noqa: BLE001 - a quantity that cannot be measured decides nothing
        return None
    if not (math.isfinite(now) and now > 0) or scale.ordinary(now):  # an ordinary example failed: failed
        return None
    above = now > scale.high
    evaluations = 0
    checked = []
    for value in _ordinary_points(scale, above):
        moved = scale.at(example, value)
        measured = float(scale.measure(moved))
        evaluations += 1
        verdict = _fails(prop, impl, moved) if scale.ordinary(measured) else None
        if verdict is not False:
            what = "fails" if verdict else "cannot be checked"
            return Assessment(False, None, f"the counterexample {what} when moved inside the ordinary domain "
                              f"({scale.bounds}) to {scale.quantity} = {short(measured)}: a failure on ordinary input",
                              evaluations)
        checked.append(measured)
    passes, fails = math.log(checked[0]), math.log(now)
    for _ in range(BISECTIONS):
        middle = (passes + fails) / 2
        evaluations += 1
        if _fails(prop, impl, scale.at(example, math.exp(middle))):
            fails = middle
        else:
            passes = middle
    holds = float(scale.measure(scale.at(example, math.exp(passes))))
    fails_from = now if fails == math.log(now) else float(scale.measure(scale.at(example, math.exp(fails))))
    try:
        cause = scale.cause(example, holds, fails_from)
    except Exception:  # noqa: BLE001 - a guess that cannot be made is no guess
        cause = None
    onset = Onset(scale.quantity, holds, fails_from, cause, below=not above)
    shown = ", ".join(short(v) for v in checked)
    note = (f"fragile, not failed: the counterexample lies beyond the ordinary domain ({scale.bounds}); moved along "
            f"its scale it passes at {scale.quantity} = {shown} and fails from the onset on ({evaluations} runs)")
    return Assessment(True, onset, note, evaluations)


def judge(result: PropertyResult, prop: Property, impl: Any, example: Any) -> None:
    """Turn a failed (or target-raised) ``result`` into a fragile one when :func:`assess` says so."""
    if result.failure is None or result.failure.kind not in ASSESSED_KINDS or result.status not in ("failed", "error"):
        return
    assessment = assess(prop, impl, example)
    if assessment is None:
        return
    result.notes.append(assessment.note)
    if assessment.fragile:
        result.status = "fragile"
        result.onset = assessment.onset
