"""Differential diagnosis: which known mistake makes the reference agree with a failing target.

When a property fails, :func:`diagnose` takes the spec functions it needs and, for each, a set
of cases (:mod:`.evidence`): the calls the property made of the target on its counterexample
(replayed through a recorder), ``NEIGHBOURS`` variants of the first of them the reference gets
wrong (its scalars and shapes held, its float arrays redrawn) and ``EXAMPLES`` further arguments
drawn for that function (:func:`gptspec.properties.strategies.arguments`, seeded with the run's
seed, inside the declared domain), each with the target's answer. Then every cause of :mod:`gptspec.properties.causes`
that concerns the function builds its changed reference (a numeric one fitted first on the
cases the plain reference gets wrong) and is compared with the target on every case, within the
agreement tolerance (:mod:`gptspec.properties.agreement`):

    likely cause = the change that agrees on every case, where the plain reference does not

(of several, the best-fitting; ties go to the catalogue's order). Nothing is named when the
plain reference agrees on every case (the failure is not in these values) or when no change
agrees on all of them, so correct code never gets a cause. No clock decides anything: the same
seed gives the same cases, fits and cause, and a verdict depends on nothing another property did
(so not on ``--jobs`` nor on the order the properties ran in): a numeric cause is fitted on the
drawn cases the plain reference gets wrong, which every property failing on one function shares
(one value for one mistake), and only where none is wrong on the counterexample's own calls. The
target's answers on the drawn cases and the fits on them are kept per target, function and seed:
a cache that saves time (the properties failing on one function pay for them once per worker) but
holds only what the same call would compute again.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from ..properties.causes import CAUSES, Cause, changed
from ..properties.registry import Property
from .evidence import DIAGNOSED, EXAMPLES, PLAIN, Case, distance, drawn, neighbours, probes, record
from .report import Diagnosis

__all__ = ["EXAMPLES", "Case", "Diagnosis", "diagnose", "diagnose_into", "record", "drawn", "distance", "fit"]

FIT_CASES = 3
"""Cases (the first the plain reference gets wrong) a numeric cause is fitted on."""

GRID = 0.5
"""Step of the fit's first search, in decades; a golden-section search then refines the best."""

REFINE = 30

FALLBACK = ("attention_pattern", "attention_head", "multi_head_attention")
"""What a convention's own entry points (a kernel) are diagnosed through: the spec's functions built on them."""

_FITTED: dict[tuple[int, str, int, int, str], tuple[Any, float | None]] = {}
"""A numeric cause's value fitted on a function's drawn cases (a function of the target, function, seed
and count alone: the same for every property that fails on the function)."""


def _worst(cases: Sequence[Case], reference: Any, stop: float = math.inf) -> float:
    """The largest distance over ``cases`` (once past ``stop``, the first distance past it)."""
    worst = 0.0
    for case in cases:
        worst = max(worst, distance(case, reference))
        if worst >= stop or worst == math.inf:
            break
    return worst


def _rounded(value: float, digits: int) -> float:
    return float(f"{value:.{digits - 1}e}")


def fit(c: Cause, function: str, cases: Sequence[Case]) -> float | None:
    """The value of numeric cause ``c`` that brings its reference nearest the target on ``cases``
    (grid in decades, then golden section on log p; then the shortest rounding that still agrees)."""
    assert c.fit is not None
    sign = c.fit.sign

    def off(log_p: float, stop: float = math.inf) -> float:
        return _worst(cases, changed(c, function, 10.0 ** log_p), stop)

    low, high = math.log10(c.fit.low), math.log10(c.fit.high)
    grid = [low + GRID * i for i in range(int((high - low) / GRID) + 1)]
    scores: list[float] = []
    for x in grid:  # a value worse than the best so far need not be measured to its end
        scores.append(off(x, min(scores, default=math.inf)))
    best = min(range(len(grid)), key=lambda i: scores[i])
    if not math.isfinite(scores[best]):
        return None
    a, b = max(low, grid[best] - GRID), min(high, grid[best] + GRID)
    ratio = (math.sqrt(5) - 1) / 2
    x1, x2 = b - ratio * (b - a), a + ratio * (b - a)
    f1, f2 = off(x1), off(x2)
    for _ in range(REFINE):
        if f1 <= f2:
            b, x2, f2 = x2, x1, f1
            x1 = b - ratio * (b - a)
            f1 = off(x1)
        else:
            a, x1, f1 = x1, x2, f2
            x2 = a + ratio * (b - a)
            f2 = off(x2)
    x, fx = (x1, f1) if f1 <= f2 else (x2, f2)
    if fx > scores[best]:
        x, fx = grid[best], scores[best]
    p = 10.0 ** x
    # one value for one mistake, whichever counterexample it was fitted on: the shortest that agrees,
    # a power of ten first (the constants people write: −1e4, −1e9, 1e-5)
    shortest = [10.0 ** math.floor(x), 10.0 ** math.ceil(x), *(_rounded(p, d) for d in (1, 2, 3))]
    for short in sorted(shortest[:2], key=lambda v: abs(math.log10(v) - x)) + shortest[2:]:
        if _worst(cases, changed(c, function, short), 1.0) <= 1:
            return sign * short
    return sign * p if fx <= 1 else None


def _try(c: Cause, function: str, off: list[Case], rest: list[Case], fitted: Callable[[Cause], float | None],
         probed: Callable[[], list[Case]]) -> tuple[float, float | None] | None:
    """(worst distance, fitted value) when ``c`` agrees on every case (and the probes), else None."""
    value: float | None = None
    if c.fit is not None:
        off = off + probed()
        value = fitted(c)
        if value is None:
            return None
    reference = changed(c, function, None if value is None else abs(value))
    worst = _worst(off, reference, 1.0)
    if worst > 1:
        return None
    worst = max(worst, _worst(rest, reference, 1.0))
    return (worst, value) if worst <= 1 else None


def _functions(prop: Property, impl: Any) -> list[str]:
    named = [n for n in prop.needs if n in DIAGNOSED]
    return named or [n for n in FALLBACK if callable(getattr(impl, n, None))]


def diagnose(prop: Property, impl: Any, example: Any, seed: int, n: int | None = None,
             causes: Sequence[Cause] = CAUSES) -> Diagnosis | None:
    """The likely cause of ``prop``'s failure on ``example``, or None (see the module's docstring);
    ``n`` drawn examples per function (None: :data:`EXAMPLES`, read at the call)."""
    n = EXAMPLES if n is None else n
    recorded = record(prop, impl, example)
    for function in _functions(prop, impl):
        cases = [c for c in recorded if c.function == function] + drawn(impl, function, seed, n, prop)
        plain = [distance(c, PLAIN) for c in cases]
        first = next((c for c, d in zip(cases, plain) if d > 1 and c.source == "counterexample"), None)
        if first is not None:
            near = neighbours(impl, first, seed)
            cases, plain = cases + near, plain + [distance(c, PLAIN) for c in near]
        off = [c for c, d in zip(cases, plain) if d > 1]
        if not off:
            continue
        rest = [c for c, d in zip(cases, plain) if d <= 1]
        # what a number is fitted on: the drawn cases the reference gets wrong (shared by every property
        # failing on this function: one value for one mistake), else the counterexample's own calls
        basis = [c for c in off if c.source == "drawn"] or off
        shared = basis[0].source == "drawn"
        kept: list[list[Case]] = []

        def probed() -> list[Case]:
            if not kept:
                kept.append(probes(impl, basis[0]))
            return kept[0]

        def fitted(c: Cause) -> float | None:
            key = (id(impl), function, seed, n, c.name)
            if shared and key in _FITTED and _FITTED[key][0] is impl:
                return _FITTED[key][1]
            value = fit(c, function, basis[:FIT_CASES] + probed())
            if shared:
                _FITTED[key] = (impl, value)
            return value

        found: list[tuple[float, int, Cause, float | None]] = []
        concerned = [(order, c) for order, c in enumerate(causes) if function in c.functions]
        for numeric in (False, True):  # a fitted number only where no plain change explains it
            for order, c in concerned:
                if (c.fit is not None) == numeric and (agreed := _try(c, function, off, rest, fitted, probed)):
                    found.append((agreed[0], order, c, agreed[1]))
            if found:
                break
        if not found:
            continue
        found.sort(key=lambda f: (f[0], f[1]))
        _, _, best, value = found[0]
        from_counterexample = sum(c.source == "counterexample" for c in cases)
        return Diagnosis(
            name=best.name, sentence=best.text(value), function=function, value=value,
            agrees=len(cases), examples=len(cases), counterexample_calls=from_counterexample,
            reference_disagrees=len(off), also=[f[2].name for f in found[1:]],
        )
    return None


def diagnose_into(result: Any, prop: Property, impl: Any, example: Any, seed: int,
                  on: Callable[[], bool] | None = None) -> None:
    """Attach the likely cause to a failed or fragile ``result`` (nothing when none is found, or
    when diagnosing itself fails: a diagnosis never changes a verdict)."""
    if result.failure is None or result.status not in ("failed", "fragile") or example is None:
        return
    try:
        result.failure.cause = diagnose(prop, impl, example, seed)
    except Exception:  # noqa: BLE001 - no cause rather than no verdict
        result.failure.cause = None
