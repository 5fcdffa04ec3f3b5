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

import copy
import dataclasses
import fnmatch
import shlex
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

import numpy as np
from hypothesis import HealthCheck, Verbosity, seed as hypothesis_seed
from hypothesis import settings as Settings

from ..properties.registry import Property, PropertyFailure
from ..spec.hints import is_array
from ..target import ENTRY_POINTS, SPEC_NAMES
from .adapters import Plan
from .choices import DEFAULT_TIMEOUT, PROFILE_EXAMPLES, SHRINK_TRIES
from .describe import counterexample_lines
from .errors import SelectionError
from .guard import exception_text, raised_by
from .isolation import CallTimeout, TargetCrashed
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
    known_functions = set(SPEC_NAMES) | set(ENTRY_POINTS)
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
    """Counts a property's examples, keeps a copy of the last one (the one a crash or hang
    happened on) and of the last failing one (while shrinking, the smallest failure found so
    far); ends shrinking after ``max_shrinks`` tries and the search at the run's time cap."""

    def __init__(self, progress: Progress, max_shrinks: int, deadline: float | None) -> None:
        self.progress, self.max_shrinks, self.deadline = progress, max_shrinks, deadline
        self.count = 0
        self.shrinks = 0
        self.last: Any = None
        self.failure: tuple[Any, BaseException] | None = None
        self.started = time.perf_counter()

    def seen(self, example: Any) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise OutOfTime
        if self.failure is not None:
            if self.shrinks >= self.max_shrinks:
                raise _ShrinkingDone
            self.shrinks += 1
        self.count += 1
        try:  # a copy, in case the property writes into it
            self.last = copy.deepcopy(example)
        except Exception:
            self.last = example
        self.progress.example(self.count)

    def wrap(self, body: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
        def recorded(impl: Any, example: Any) -> None:
            try:
                body(impl, example)
            except Exception as exc:
                self.failure = (self.last, exc)
                raise

        return recorded


def as_arguments(prop: Property, example: Any) -> Any:
    """An example that is the argument tuple of the one function ``prop`` needs, keyed by the
    spec's parameter names (so the report says ``Q:`` rather than ``example[0]:``); else as is."""
    if len(prop.needs) != 1 or not isinstance(example, tuple) or prop.needs[0] not in SPEC_NAMES:
        return example  # several functions, or a convention's entry point (no spec signature to name it by)
    plan = Plan.of(prop.needs[0])
    names = list(plan.signature.parameters)
    if len(example) > len(names):
        return example
    for value, hint in zip(example, plan.hints):
        if isinstance(value, np.ndarray) != is_array(hint):
            return example
    return dict(zip(names, example))


def _failure(exc: BaseException, example: Any, reproduce: str) -> tuple[str, Failure]:
    """The status and failure record for the exception a search ended with."""
    lines = counterexample_lines(example) if example is not None else []
    if len(lines) > MAX_LINES:  # a model's weights: the first layer tells the story
        lines = lines[: MAX_LINES - 1] + [f"… and {len(lines) - MAX_LINES + 1} more tensors"]
    function = raised_by(exc)
    if isinstance(exc, CallTimeout):
        return "error", Failure("timed out", str(exc), function, lines, reproduce)
    if isinstance(exc, TargetCrashed):
        return "error", Failure("crashed", str(exc), function, lines, reproduce)
    if isinstance(exc, PropertyFailure):
        return "failed", Failure("does not hold", str(exc), None, lines, reproduce)
    kind = "raised" if function is not None else "property raised"
    return "error", Failure(kind, exception_text(exc), function, lines, reproduce)


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
) -> PropertyResult:
    """Search ``profile.max_examples`` examples for a counterexample to ``prop`` on ``impl``, and
    shrink a failure for at most ``profile.max_shrinks`` tries.

    ``impl`` has the spec's functions in the columns layout (a :class:`.isolation.Remote` in a
    verify run); ``notes()`` says what the target printed or warned meanwhile; ``deadline``
    (``time.monotonic()`` seconds, None: none) is the run's own time cap: past it the search
    ends and the property is "not run", never "passed". Ctrl-C: status "interrupted".
    """
    progress = progress or _Silent()
    result = PropertyResult(prop.name, prop.family, prop.statement, prop.needs, "passed")
    if not prop.applies_to(impl):
        result.status = "not provided"
        return result
    recorder = _Recorder(progress, profile.max_shrinks, deadline)
    watched = dataclasses.replace(prop, body=recorder.wrap(prop.body))
    test = hypothesis_seed(seed)(watched.hypothesis_test(impl, settings=profile.settings(), on_example=recorder.seen))
    shrink_note = []
    try:
        test()
    except KeyboardInterrupt:
        result.status = "interrupted"
    except OutOfTime:
        result.status = "not run"
    except _ShrinkingDone:
        assert recorder.failure is not None
        example, exc = recorder.failure
        result.status, result.failure = _failure(exc, as_arguments(prop, example), reproduce)
        shrink_note = [f"shrinking stopped after {profile.max_shrinks} tries: the smallest failing example found by then"]
    except (CallTimeout, TargetCrashed) as exc:  # not shrunk: the example it happened on
        result.status, result.failure = _failure(exc, as_arguments(prop, recorder.last), reproduce)
    except BaseException as exc:  # noqa: BLE001 - every way a search can end is reported
        example = as_arguments(prop, recorder.last) if recorder.count else None
        result.status, result.failure = _failure(exc, example, reproduce)
    finally:
        result.examples = recorder.count
        result.seconds = time.perf_counter() - recorder.started
        result.notes = notes() + shrink_note
    return result


def reproducer(label: str, layout: str, framework: str, profile: str, timeout: float | None, seed: int,
               convention: str | None = None) -> Callable[[str], str]:
    """The one-line command that reruns one property of this run on the same examples."""
    parts = ["gptspec", "verify", shlex.quote(label)]
    if convention is not None:
        parts += ["--convention", convention]
    if layout != "columns":
        parts += ["--layout", layout]
    if framework != "numpy" and convention != "hf-attention":  # hf-attention is torch's alone
        parts += ["--framework", framework]
    if profile != "default":
        parts += ["--profile", profile]
    if timeout != DEFAULT_TIMEOUT:
        parts += ["--timeout", f"{timeout or 0:g}"]
    prefix = " ".join(parts)
    return lambda name: f"{prefix} --only {shlex.quote(name)} --seed {seed}"
