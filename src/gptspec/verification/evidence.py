"""The evidence a diagnosis is read from: the target's answers, each a :class:`Case`.

For a failing property and one spec function it needs, the cases are the calls the property made
of the target on its counterexample (:func:`record`, through a recorder), :data:`NEIGHBOURS`
variants of the first of them the reference gets wrong (:func:`neighbours`: its scalars and shapes
held, its float arrays redrawn), and :data:`EXAMPLES` arguments drawn for the function as its
agreement property draws them (:func:`drawn`, seeded, kept per target, function and seed); a
numeric cause is pinned with :func:`probes` (one case's float array at many scales).
:func:`distance` says how far a reference is from the target on a case, in tolerances.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import math
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from ..properties import domain as domains
from ..properties.agreement import CONDITIONING, _dtype_of, widened
from ..properties.causes import GENERATE, RULE, derive
from ..properties.generation import DRAWS, follows, spec_rule
from ..properties.registry import Property
from ..properties.strategies import arguments
from ..properties.tolerance import tolerance
from ..spec import SIGNATURES
from ..target import SPEC_NAMES
from . import unmodified
from .prng import fixed_constants

__all__ = ["EXAMPLES", "NEIGHBOURS", "PROBES", "DIAGNOSED", "Case", "distance", "record", "drawn", "neighbours",
           "probes", "PLAIN"]

EXAMPLES = 50
"""Drawn examples per function a cause must agree on, beside the counterexample's calls."""

PROBES = tuple(10.0 ** k for k in range(-8, 9))
"""Factors the first wrong case's first float array is scaled by to pin a numeric cause: a plateau of
one case (a mask constant anywhere below the scores) is a point across the scales."""

NEIGHBOURS = 8
"""Examples like the counterexample a cause must also agree on: the first of its calls the reference gets
wrong, with its other arguments (a temperature of 0, a causal flag, the shapes) held and its float arrays
redrawn. Where only the counterexample tells a mistake from a chance agreement (a near-tie at T = 0, which
any draw matches), the drawn examples of the whole domain seldom reach that corner; these do."""


@dataclasses.dataclass(eq=False)
class Case:
    """One call of the target: its arguments (as they were before the call) and its answer."""

    function: str
    args: tuple[Any, ...]
    got: Any
    source: str  # "counterexample", "neighbour", "drawn" or "probe"
    wrote: tuple[str, ...] = ()  # the read-only arguments (the KV cache) the call wrote into
    _own_error: float | None = None

    def own_error(self) -> float:
        """How far the plain reference is from itself in a wider float on these arguments."""
        if self._own_error is None:
            try:
                ref = getattr(PLAIN, self.function)
                narrow = np.asarray(ref(*_fresh(self.args)), dtype=np.float64)
                wide = np.asarray(ref(*widened(_fresh(self.args))), dtype=np.float64)
                with np.errstate(all="ignore"):
                    self._own_error = float(np.nanmax(np.abs(narrow - wide), initial=0.0))
            except Exception:  # noqa: BLE001 - no wider reference here: no allowance for it
                self._own_error = 0.0
            if not math.isfinite(self._own_error):
                self._own_error = 0.0
        return self._own_error


PLAIN = derive("reference")

DIAGNOSED = (*SPEC_NAMES, *GENERATE)
"""The functions a diagnosis replays: the spec's, and a model family's generate."""


def _fresh(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """A copy of the arguments for one call (a Generator starts from the same state each time)."""
    return copy.deepcopy(args)


def _written(function: str, before: tuple[Any, ...], after: tuple[Any, ...]) -> tuple[str, ...]:
    return unmodified.written(_NAMES.get(function, ()), before, after)


_NAMES = {name: tuple(inspect.signature(sig).parameters) for name, sig in SIGNATURES.items()}


def distance(case: Case, reference: Any) -> float:
    """max |got − want| / tolerance over the entries (≤ 1: they agree; inf: another shape or kind, or
    the two calls wrote into different arguments); of generate, which draws, 0 where its tokens can come
    from the reference's draw rule, else inf."""
    if case.function == "generate":
        rule = getattr(reference, RULE, spec_rule)
        return 0.0 if follows(case.args, case.got, rule) else math.inf
    args = _fresh(case.args)
    try:
        with np.errstate(all="ignore"):
            want = getattr(reference, case.function)(*args)
    except Exception:  # noqa: BLE001 - the changed reference refuses what the target answered
        return math.inf
    if _written(case.function, case.args, args) != case.wrote:
        return math.inf
    return _apart(want, case.got, case)


def _apart(want: Any, got: Any, case: Case) -> float:
    """:func:`distance` of one answer: the largest over the leaves of a structured one (a cached
    call's (ΔE, K, V), a cache of (K, V) pairs)."""
    if isinstance(want, (tuple, list)) or isinstance(got, (tuple, list)):
        if not (isinstance(want, (tuple, list)) and isinstance(got, (tuple, list))) or len(want) != len(got):
            return math.inf
        return max((_apart(w, g, case) for w, g in zip(want, got)), default=0.0)
    if isinstance(want, (bool, int, np.integer)) or isinstance(got, (bool, int, np.integer)):
        same = type(np.asarray(want).dtype.kind) is type(np.asarray(got).dtype.kind) and np.shape(want) == np.shape(got)
        return 0.0 if same and np.array_equal(np.asarray(want), np.asarray(got)) else math.inf
    w, g = np.asarray(want), np.asarray(got)
    if w.shape != g.shape or w.dtype.kind != g.dtype.kind and "f" not in (w.dtype.kind, g.dtype.kind):
        return math.inf
    if w.dtype.kind != "f":
        return 0.0 if np.array_equal(w, g) else math.inf
    w64, g64 = w.astype(np.float64), g.astype(np.float64)
    with np.errstate(all="ignore"):
        same = (w64 == g64) | (np.isnan(w64) & np.isnan(g64))  # equal infinities, NaN where NaN
        diff = np.where(same, 0.0, np.abs(g64 - w64))
        diff = np.where(np.isnan(diff), np.inf, diff)
    finite = np.abs(w64[np.isfinite(w64)])
    tol = tolerance(_dtype_of(case.args)).of(float(np.max(finite, initial=0.0))) + CONDITIONING * case.own_error()
    with np.errstate(over="ignore"):  # a tolerance near 0 beside a large difference: inf, not a warning
        return float(np.max(diff, initial=0.0) / tol)




class _Recorder:
    """The target as a property sees it, keeping a copy of each spec function's call and answer."""

    def __init__(self, impl: Any) -> None:
        self._impl = impl
        self.cases: list[Case] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._impl, name)
        if name in DIAGNOSED and callable(attr):
            def recorded(*args: Any) -> Any:
                before = _fresh(args)
                result = attr(*args)
                wrote = _written(name, before, args)
                self.cases.append(Case(name, before, copy.deepcopy(result), "counterexample", wrote))
                return result

            return recorded
        if name == "calls" and callable(attr):
            def batch(requests: list[tuple[str, tuple[Any, ...]]]) -> list[Any]:
                before = [(n, _fresh(tuple(a))) for n, a in requests]
                outcomes = attr(requests)
                for (n, a), outcome in zip(before, outcomes):
                    if n in DIAGNOSED and not isinstance(outcome, BaseException):
                        self.cases.append(Case(n, a, copy.deepcopy(outcome.value), "counterexample"))
                return list(outcomes)

            return batch
        return attr


def record(prop: Property, impl: Any, example: Any) -> list[Case]:
    """The calls ``prop`` makes of ``impl`` on ``example``, each with the target's answer."""
    recorder = _Recorder(impl)
    try:
        prop.check(recorder, copy.deepcopy(example))
    except Exception:  # noqa: BLE001 - the failure itself; the calls made up to it are recorded
        pass
    return recorder.cases


def _draw(function: str, seed: int, n: int, prop: Property | None = None) -> list[tuple[Any, ...]]:
    """``n`` argument tuples for ``function``, drawn as the agreement property draws them, seeded
    (generate's, which has no agreement property, as ``prop`` draws its examples)."""
    found: list[tuple[Any, ...]] = []
    if function == "generate":
        strategy = prop.strategy().map(lambda g: g.call()) if prop is not None else st.nothing()
    else:
        strategy = arguments(SIGNATURES[function])

    @settings(max_examples=n, database=None, deadline=None, phases=[Phase.generate], derandomize=False,
              suppress_health_check=list(HealthCheck))
    @hypothesis_seed(seed)
    @given(strategy)
    def collect(args: tuple[Any, ...]) -> None:
        found.append(_fresh(args))

    with fixed_constants():  # the same examples whatever the process imported: see .prng
        collect()
    return found[:n]


def _answers(impl: Any, function: str, drawn_args: list[tuple[Any, ...]], source: str = "drawn") -> list[Case]:
    """The target's answer on each drawn argument tuple (one request for them all where it batches
    calls); a call that raised is no case, a crash or hang ends the drawing."""
    cases: list[Case] = []
    batch = getattr(impl, "calls", None)
    start = 0
    while start < len(drawn_args):
        rest = drawn_args[start:]
        if callable(batch):
            outcomes = list(batch([(function, _fresh(a)) for a in rest]))
        else:
            outcomes = []
            for a in rest:
                try:
                    given = _fresh(a)
                    value = getattr(impl, function)(*given)
                    outcomes.append(_Answer(value, _written(function, a, given)))
                except Exception as exc:  # noqa: BLE001 - read like a batch's raised call
                    outcomes.append(exc)
                    break
        for a, outcome in zip(rest, outcomes):
            if isinstance(outcome, BaseException):
                break
            cases.append(Case(function, a, outcome.value, source, getattr(outcome, "wrote", ())))
        if not outcomes or not isinstance(outcomes[-1], BaseException):
            break
        if not isinstance(outcomes[-1], Exception):  # crashed or hung: no more calls
            break
        start += len(outcomes)
    return cases


@dataclasses.dataclass(frozen=True)
class _Answer:
    value: Any
    wrote: tuple[str, ...] = ()


_DRAWN: dict[tuple[Any, ...], tuple[Any, list[Case]]] = {}

def drawn(impl: Any, function: str, seed: int, n: int = EXAMPLES, prop: Property | None = None) -> list[Case]:
    """The target's answers on ``n`` drawn arguments of ``function`` (kept per target, function and seed;
    generate's per property too: each draws its own examples; and per declared domain, which the draws
    stay inside, so examples drawn in one scope never serve another)."""
    key = (id(impl), function if function != "generate" or prop is None else f"generate {prop.name}", seed, n,
           domains.current().domain)
    kept = _DRAWN.get(key)
    if kept is None or kept[0] is not impl:
        kept = (impl, _answers(impl, function, _draw(function, seed, n, prop)))
        _DRAWN[key] = kept
    return kept[1]



def _float_arrays(args: tuple[Any, ...]) -> list[int]:
    """Where ``args`` holds float arrays."""
    return [i for i, a in enumerate(args) if isinstance(a, np.ndarray) and a.dtype.kind == "f"]


def probes(impl: Any, case: Case) -> list[Case]:
    """The target's answers on ``case`` with its first float array scaled by each of :data:`PROBES`."""
    where = next(iter(_float_arrays(case.args)), None)
    if where is None:
        return []
    scaled = []
    for factor in PROBES:
        args = list(_fresh(case.args))
        with np.errstate(all="ignore"):
            args[where] = (args[where] * factor).astype(args[where].dtype)
        scaled.append(tuple(args))
    return _answers(impl, case.function, scaled, "probe")


def neighbours(impl: Any, case: Case, seed: int, n: int | None = None) -> list[Case]:
    """The target's answers on ``n`` variants of ``case``: every float array redrawn, standard normal times
    max(1, its largest finite |entry|), its non-finite entries (a masked −inf) kept where they were; the
    other arguments as they were. Seeded by ``seed``. Of generate, which has no float array: one call of
    :data:`DRAWS` continuations of one new token from the same prompt, T and top_k (a deterministic pick
    then shows as one token drawn every time, which no sampling rule gives; a greedy call's few
    continuations could not tell the two apart). ``n``: :data:`NEIGHBOURS`, read at the call; none when 0."""
    n = NEIGHBOURS if n is None else n
    if n == 0:
        return []
    if case.function in GENERATE and len(case.args) == 7:
        tokens, weights, _, T, top_k, rng, _ = _fresh(case.args)
        return _answers(impl, case.function, [(tokens, weights, 1, T, top_k, rng, DRAWS)], "neighbour")
    floats = [i for i in _float_arrays(case.args) if case.args[i].size]
    if not floats:
        return []
    rng = np.random.default_rng([seed, n])
    variants = []
    for _ in range(n):
        args = list(_fresh(case.args))
        for i in floats:
            a = np.asarray(args[i])
            kept = ~np.isfinite(a)
            scale = max(1.0, float(np.abs(np.where(kept, 0.0, a)).max(initial=0.0)))
            with np.errstate(all="ignore"):
                args[i] = np.where(kept, a, rng.standard_normal(a.shape) * scale).astype(a.dtype)
        variants.append(tuple(args))
    return _answers(impl, case.function, variants, "neighbour")
