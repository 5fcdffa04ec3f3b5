"""``--jobs``: the properties of a run spread over worker processes, one :class:`.session.Session` each.

:func:`launch` starts ``jobs`` workers side by side (worker i and its target process on usable core
i, :mod:`.affinity`); each loads the target in a session of its own and then runs one property per
request (:func:`_work`). :func:`run_on_workers` hands the properties out (:func:`hand_out_order`:
the longest first), streams each result to the progress display as it comes, and turns a worker
that dies or is stopped by a signal into an error of the property it ran, naming how, before
starting a fresh one. A property's search depends only on the target, the seed, the profile and
the options, never on which worker runs it or when, so the verdict is the same for any ``jobs``.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
from typing import TYPE_CHECKING, Any

from ..properties.catalogue import get
from ..properties.registry import Property
from ..target import TargetError
from .affinity import one_core, usable
from . import stopping
from .child import POLL, close_all, receive_request
from .errors import OptionError
from .guard import Noise, add_noise
from .isolation import Child, orphan_guard
from .report import Failure, PropertyResult, Report
from .runner import Progress, result_for

if TYPE_CHECKING:
    from .session import Options

__all__ = ["LONGEST_FIRST", "hand_out_order", "launch", "run_on_workers"]


def _work(conn: multiprocessing.connection.Connection, target: Any, options: Options, seed: int,
          core: int | None = None) -> None:
    """A worker process: a session of its own, then one property per request until told to stop;
    it and its target process keep to ``core`` (see .affinity)."""
    orphan_guard()
    with one_core(core):
        _serve_properties(conn, target, options, seed)


def _serve_properties(conn: multiprocessing.connection.Connection, target: Any, options: Options, seed: int) -> None:
    from .session import Session  # (the session module hands out to this one)

    try:
        session = Session(target, options, seed)
    except (TargetError, OptionError) as exc:  # raised as itself in the main process
        conn.send(("load_error", exc))
        return
    except BaseException as exc:  # noqa: BLE001 - say why the worker could not set up
        conn.send(("load_error", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", (session.loaded, session.process.isolation)))
    with session:
        try:
            while True:
                message = receive_request(conn)
                if message[0] != "run":
                    return
                _, name, deadline = message
                conn.send(("result", session.run(get(name), deadline=deadline), session.noise))
        except (EOFError, OSError):  # the main process is gone, or ended the run
            return


LONGEST_FIRST = ("temperature.sample_follows_softmax", "temperature.sample_greedy_at_zero")
"""Handed to the workers first: each costs several ordinary properties (400 and 8 samples per
example); sample_follows_softmax, fifth from the end of the catalogue, kept the other workers
idle for seconds while it finished last."""


def hand_out_order(applicable: list[Property]) -> list[Property]:
    """The order the workers get the properties in: :data:`LONGEST_FIRST`, then the catalogue's
    (a property's search does not depend on when or where it runs; the report keeps the catalogue's order)."""
    first = [p for name in LONGEST_FIRST for p in applicable if p.name == name]
    return first + [p for p in applicable if p not in first]


def launch(target: Any, options: Options, seed: int, jobs: int) -> list[Child]:
    """``jobs`` worker processes, launched side by side (each :meth:`.Child.start` then only waits)."""
    cores: list[int | None] = [*usable()] or [None]  # worker i and its target process on core i (modulo the cores)
    workers = [Child(_work, (target, options, seed, cores[i % len(cores)]), f"worker {i + 1}")
               for i in range(jobs)]
    try:
        for worker in workers:
            worker.launch()
    except BaseException:
        for worker in workers:
            worker.end()
        raise
    return workers


def _lost(prop: Property, worker: Child, how: str, reproduce: str) -> PropertyResult:
    """The result of a property whose worker died or was stopped (by its target, the kernel, a
    user): an error saying how, never a property left silently unrun."""
    result = result_for(prop, "error")
    result.failure = Failure("crashed", f"{worker.label}, which ran it, {how}", None, [], reproduce)
    return result


def run_on_workers(
    applicable: list[Property], workers: list[Child],
    progress: Progress, deadline: float | None, report: Report, noise: dict[str, Noise],
    reproduce: Any = None,
) -> dict[str, PropertyResult]:
    """Every applicable property on the (launched) ``workers``, each result streamed as it comes;
    the workers are closed at the end. A worker that dies or is stopped by a signal is an error
    of the property it ran (``reproduce(name)``: the command that reruns it), and is replaced."""
    results: dict[str, PropertyResult] = {}
    waiting = list(reversed(hand_out_order(applicable)))  # popped from the end
    for extra in workers[len(applicable):]:  # fewer properties than workers
        extra.close()
    workers = workers[:len(applicable)]
    serving: dict[Any, tuple[Child, Property]] = {}

    def hand_out(worker: Child) -> None:
        if waiting:
            prop = waiting.pop()
            worker.send(("run", prop.name, deadline))
            serving[worker.connection] = (worker, prop)

    try:
        for worker in workers:
            worker.start()
            hand_out(worker)
        while serving:
            ready = multiprocessing.connection.wait(list(serving), timeout=POLL)
            stopping.check()  # the user stopped the run, whatever became of its KeyboardInterrupt (see .stopping)
            ready += [c for c, (w, _) in serving.items() if c not in ready and w.stopped()]
            for conn in ready:
                worker, prop = serving.pop(conn)
                try:
                    reply = worker.receive(None)
                    assert reply is not None
                    _, result, its_noise = reply
                except (EOFError, OSError):  # a worker lost (not the target's crash: that has a process of its own)
                    result = _lost(prop, worker, worker.end(), reproduce(prop.name) if reproduce else "")
                    its_noise = {}
                    worker.start()
                results[prop.name] = result
                add_noise(noise, its_noise)
                progress.end(result)
                if result.status == "interrupted":  # Ctrl-C reached the search through the target
                    raise KeyboardInterrupt
                hand_out(worker)
    except KeyboardInterrupt:
        report.interrupted = True
        for _, prop in serving.values():
            results[prop.name] = result_for(prop, "interrupted")
    finally:
        if report.interrupted:
            for worker in workers:
                worker.end()  # its target process dies with it
        else:
            close_all(workers)
    return results
