"""A verify run: the target in its own process, the selected properties, spread over the cores.

:class:`Session` is what every front end holds — ``gptspec verify`` and :func:`verify`, each
worker of ``--jobs``, and each process of the pytest plugin (one per xdist worker): one target
process (:mod:`.isolation`), what it provides, the search profile and seed, and the reproduce
command. :func:`verify` runs the properties on one session in this process (``jobs=1``) or on one
session per worker process (``jobs > 1``, default: the usable cores; :mod:`.workers`), streaming each result to
the progress display as it comes. The workers are launched together and set up side by side; with
workers, this process never loads the target (the first worker's :class:`.isolation.Loaded`
report says what it provides). Each property's search depends only on the target, the seed,
the profile and the options, so the verdict is the same for any number of jobs.

Exit statuses (:attr:`.report.Report.exit_code`): 0 every applicable property ran to its end and
passed; 1 one failed or errored (the target raised, crashed or hung); 2 the target cannot be
loaded or an option is wrong (raised here as :class:`~gptspec.target.TargetError` or
:class:`.runner.OptionError`); 3 the run could not finish (its time cap); 130 interrupted (143:
SIGTERM, see the command). A worker killed or stopped by a signal is an error of the property it
ran, naming the signal. Ctrl-C at any phase (the workers starting included) gives the partial report.

A target's declared domain (``assume``, with its module's ``GPTSPEC_ASSUME``, read in the target's
process and sent back in :class:`.isolation.Loaded`) travels in :class:`Options` to every worker;
each property's search generates inside it (:mod:`gptspec.properties.domain`), a property it
excludes is "not applicable", and when every error of a run came on examples a declaration would
exclude, :func:`suggestions` says which ``--assume`` to add.
"""

from __future__ import annotations

import contextlib
import os
import random
import time
from collections.abc import Iterable
from typing import Any

from ..properties.domain import CAUSAL_ONLY, HEADS_FILL, AssumptionError, Domain, parse
from ..properties.catalogue import properties
from ..properties.registry import Property
from ..target import MODELS, REGISTRIES, address
from .affinity import one_core
from .conventions import implied_by
from .errors import OptionError
from .guard import Noise, add_noise, noise_lines
from .isolation import Child, Loaded, Remote, Setup, TargetProcess
from .options import Options
from .report import PropertyResult, Report
from .runner import DEFAULT_TIMEOUT, PROFILES, Progress, Silent, result_for, run_property, select
from .workers import LONGEST_FIRST, hand_out_order, launch, run_on_workers  # noqa: F401 (the first two lived here)

__all__ = ["Options", "Session", "verify", "usable_cores", "suggestions"]


def usable_cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _checked_address(target: Any, options: Options) -> Any:
    """Where ``target`` is (:func:`gptspec.target.address`); OptionError for a registry's name
    outside the hf-attention convention, and for options a whole model does not take."""
    where = address(target)
    implied = implied_by(where.kind)
    if implied is not None and options.convention != implied.name:
        raise OptionError(f"{where.label} names {REGISTRIES[where.kind]}: verify it with --convention {implied.name}")
    if where.kind == "model":
        model_options(where.label, options)
    return where


def declared_domain(options: Options, loaded: Loaded) -> Domain:
    """The domain declared by the options and by the target module's own ``GPTSPEC_ASSUME``
    (OptionError if the module's words are not known ones)."""
    try:
        own = parse(loaded.assume, source=f"GPTSPEC_ASSUME in {loaded.label}")
    except AssumptionError as exc:
        raise OptionError(str(exc)) from None
    return parse((*options.assume, *own.words))


class Provided:
    """What the properties' ``applies_to`` reads of a target known only by its :class:`Loaded`
    report (a ``--jobs`` run: the workers hold the target, this process never starts it)."""

    def __init__(self, provides: tuple[str, ...]) -> None:
        for name in provides:
            setattr(self, name, _elsewhere)


def _elsewhere(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("the target runs in the worker processes, not in this one")


class Session:
    """One target process and what running a property against it needs."""

    def __init__(self, target: Any, options: Options, seed: int) -> None:
        self.options, self.seed = options, seed
        self.noise: dict[str, Noise] = {}  # what the target printed or warned during the last property
        where = _checked_address(target, options)
        self.process = TargetProcess(Setup(where, options.layout, options.framework, options.timeout, options.convention,
                                           _bytes(options.memory_limit)))
        self.impl = Remote(self.process)  # starts the process: TargetError if the target cannot be loaded
        loaded = self.loaded
        try:
            self.domain: Domain = declared_domain(options, loaded)
            """The declared domain: the options' words and the module's, together."""
        except OptionError:
            self.close()
            raise
        self.reproduce = options.reproducer(loaded.label, loaded.framework, seed)

    @property
    def loaded(self) -> Loaded:
        assert self.process.loaded is not None
        return self.process.loaded

    def run(self, prop: Property, progress: Progress | None = None, deadline: float | None = None) -> PropertyResult:
        """Search for a counterexample to ``prop`` on the target (see :func:`.runner.run_property`);
        what the target printed or warned meanwhile is in the result's notes and :attr:`noise`."""
        self.noise = {}

        def notes() -> list[str]:
            self.noise = self.process.take_noise()
            return noise_lines(self.noise)

        return run_property(prop, self.impl, PROFILES[self.options.profile], self.seed, self.reproduce(prop.name),
                            progress, notes=notes, deadline=deadline, domain=self.domain,
                            layout=self.options.layout, framework=self.loaded.framework)

    def close(self) -> None:
        self.process.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _bytes(limit: int | str | None) -> int | None:
    """A checked memory limit (Options makes every one an int)."""
    assert limit is None or isinstance(limit, int)
    return limit


def model_options(label: str, options: Options) -> None:
    """A whole model (``hf:gpt2``, ``tl:gpt2``) is the spec's model functions in the columns
    layout with NumPy arrays: an OptionError for a convention, the rows layout or torch."""
    wrong = [f"--convention {options.convention}"] if options.convention is not None else []
    wrong += ["--layout rows"] if options.layout != "columns" else []
    wrong += [f"--framework {options.framework}"] if options.framework not in (None, "numpy") else []
    if wrong:
        raise OptionError(f"{label} is {MODELS[label][1]}: it provides the spec's model functions itself, in the columns "
                          f"layout with NumPy arrays; drop {', '.join(wrong)}")


def _not_run(prop: Property, status: str = "not run") -> PropertyResult:
    return result_for(prop, status)


_OUTSIDE = {CAUSAL_ONLY: "causal=False", HEADS_FILL: "d_model ≠ n_heads·d_head"}
_ONLY = {CAUSAL_ONLY: "causal attention only", HEADS_FILL: "d_model = n_heads·d_head only"}


def suggestions(results: Iterable[PropertyResult], declared: Domain) -> list[str]:
    """The declaration that would exclude every error of a run, when they cluster there.

    Made only when every errored property errored solely on examples such a declaration excludes
    (each one's ``error_cluster``), and the target answered examples inside it (some
    ``ran_inside``): a target that raises on every input is told nothing of the kind.
    """
    results = list(results)
    errored = [r for r in results if r.status == "error"]
    if not errored or any(not r.error_cluster for r in errored):
        return []
    words = [w for w in (CAUSAL_ONLY, HEADS_FILL) if any(w in r.error_cluster for r in errored)]
    evidence = {w for r in results for w in r.ran_inside}
    if any(w not in evidence or w in declared.words for w in words):
        return []
    outside = " or ".join(_OUTSIDE[w] for w in words)
    flags = " ".join(f"--assume {w}" for w in words)
    n = len(errored)
    return [f"the error{'s' if n > 1 else ''} of {n} propert{'ies' if n > 1 else 'y'} came only on examples with "
            f"{outside}; if your code supports {' and '.join(_ONLY[w] for w in words)}, declare it: add {flags} "
            f"(or GPTSPEC_ASSUME = {list(words)!r} in the module)"]


# ---------------------------------------------------------------------------------------------
# The run


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
    jobs: int | None = None,
    max_seconds: float | None = None,
    progress: Progress | None = None,
    assume: Iterable[str] = (),
    strict: bool = False,
    convention: str | None = None,
    memory_limit: int | str | None = None,
    options: Options | None = None,
) -> Report:
    """Run every applicable property of the catalogue against ``target`` and return the report.

    ``target`` is a module name, a path to a ``.py`` file, or a picklable object with some of the
    spec's functions; it is loaded and called only in processes of its own. ``layout`` is
    "columns" (the spec's) or "rows"; ``framework`` one of FRAMEWORKS (None: detected from what
    the target imports); ``profile`` "quick", "default" or "thorough" (a fixed number of
    examples per property); ``seed`` fixes the search (None: a fresh one, printed in the
    report), and a seed reproduces a verdict exactly; ``timeout`` is the per-call limit in seconds
    (None: no limit); ``jobs`` the worker processes (None: the usable cores); ``max_seconds`` an
    optional cap on the run's wall time: hitting it leaves properties "not run" and the run
    incomplete (exit status 3), never passed. ``assume`` declares the target's domain (words of
    :data:`gptspec.properties.domain.WORDS`, with the module's own ``GPTSPEC_ASSUME``): the
    search stays inside it and a property it excludes is "not applicable"; ``strict`` counts
    fragile as failed. ``convention`` ("sdpa", "hf-attention", "fused-linear", ...; see :mod:`.conventions`)
    says ``target`` is one function in that ecosystem's convention (a ``path.py:NAME``, ``module:NAME``
    or ``hf:NAME``; for a module layout, a factory of the module), around which gptspec builds the
    spec's attention functions in the target's process. ``memory_limit`` ('2GiB', '512MiB', or bytes;
    None: none) caps each target process's address space: a target over it errs saying so.
    ``options`` gives all of these at once, as a front end read them (:meth:`.options.Options.read`).
    """
    if isinstance(assume, str):
        assume = [assume]
    one_by_one = Options(layout, framework, profile, timeout, tuple(assume), strict, convention, memory_limit)
    if options is None:
        options = one_by_one
    elif one_by_one != Options():
        raise OptionError("verify takes its options whole (options=) or one by one (layout=, ...), not both")
    jobs = usable_cores() if jobs is None else int(jobs)
    if jobs < 1:
        raise OptionError(f"jobs must be at least 1, got {jobs}")
    chosen = select(properties(), only, skip)
    seed = random.SystemRandom().randrange(1_000_000) if seed is None else int(seed)
    progress = progress or Silent()
    started = time.perf_counter()
    deadline = None if max_seconds is None else time.monotonic() + max_seconds
    target = _checked_address(target, options)  # what a worker process can load (a module object does not pickle)
    try:
        return _verify(target, options, jobs, chosen, seed, progress, started, deadline)
    except KeyboardInterrupt:  # before the run began (the target loading, the workers starting)
        report = Report(target.label, layout, framework or "?", profile, seed, (), (), jobs=jobs,
                        assumptions=options.assume, strict=options.strict, interrupted=True)
        report.results = [_not_run(p) for p in chosen]
        report.seconds = time.perf_counter() - started
        return report


def _verify(target: Any, options: Options, jobs: int, chosen: list[Property], seed: int, progress: Progress,
            started: float, deadline: float | None) -> Report:
    """:func:`verify` once its arguments are checked."""
    layout, profile = options.layout, options.profile
    session: Session | None = None
    impl: Any  # what applies_to reads: the Remote, or what the workers reported
    workers: list[Child] = []
    pinned = contextlib.ExitStack()  # with one job, this process and its target process share a core
    if jobs == 1 or len(chosen) <= 1:
        pinned.enter_context(one_core())
        try:
            session = Session(target, options, seed)
        except BaseException:
            pinned.close()
            raise
        loaded, domain, impl = session.loaded, session.domain, session.impl
        isolation = session.process.isolation
    else:  # the workers load the target; this process never starts it
        workers = launch(target, options, seed, min(jobs, len(chosen)))
        try:
            loaded, isolation = workers[0].start()
            domain = declared_domain(options, loaded)
        except BaseException:
            for worker in workers:
                worker.end()
            raise
        impl = Provided(loaded.provides)
    report = Report(loaded.label, layout, loaded.framework, profile, seed, loaded.provides, loaded.missing, jobs=jobs,
                    assumptions=domain.words, strict=options.strict, isolation=isolation or "",
                    family=loaded.family)
    provided = [p for p in chosen if p.applies_to(impl)]
    results = {p.name: _not_run(p, "not provided") for p in chosen if p not in provided}
    for p in provided:
        excluded = domain.excludes(p.requires)
        if excluded is not None:
            results[p.name] = _not_run(p, "not applicable")
            results[p.name].notes = [f"not applicable: {p.name} {excluded}"]
    applicable = [p for p in provided if p.name not in results]
    noise: dict[str, Noise] = {}
    progress.start(len(chosen))
    try:
        if session is not None:
            with session:
                results.update(_run_here(applicable, session, progress, deadline, report, noise))
        else:
            reproduce = options.reproducer(loaded.label, loaded.framework, seed)
            results.update(run_on_workers(applicable, workers, progress, deadline, report, noise, reproduce))
    finally:
        for worker in workers:  # closed by the run; ended here if something failed before it
            worker.end()
        pinned.close()
        progress.stop()
        report.notes = noise_lines(noise)
        report.results = [results.get(p.name) or _not_run(p) for p in chosen]
        report.incomplete = report.incomplete or any(r.status == "not run" for r in report.results)
        report.suggestions = suggestions(report.results, domain)
        report.seconds = time.perf_counter() - started
    return report


def _run_here(applicable: list[Property], session: Session, progress: Progress, deadline: float | None,
              report: Report, noise: dict[str, Noise]) -> dict[str, PropertyResult]:
    """Every applicable property on ``session``, in this process, one after another."""
    results: dict[str, PropertyResult] = {}
    try:
        for prop in applicable:
            progress.begin(prop.name)
            result = session.run(prop, progress, deadline)
            results[prop.name] = result
            add_noise(noise, session.noise)
            progress.end(result)
            if result.status == "interrupted":
                report.interrupted = True
                break
    except KeyboardInterrupt:  # between two properties
        report.interrupted = True
    return results
