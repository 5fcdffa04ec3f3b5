"""The verify runner: every applicable property of the catalogue, run against one target.

For each selected property the runner builds its Hypothesis test (``Property.hypothesis_test``)
on the adapted target, seeded with the run's seed (so ``--only P --seed S`` replays exactly the
search that found a failure), and turns the outcome into a :class:`~.report.PropertyResult`:

- the property raised :class:`PropertyFailure` → failed, with the shrunk counterexample;
- a target function raised, or hung past the per-call limit → error, naming the function;
- the target lacks a function the property needs → not provided (not a failure).

Ctrl-C stops the run between two examples and returns the partial report.
"""

from __future__ import annotations

import copy
import dataclasses
import fnmatch
import os
import random
import shlex
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

import numpy as np
from hypothesis import HealthCheck, Verbosity, seed as hypothesis_seed
from hypothesis import settings as Settings

from ..properties.registry import Property, PropertyFailure, properties
from ..spec import SpecError
from ..spec.hints import is_array
from .adapters import Adapted, Plan, adapt, detect_framework
from .describe import describe
from .guard import Guard
from .loader import SPEC_NAMES, Target, load
from .report import Failure, PropertyResult, Report
from .timeouts import CallTimeout, can_limit

__all__ = ["Profile", "PROFILES", "SelectionError", "Progress", "select", "verify", "run_property", "reproducer", "DEFAULT_TIMEOUT"]

DEFAULT_TIMEOUT = 5.0
"""Seconds one call of a target function may take before it counts as hanging."""

MIN_SHARE = 0.1
"""Seconds of search every property gets even when earlier ones used up the run's budget."""

MAX_LINES = 24
"""Lines of a counterexample in the report (a two-layer model's weights alone are 30)."""


@dataclasses.dataclass(frozen=True)
class Profile:
    """How hard to search: examples per property, and seconds of search for the whole run.

    ``seconds`` (None: no limit) is shared among the applicable properties as the run goes: each
    gets what is left divided by the properties still to run, so time a quick property does not
    use passes to the slow ones. A budget only ends a search that has found nothing yet; a
    failure is then shrunk for at most ``shrink_seconds``. With ``--only P`` the one property gets
    the whole budget, so a reproduce command searches at least as far as the run that found the
    failure.
    """

    name: str
    max_examples: int
    seconds: float | None
    shrink_seconds: float | None  # per failing property

    def share(self, spent: float, left: int) -> float | None:
        """The budget of the next property after ``spent`` seconds, with ``left`` still to run."""
        if self.seconds is None:
            return None
        return max((self.seconds - spent) / max(left, 1), MIN_SHARE)

    def settings(self) -> Settings:
        return Settings(
            max_examples=self.max_examples,
            deadline=None,  # the per-call time limit replaces Hypothesis's deadline
            database=None,  # --seed alone reproduces a run; nothing is written to the user's disk
            derandomize=False,  # the seed is set per property with hypothesis.seed
            print_blob=False,
            verbosity=Verbosity.quiet,  # the report prints the counterexample, Hypothesis does not
            report_multiple_bugs=False,
            suppress_health_check=list(HealthCheck),  # a slow user implementation is not an error
        )


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("quick", max_examples=10, seconds=3.0, shrink_seconds=1.5),
        Profile("default", max_examples=40, seconds=12.0, shrink_seconds=4.0),
        Profile("thorough", max_examples=500, seconds=None, shrink_seconds=60.0),
    )
}


class SelectionError(SpecError):
    """An ``--only``/``--skip`` name that names no property, family or spec function."""


class _BudgetSpent(BaseException):
    """Raised between passing examples once a property's time budget is spent."""


class _ShrinkBudgetSpent(BaseException):
    """Raised between shrink steps once shrinking a failure has taken its time."""


class Progress(Protocol):
    """What the runner tells a progress display (the CLI's bar is one, by its methods alone).

    Each method does nothing here, so a display that subclasses this writes only what it shows.
    """

    def start(self, total: int) -> None:
        return None

    def begin(self, name: str) -> None:
        return None

    def example(self, count: int) -> None:
        return None

    def end(self, result: PropertyResult) -> None:
        return None

    def stop(self) -> None:
        return None


class _Silent(Progress):
    """The display when none is given: shows nothing."""


def _matches(prop: Property, pattern: str) -> bool:
    return pattern in (prop.name, prop.family) or pattern in prop.needs or fnmatch.fnmatchcase(prop.name, pattern)


def select(catalogue: Sequence[Property], only: Iterable[str] = (), skip: Iterable[str] = ()) -> list[Property]:
    """The properties named by ``only`` (all if empty) minus those named by ``skip``.

    A name is a property (``softmax.sums_to_one``), a family (``softmax``), a spec function the
    property needs (``attention_pattern``), or a glob over property names (``causality.*``).
    """
    only, skip = list(only), list(skip)
    known_functions = set(SPEC_NAMES)
    for pattern in only + skip:
        if pattern not in known_functions and not any(_matches(p, pattern) for p in catalogue):
            families = sorted({p.family for p in catalogue})
            raise SelectionError(
                f"{pattern!r} names no property, family or spec function "
                f"(families: {', '.join(families) or 'none registered'}; functions: {', '.join(SPEC_NAMES)})"
            )
    chosen = [p for p in catalogue if not only or any(_matches(p, o) for o in only)]
    return [p for p in chosen if not any(_matches(p, s) for s in skip)]


class _Recorder:
    """Counts a property's examples, keeps a copy of the last one and of the last failing one,
    and ends the search when the budget (nothing found yet) or the shrink budget is spent."""

    def __init__(self, guard: Guard, budget: float | None, shrink_budget: float | None, progress: Progress) -> None:
        self.guard, self.budget, self.shrink_budget, self.progress = guard, budget, shrink_budget, progress
        self.count = 0
        self.last: Any = None
        self.failure: tuple[Any, BaseException, str | None] | None = None  # example, exception, function
        self.first_failure: float | None = None
        self.started = time.perf_counter()

    def seen(self, example: Any) -> None:
        self.count += 1
        try:  # a copy, in case the target writes into its arguments
            self.last = copy.deepcopy(example)
        except Exception:
            self.last = example
        self.progress.example(self.count)

    def wrap(self, body: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
        def recorded(impl: Any, example: Any) -> None:
            now = time.perf_counter()
            if self.first_failure is not None and self.shrink_budget is not None:
                if now - self.first_failure > self.shrink_budget:
                    raise _ShrinkBudgetSpent
            try:
                body(impl, example)
            except BaseException as exc:
                self.failure = (self.last, exc, self.guard.raised_by(exc))
                self.first_failure = self.first_failure or time.perf_counter()
                raise
            if self.budget is not None and self.failure is None and now - self.started > self.budget:
                raise _BudgetSpent

        return recorded


def _where(exc: BaseException) -> str:
    """' (file.py line N)': the innermost frame outside gptspec and installed libraries ('' without a traceback)."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    frames = traceback.extract_tb(exc.__traceback__)
    outside = [f for f in frames if not f.filename.startswith(here) and "site-packages" not in f.filename]
    if not frames:
        return ""
    frame = (outside or frames)[-1]
    return f" ({os.path.basename(frame.filename)} line {frame.lineno})"


def as_arguments(prop: Property, example: Any) -> Any:
    """An example that is the argument tuple of the one function ``prop`` needs, keyed by the
    spec's parameter names (so the report says ``Q:`` rather than ``example[0]:``); else as is."""
    if len(prop.needs) != 1 or not isinstance(example, tuple):
        return example
    plan = Plan.of(prop.needs[0])
    names = list(plan.signature.parameters)
    if len(example) > len(names):
        return example
    for value, hint in zip(example, plan.hints):
        if isinstance(value, np.ndarray) != is_array(hint):
            return example
    return dict(zip(names, example))


def _failure(exc: BaseException, function: str | None, example: Any, reproduce: str) -> tuple[str, Failure]:
    """The status and failure record for an exception, raised by ``function`` of the target if known."""
    lines = describe(example) if example is not None else []
    if len(lines) > MAX_LINES:  # a model's weights: the first layer tells the story
        lines = lines[: MAX_LINES - 1] + [f"… and {len(lines) - MAX_LINES + 1} more tensors"]
    if isinstance(exc, CallTimeout):
        return "error", Failure("timed out", str(exc), function, lines, reproduce)
    if isinstance(exc, PropertyFailure):
        return "failed", Failure("does not hold", str(exc), None, lines, reproduce)
    kind = "raised" if function is not None else "property raised"
    return "error", Failure(kind, f"{type(exc).__name__}: {exc}{_where(exc)}", function, lines, reproduce)


def run_property(
    prop: Property,
    impl: Adapted,
    guard: Guard,
    profile: Profile,
    seed: int,
    reproduce: str,
    progress: Progress | None = None,
    budget: float | None = None,
) -> PropertyResult:
    """Search for a counterexample to ``prop`` on ``impl`` (Ctrl-C: status "interrupted").

    ``budget`` seconds end a search that has found nothing; ``profile.shrink_seconds`` end the
    shrinking of one that has, keeping the smallest failing example found by then.
    """
    progress = progress or _Silent()
    result = PropertyResult(prop.name, prop.family, prop.statement, prop.needs, "passed")
    if not prop.applies_to(impl):
        result.status = "not provided"
        return result
    guard.reset()
    recorder = _Recorder(guard, budget, profile.shrink_seconds, progress)
    watched = dataclasses.replace(prop, body=recorder.wrap(prop.body))
    test = hypothesis_seed(seed)(watched.hypothesis_test(impl, settings=profile.settings(), on_example=recorder.seen))
    shrink_note = []
    try:
        test()
    except _BudgetSpent:
        pass
    except KeyboardInterrupt:
        result.status = "interrupted"
    except _ShrinkBudgetSpent:
        assert recorder.failure is not None
        example, exc, function = recorder.failure
        result.status, result.failure = _failure(exc, function, as_arguments(prop, example), reproduce)
        shrink_note = [f"shrinking stopped after {profile.shrink_seconds:g} s: the smallest failing example found by then"]
    except CallTimeout as exc:
        result.status, result.failure = _failure(exc, guard.timed_out, as_arguments(prop, recorder.last), reproduce)
    except BaseException as exc:  # noqa: BLE001 - every way a search can end is reported
        example = as_arguments(prop, recorder.last) if recorder.count else None
        result.status, result.failure = _failure(exc, guard.raised_by(exc), example, reproduce)
    finally:
        result.examples = recorder.count
        result.seconds = time.perf_counter() - recorder.started
        result.notes = guard.notes() + shrink_note
    return result


def reproducer(target: Target, layout: str, framework: str, profile: str, timeout: float | None, seed: int) -> Callable[[str], str]:
    """The one-line command that reruns one property of this run on the same examples."""
    parts = ["gptspec", "verify", shlex.quote(target.label)]
    if layout != "columns":
        parts += ["--layout", layout]
    if framework != "numpy":
        parts += ["--framework", framework]
    if profile != "default":
        parts += ["--profile", profile]
    if timeout != DEFAULT_TIMEOUT:
        parts += ["--timeout", f"{timeout or 0:g}"]
    prefix = " ".join(parts)
    return lambda name: f"{prefix} --only {shlex.quote(name)} --seed {seed}"


def verify(
    target: Any,
    *,
    layout: str = "columns",
    framework: str | None = None,
    profile: str = "default",
    only: Iterable[str] = (),
    skip: Iterable[str] = (),
    seed: int | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    progress: Progress | None = None,
) -> Report:
    """Run every applicable property of the catalogue against ``target`` and return the report.

    ``target`` is a module name, a path to a ``.py`` file, or any object with some of the spec's
    functions. ``layout`` is "columns" (the spec's) or "rows"; ``framework`` "numpy" or "torch"
    (None: detected from what the target imports); ``profile`` "quick", "default" or
    "thorough"; ``seed`` fixes the search (None: a fresh one, printed in the report);
    ``timeout`` is the per-call limit in seconds (None: no limit).
    """
    if profile not in PROFILES:
        raise SelectionError(f"unknown profile {profile!r}; profiles: {', '.join(PROFILES)}")
    loaded = load(target)
    framework = framework or detect_framework(loaded.obj, loaded.provides)
    guard = Guard(timeout)
    impl = adapt(loaded.obj, loaded.provides, layout=layout, framework=framework, label=loaded.label, guard=guard)
    chosen = select(properties(), only, skip)
    seed = random.SystemRandom().randrange(1_000_000) if seed is None else int(seed)
    reproduce = reproducer(loaded, layout, framework, profile, timeout, seed)
    report = Report(loaded.label, layout, framework, profile, seed, loaded.provides, loaded.missing,
                    time_limited=bool(timeout) and can_limit())
    progress = progress or _Silent()
    started = time.perf_counter()
    progress.start(len(chosen))
    left = sum(p.applies_to(impl) for p in chosen)
    try:
        for prop in chosen:
            progress.begin(prop.name)
            budget = PROFILES[profile].share(time.perf_counter() - started, left)
            result = run_property(prop, impl, guard, PROFILES[profile], seed, reproduce(prop.name), progress, budget)
            left -= result.status != "not provided"
            report.results.append(result)
            progress.end(result)
            if result.status == "interrupted":
                raise KeyboardInterrupt
    except KeyboardInterrupt:  # between or during properties: keep what was found so far
        report.interrupted = True
        done = {r.name for r in report.results}
        report.results.extend(
            PropertyResult(p.name, p.family, p.statement, p.needs, "not run") for p in chosen if p.name not in done
        )
    finally:
        progress.stop()
        report.seconds = time.perf_counter() - started
        report.notes = guard.run_notes()
    return report
