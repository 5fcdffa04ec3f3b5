"""One property against one target: a fixed, seeded search and the result it ends in.

For each property the runner builds its Hypothesis test (``Property.hypothesis_test``) on the
target, seeded with the run's seed and with the profile's fixed number of examples, and turns
the outcome into a :class:`~.report.PropertyResult`:

- the property raised :class:`PropertyFailure` → failed, with the shrunk counterexample;
- a target function raised → error, naming the function and the target's line;
- the target's process crashed or gave no answer in time (:mod:`.isolation`) → error, with what
  happened and the example it happened on (not shrunk: each try would cost a restart);
- the target lacks a function the property needs → not provided (not a failure).

No clock decides anything: the same target, seed, profile and options give the same statuses,
example counts and counterexamples on an idle or a busy machine. Ctrl-C ends the search
("interrupted"); a run's own time cap, if one is set, ends it as "not run".
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import fnmatch
import inspect
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Verbosity, seed as hypothesis_seed
from hypothesis import settings as Settings
from hypothesis.errors import Flaky

from ..properties import domain as domains
from ..properties.domain import Domain, Features
from ..properties.registry import TAGS, Property, PropertyFailure
from ..spec.check import checks, checks_mode
from ..spec.hints import is_array
from ..target import SPEC_NAMES
from .adapters import Plan
from .choices import DEFAULT_TIMEOUT, KERNEL, PROFILE_EXAMPLES, SHRINK_TRIES, memory_text
from .conventions import ENTRY_POINTS, KERNEL_ENTRY_POINTS
from .describe import as_data, counterexample_data, counterexample_lines, in_layout
from .determinism import Nondeterministic, find
from .diagnosis import diagnose_into
from .fragility import judge
from .errors import SelectionError
from .guard import exception_text, raised_by
from .isolation import RAISED_OR_FAULT, TARGET_FAULTS, AnswerRefused, CallTimeout, TargetCrashed
from .options import Options
from .progress import Progress, Silent
from .prng import fixed_constants, seeded_once
from .report import Failure, PropertyResult

__all__ = [
    "Profile", "PROFILES", "SelectionError", "OutOfTime", "Progress", "select", "run_property",
    "reproducer", "as_arguments", "DEFAULT_TIMEOUT",
]

MAX_LINES = 24
"""Lines of a counterexample in the report (a two-layer model's weights alone are 30)."""


@dataclasses.dataclass(frozen=True)
class Profile:
    """How hard to search: a fixed number of examples per property, and of tries to shrink a
    failure, whatever the clock says."""

    name: str
    max_examples: int
    max_shrinks: int  # tries after the first failure; then the smallest failing example found is reported

    def settings(self) -> Settings:
        return Settings(
            max_examples=self.max_examples,
            deadline=None,  # the per-call limit of the target's process replaces Hypothesis's deadline
            database=None,  # --seed alone reproduces a run; nothing is written to the user's disk
            derandomize=False,  # the seed is set per property with hypothesis.seed
            print_blob=False,
            verbosity=Verbosity.quiet,  # the report prints the counterexample, Hypothesis does not
            report_multiple_bugs=False,
            suppress_health_check=list(HealthCheck),  # a slow user implementation is not an error
        )


PROFILES: dict[str, Profile] = {name: Profile(name, n, SHRINK_TRIES[name]) for name, n in PROFILE_EXAMPLES.items()}


class OutOfTime(BaseException):
    """Raised between examples once the run's own time cap (``max_seconds``) has passed."""


class _ShrinkingDone(BaseException):
    """Raised before a try once shrinking a failure has had its profile's number of tries."""


def _matches(prop: Property, pattern: str) -> bool:
    return (pattern in (prop.name, prop.family) or pattern in prop.needs or pattern in prop.tags
            or fnmatch.fnmatchcase(prop.name, pattern))


def select(catalogue: Sequence[Property], only: Iterable[str] = (), skip: Iterable[str] = ()) -> list[Property]:
    """The properties named by ``only`` (all if empty) minus those named by ``skip``.

    A name is a property (``softmax.sums_to_one``), a family (``softmax``), a tag (``contract``:
    the checks of the spec's input contract), a spec function the property needs
    (``attention_pattern``), or a glob over property names (``causality.*``).
    """
    only, skip = list(only), list(skip)
    known = set(SPEC_NAMES) | set(TAGS) | set(ENTRY_POINTS)
    for pattern in only + skip:
        if pattern not in known and not any(_matches(p, pattern) for p in catalogue):
            families = sorted({p.family for p in catalogue})
            raise SelectionError(
                f"{pattern!r} names no property, family, tag or spec function "
                f"(families: {', '.join(families) or 'none registered'}; tags: {', '.join(TAGS)}; "
                f"functions: {', '.join(SPEC_NAMES)})"
            )
    chosen = [p for p in catalogue if not only or any(_matches(p, o) for o in only)]
    return [p for p in chosen if not any(_matches(p, s) for s in skip)]


class _Recorder:
    """Counts a property's examples, keeps a copy of the last one (the one a crash or hang
    happened on) and of the last failing one (while shrinking, the smallest failure found so
    far); ends shrinking after ``max_shrinks`` tries and the search at the run's time cap."""

    def __init__(self, progress: Progress, max_shrinks: int, deadline: float | None,
                 scope: domains.Scope | None = None) -> None:
        self.progress, self.max_shrinks, self.deadline = progress, max_shrinks, deadline
        self.scope = scope or domains.Scope(Domain(), heads_bear=False)
        self.count = 0
        self.shrinks = 0
        self.last: Any = None
        self.features = Features()  # of the last example: what a declaration could exclude about it
        self.failure: tuple[Any, BaseException] | None = None
        self.failure_features = Features()
        self.raised: list[Features] = []  # every example on which the target raised, crashed or hung
        self.ran: list[Features] = []  # every example on which it answered (right or wrong)
        self.started = time.perf_counter()

    def seen(self, example: Any) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise OutOfTime
        if self.failure is not None:
            if self.shrinks >= self.max_shrinks:
                raise _ShrinkingDone
            self.shrinks += 1
        self.count += 1
        self.features = self.scope.take_features()
        try:  # a copy, in case the property writes into it
            self.last = copy.deepcopy(example)
        except Exception:
            self.last = example
        self.progress.example(self.count)

    def wrap(self, body: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
        def recorded(impl: Any, example: Any) -> None:
            try:
                body(impl, example)
            except PropertyFailure as exc:
                self.failure, self.failure_features = (self.last, exc), self.features
                self.ran.append(self.features)
                raise
            except RAISED_OR_FAULT as exc:
                self.failure, self.failure_features = (self.last, exc), self.features
                self.raised.append(self.features)
                raise
            self.ran.append(self.features)

        return recorded


def as_arguments(prop: Property, example: Any) -> Any:
    """An example that is the argument tuple of the one function ``prop`` needs, keyed by the
    spec's parameter names (so the report says ``Q:`` rather than ``example[0]:``); else as is."""
    if len(prop.needs) != 1 or not isinstance(example, tuple) or prop.needs[0] not in SPEC_NAMES:
        return example  # several functions, or a convention's entry point (no spec signature to name it by)
    plan = Plan.of(prop.needs[0])
    names = list(plan.signature.parameters)
    if len(example) > len(names) or any(plan.signature.parameters[n].default is inspect.Parameter.empty
                                        for n in names[len(example):]):
        return example  # not the function's arguments (a seed in place of an rng, ...): unnamed, not misnamed
    for value, hint in zip(example, plan.hints):
        if isinstance(value, np.ndarray) != is_array(hint):
            return example
    return dict(zip(names, example))


def _failure(exc: BaseException, example: Any, reproduce: str, *, layout: str = "columns", framework: str = "numpy",
             features: Features | None = None) -> tuple[str, Failure]:
    """The status and failure record for the exception a search ended with: the counterexample
    in the user's layout, and the config dims when the example's heads do not fill d_model."""
    shown, unplaced = in_layout(example, layout) if example is not None else (None, [])
    lines = counterexample_lines(shown) if example is not None else []
    if len(lines) > MAX_LINES:  # a model's weights: the first layer tells the story
        lines = lines[: MAX_LINES - 1] + [f"… and {len(lines) - MAX_LINES + 1} more tensors"]
    if unplaced:
        lines.append(f"({', '.join(unplaced)}: in the spec's layout, columns are tokens)")
    heads = features.heads_text() if features is not None else None
    dims = f" (the example has {heads})" if heads else ""
    function = raised_by(exc)

    data = counterexample_data(shown) if example is not None else []
    compared = {k: getattr(exc, k, None) for k in ("expected", "got")} if isinstance(exc, PropertyFailure) else {}
    at = getattr(exc, "at", None)

    def record(kind: str, message: str, function: str | None) -> Failure:
        return Failure(kind, message + dims, function, lines, reproduce, layout=layout, framework=framework,
                       arguments=data, **{k: None if v is None else as_data(v) for k, v in compared.items()},
                       at=None if at is None else [int(i) for i in at])

    if isinstance(exc, CallTimeout):
        return "error", record("timed out", str(exc), function)
    if isinstance(exc, TargetCrashed):
        return "error", record("crashed", str(exc), function)
    if isinstance(exc, AnswerRefused):
        return "error", record("answer refused", str(exc), function)
    if isinstance(exc, Nondeterministic):
        return "error", record("nondeterministic", str(exc), function)
    if isinstance(exc, PropertyFailure):
        return "failed", record("does not hold", str(exc), None)
    kind = "raised" if function is not None else "property raised"
    return "error", record(kind, exception_text(exc), function)


def _nondeterministic(prop: Property, impl: Any, example: Any, reproduce: str, shown: dict[str, str],
                      features: Features) -> tuple[str, Failure]:
    """The error of a search Hypothesis found flaky: the call that answered the same arguments
    differently, with both answers (:mod:`.determinism`), or the example if no call did again."""
    difference = find(prop.body, impl, example)
    if difference is None:
        exc = Nondeterministic("the property failed on this example and held when it ran again on it, though each "
                               "call it makes gave the same answer again: the target's answers may depend on its "
                               "earlier calls", None)
        return _failure(exc, as_arguments(prop, example), reproduce, layout=shown["layout"],
                        framework=shown["framework"], features=features)
    call = dataclasses.replace(prop, needs=(difference.function,))  # the arguments named as that function's
    status, failure = _failure(Nondeterministic(difference.message(), difference.function),
                               as_arguments(call, difference.arguments), reproduce, layout=shown["layout"],
                               framework=shown["framework"])
    failure.counterexample += difference.answer_lines()
    return status, failure


def run_property(
    prop: Property,
    impl: Any,
    profile: Profile,
    seed: int,
    reproduce: str,
    progress: Progress | None = None,
    *,
    notes: Callable[[], list[str]] = list,
    deadline: float | None = None,
    domain: Domain | None = None,
    layout: str = "columns",
    framework: str = "numpy",
) -> PropertyResult:
    """Search ``profile.max_examples`` examples for a counterexample to ``prop`` on ``impl``, and
    shrink a failure for at most ``profile.max_shrinks`` tries.

    ``impl`` has the spec's functions in the columns layout (a :class:`.isolation.Remote` in a
    verify run); ``notes()`` says what the target printed or warned meanwhile; ``deadline``
    (``time.monotonic()`` seconds, None: none) is the run's own time cap: past it the search
    ends and the property is "not run", never "passed". Ctrl-C: status "interrupted".
    ``domain`` is the target's declared domain: the examples are drawn inside it (a property it
    excludes is "not applicable"; how it narrowed the others is ``result.narrowed``). ``layout``
    and ``framework`` are the user's: a counterexample is shown as their functions receive it.
    """
    progress = progress or Silent()
    domain = domain or Domain()
    result = result_for(prop)
    if not prop.applies_to(impl):
        result.status = "not provided"
        return result
    excluded = domain.excludes(prop.requires)
    if excluded is not None:
        result.status = "not applicable"
        result.notes = [f"not applicable: {prop.name} {excluded}"]
        return result
    with domains.scoped(domain, prop.needs) as scope:
        return _search(prop, impl, profile, seed, reproduce, progress, notes, deadline, scope, result, layout, framework)


def result_for(prop: Property, status: str = "passed") -> PropertyResult:
    """A result for ``prop`` that has not run yet."""
    return PropertyResult(prop.name, prop.family, prop.statement, prop.needs, status, tags=prop.tags)


def _search(prop: Property, impl: Any, profile: Profile, seed: int, reproduce: str, progress: Progress,
            notes: Callable[[], list[str]], deadline: float | None, scope: domains.Scope, result: PropertyResult,
            layout: str, framework: str) -> PropertyResult:
    recorder = _Recorder(progress, profile.max_shrinks, deadline, scope)
    watched = dataclasses.replace(prop, body=recorder.wrap(prop.body))
    test = hypothesis_seed(seed)(watched.hypothesis_test(impl, settings=profile.settings(), on_example=recorder.seen))
    shrink_note = []
    # a kernel's [batch heads L D] arrays are shown as the kernel receives them, not in a spec layout
    shown = {"layout": KERNEL if set(prop.needs) <= KERNEL_ENTRY_POINTS else layout, "framework": framework}
    shrunk: Any = None  # the raw counterexample a failure ended on, to assess fragility on
    try:
        with seeded_once(seed), fixed_constants(), _reference_checks():  # a seed alone fixes it: see .prng
            test()
    except KeyboardInterrupt:
        result.status = "interrupted"
    except OutOfTime:
        result.status = "not run"
    except _ShrinkingDone:
        assert recorder.failure is not None
        shrunk, exc = recorder.failure
        result.status, result.failure = _failure(exc, as_arguments(prop, shrunk), reproduce, **shown,
                                                 features=recorder.failure_features)
        shrink_note = [f"shrinking stopped after {profile.max_shrinks} tries: the smallest failing example found by then"]
    except TARGET_FAULTS as exc:  # not shrunk: the example it happened on
        result.status, result.failure = _failure(exc, as_arguments(prop, recorder.last), reproduce, **shown,
                                                 features=recorder.features)
    except Flaky as exc:  # a failure that did not come back on the same example: the target answered differently
        if recorder.failure is None:  # flaky before any example failed (Hypothesis's own data): as it is
            result.status, result.failure = _failure(exc, None, reproduce, layout=shown["layout"],
                                                     framework=shown["framework"])
        else:
            result.status, result.failure = _nondeterministic(prop, impl, recorder.failure[0], reproduce, shown,
                                                              recorder.failure_features)
    except BaseException as exc:  # noqa: BLE001 - every way a search can end is reported
        example = as_arguments(prop, recorder.last) if recorder.count else None
        result.status, result.failure = _failure(exc, example, reproduce, **shown, features=recorder.features)
        shrunk = recorder.failure[0] if recorder.failure is not None else None
    result.examples = recorder.count
    # Hypothesis stops short of max_examples passing examples only when no untried input is left
    # (rejected examples come on top of them), so this is a search over every input there is
    result.exhausted = result.status == "passed" and recorder.count < profile.max_examples
    if shrunk is not None:  # failed, or fragile: only beyond the ordinary domain (see .fragility)
        try:
            judge(result, prop, impl, shrunk)
            diagnose_into(result, prop, impl, shrunk, seed)
        except KeyboardInterrupt:
            result.status = "interrupted"
    result.notes = notes() + shrink_note + result.notes
    result.seconds = time.perf_counter() - recorder.started
    result.narrowed = scope.narrowed
    if result.status == "error":
        result.error_cluster = domains.cover(recorder.raised)
    result.ran_inside = tuple(w for w in (domains.CAUSAL_ONLY, domains.HEADS_FILL)
                              if any(w in f.inside for f in recorder.ran))
    return result


def _reference_checks() -> contextlib.AbstractContextManager[None]:
    """During a search the reference checks each function's first call of every shape signature
    (``checks("first")``, see gptspec.spec.check), not all ~10⁴ calls: a new shape, dtype, int or
    config is still checked in full and value checks always run, so a wrong shape from the target
    reaching the reference is still caught; it saves ~10 % of a verdict. Checks a user turned off
    stay off."""
    return checks("first") if checks_mode() == "on" else contextlib.nullcontext()


def reproducer(label: str, layout: str, framework: str, profile: str, timeout: float | None, seed: int,
               assume: Sequence[str] = (), convention: str | None = None,
               memory_limit: int | None = None) -> Callable[[str], str]:
    """The one-line command that reruns one property of a run on the same examples: the options
    given one by one (:meth:`.options.Options.reproducer` renders them)."""
    chosen = Options(layout, None, profile, timeout, tuple(assume), convention=convention, memory_limit=memory_limit)
    return chosen.reproducer(label, framework, seed)
