"""The target's own process: every call of a target function runs there, never in gptspec's.

The properties, Hypothesis and the reference stay in the verifier's process. The target is
loaded, adapted (layout and framework, :mod:`.adapters`) and guarded (output, warnings,
:mod:`.guard`) in a worker process, started with multiprocessing's *spawn* method, that holds
only the target; the verifier sees it as :class:`Remote`, an object with one method per spec
function the target provides, which sends each call's arguments over a
``multiprocessing`` pipe (pickle) and waits for the answer. So:

- a target that exits (any status) or dies by a signal ends only its process: the call raises
  :class:`TargetCrashed` ("exited with status 0", "killed by SIGSEGV");
- a call that gives no answer within the per-call limit — a Python loop or one long C call
  alike — has its process killed on time: :class:`CallTimeout` ("no answer in 3 s: killed");
- after either, the next call starts a fresh process (the target's import is paid once per
  process, not per call);
- nothing the target does (replacing ``gptspec.impl.softmax``, ``np.seterr``, printing
  megabytes, even at the C level) reaches the verifier's process: answers are unpickled by an
  unpickler that builds only NumPy, builtin and gptspec objects, so not even a returned object
  can import the target's code here.

Both crash errors are ``BaseException``\\ s, not ``Exception``\\ s: a property for which "any
exception" counts as rejecting invalid input does not count a crash as a rejection, and
Hypothesis stops at once instead of shrinking (each try would cost a restart).

Each round trip costs ~150 µs of CPU beside the call (two wake-ups across processes), so the
calls a property makes on one example can go in one request (:meth:`Remote.calls`, and
:meth:`Remote.repeat` for many samples): the target's process answers them one by one, each
within the per-call limit, stopping at the first that raises, as the loop of calls would.

The process itself is a :class:`.child.Child` (why multiprocessing's Process and Pipe: there).

An exception the target raises crosses as itself when its class is builtin, NumPy's or
gptspec's, else as :class:`TargetRaised` with the original class name; either way it carries the
function that raised it and the target's line (:func:`.guard.exception_text`).
"""

from __future__ import annotations

import dataclasses
import io
import multiprocessing
import multiprocessing.connection
import os
import pickle
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from ..target import SPEC_NAMES, Address, TargetError, detect_framework, load, load_object
from . import frameworks
from .child import SAFE_MODULES, START_TIMEOUT, Child, exit_description, orphan_guard, unpickle
from .guard import Guard, Noise, raised_by, where

__all__ = [
    "CallTimeout", "TargetCrashed", "TargetRaised", "Setup", "Loaded", "Child", "TargetProcess", "Remote", "Returned",
    "START_TIMEOUT", "exit_description", "orphan_guard",
]

class CallTimeout(BaseException):
    """A call of the target gave no answer within the per-call limit; its process was killed."""

    def __init__(self, function: str, seconds: float) -> None:
        super().__init__(f"no answer in {seconds:g} s: killed")
        self.gptspec_function = function
        self.seconds = seconds


class TargetCrashed(BaseException):
    """The target's process ended during a call: it exited or was killed by a signal."""

    def __init__(self, function: str, how: str) -> None:
        super().__init__(how)
        self.gptspec_function = function
        self.how = how


class TargetRaised(Exception):
    """An exception of a class the verifier does not import (the target's own, torch's, ...)."""


@dataclasses.dataclass(frozen=True)
class Setup:
    """What a target process needs to serve calls: where the target is and how to adapt it."""

    address: Address
    layout: str = "columns"
    framework: str | None = None  # None: detected from what the target imports
    timeout: float | None = 5.0  # seconds per call; None: no limit
    convention: str | None = None  # the target is one function in this convention (.conventions)


@dataclasses.dataclass(frozen=True)
class Loaded:
    """What a target process reports once the target is loaded."""

    label: str
    provides: tuple[str, ...]
    missing: tuple[str, ...]
    framework: str
    assume: tuple[str, ...] = ()  # GPTSPEC_ASSUME, or the domain a convention declares (the verifier parses it)


# ---------------------------------------------------------------------------------------------
# The target's side


def _quiet_file_descriptors() -> None:
    """Output written below Python (C code, os.write) goes nowhere: it cannot garble the report
    or fill a pipe. Python-level output is captured and counted by the guard."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for fd in (1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    sys.stdout = io.TextIOWrapper(open(1, "wb", closefd=False), write_through=True)
    sys.stderr = io.TextIOWrapper(open(2, "wb", closefd=False), write_through=True)


def _safe_class(cls: type) -> bool:
    module = getattr(cls, "__module__", "") or ""
    return module.split(".")[0] in SAFE_MODULES


def _portable(exc: BaseException, function: str | None) -> tuple[bytes | None, str, str, str, str | None]:
    """An exception as (pickle or None, class name, message, where, function) for the verifier."""
    pickled = None
    if _safe_class(type(exc)):
        try:
            pickled = pickle.dumps(exc)
        except Exception:  # noqa: BLE001 - an exception whose arguments do not pickle
            pickled = None
    return pickled, type(exc).__name__, str(exc), where(exc), function


def _answer(result: Any) -> Any:
    """A result as it crosses back: arrays as plain ndarrays (a subclass stays here)."""
    if isinstance(result, np.ndarray) and type(result) is not np.ndarray:
        return np.asarray(result)
    return result


def _repeat(fn: Callable[..., Any], times: int, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any]:
    """``times`` calls, each with its own copy of the array arguments, as each call of a loop of
    requests has (a ``logits /= T`` in the target must not reach the next call); a Generator is
    shared, so it advances call by call as in the loop."""
    def fresh(value: Any) -> Any:
        return value.copy() if isinstance(value, np.ndarray) else value

    return [_answer(fn(*map(fresh, args), **{k: fresh(v) for k, v in kwargs.items()})) for _ in range(times)]


def declared_domain(obj: Any, label: str) -> tuple[str, ...]:
    """The target's own ``GPTSPEC_ASSUME`` (a list of words, or one word), read here in its
    process; the words are checked by the verifier, which knows them."""
    declared = getattr(obj, "GPTSPEC_ASSUME", ())
    if isinstance(declared, str):
        declared = (declared,)
    if not isinstance(declared, (list, tuple)) or not all(isinstance(w, str) for w in declared):
        raise TargetError(f"GPTSPEC_ASSUME in {label} must be a list of strings such as ['causal-only'], "
                          f"got {declared!r:.60}")
    return tuple(declared)


def _serve(conn: multiprocessing.connection.Connection, setup: Setup) -> None:
    """The target process: load the target, then answer calls until told to stop."""
    orphan_guard()
    _quiet_file_descriptors()
    from .adapters import adapt

    guard = Guard()
    try:
        if setup.convention is not None:  # one function in an ecosystem's convention: build the spec around it
            from .conventions import adapt_convention

            obj, label = load_object(setup.address)
            impl = adapt_convention(setup.convention, obj, label=label, framework=setup.framework, guard=guard)
            missing = tuple(n for n in SPEC_NAMES if n not in impl.provides)
            loaded = Loaded(label, impl.provides, missing, impl.framework, impl.assume)
        else:
            target = load(setup.address)
            framework = setup.framework or detect_framework(target.obj, target.provides)
            impl = adapt(target.obj, target.provides, layout=setup.layout, framework=framework, label=target.label,
                         guard=guard)
            loaded = Loaded(target.label, target.provides, target.missing, framework,
                            (*declared_domain(target.obj, target.label), *impl.assume))
    except TargetError as exc:
        conn.send(("load_error", str(exc)))
        return
    except BaseException as exc:  # noqa: BLE001 - say why the target could not be set up
        conn.send(("load_error", f"setting up {setup.address.label} raised {type(exc).__name__}: {exc}"))
        return
    frameworks.set_up()
    conn.send(("ready", loaded))
    while True:
        try:
            message = conn.recv()
        except EOFError:  # the verifier is gone
            return
        kind = message[0]
        if kind == "call":
            _, name, args, kwargs, times = message
            try:
                fn = getattr(impl, name)
                if times is None:
                    result = fn(*args, **kwargs)
                elif setup.convention is None:  # the guard once around the loop, not per call (~30 µs each)
                    result = guard(name, _repeat)(fn, times, args, kwargs)
                else:  # a convention's functions guard the user's function under its own name
                    result = _repeat(fn, times, args, kwargs)
                rngs = [a.bit_generator.state for a in (*args, *kwargs.values()) if isinstance(a, np.random.Generator)]
                reply: tuple[Any, ...] = ("ok", _answer(result), rngs)
                conn.send(reply)
            except BaseException as exc:  # noqa: BLE001 - every way a call ends goes back to the verifier
                conn.send(("raised", *_portable(exc, raised_by(exc) or name)))
        elif kind == "calls":  # several calls in one request, one reply each, up to the first that raises
            for request in message[1]:
                name, args, kwargs = pickle.loads(request)  # each call's own copy of its arguments
                try:
                    result = getattr(impl, name)(*args, **kwargs)
                    rngs = [a.bit_generator.state for a in (*args, *kwargs.values()) if isinstance(a, np.random.Generator)]
                    conn.send(("ok", _answer(result), rngs))
                except BaseException as exc:  # noqa: BLE001 - as for one call; the rest are not made
                    conn.send(("raised", *_portable(exc, raised_by(exc) or name)))
                    break
        elif kind == "noise":
            conn.send(("noise", guard.noise))
            guard.reset()
        else:  # stop: at once, nothing of the target's runs after its last call (torch's teardown took 0.6 s)
            conn.close()
            os._exit(0)


# ---------------------------------------------------------------------------------------------
# The verifier's side


def _rebuilt(pickled: bytes | None, type_name: str, message: str, where_text: str, function: str | None) -> BaseException:
    exc: BaseException | None = None
    if pickled is not None:
        try:
            exc = unpickle(pickled)
        except Exception:  # noqa: BLE001 - a class that does not rebuild from its pickle
            exc = None
    if not isinstance(exc, BaseException):
        exc = TargetRaised(message)
    exc.gptspec_type = type_name  # type: ignore[attr-defined]  # marks read by guard.exception_text
    exc.gptspec_where = where_text  # type: ignore[attr-defined]
    exc.gptspec_function = function  # type: ignore[attr-defined]
    return exc


class TargetProcess(Child):
    """The process holding the target: one call at a time, each within the per-call limit."""

    def __init__(self, setup: Setup, *, start_timeout: float = START_TIMEOUT) -> None:
        super().__init__(_serve, (setup,), setup.address.label, start_timeout=start_timeout)
        self.setup = setup

    @property
    def loaded(self) -> Loaded | None:
        info: Loaded | None = self.info
        return info

    # calls

    def _ask(self, message: tuple[Any, ...], function: str) -> tuple[Any, ...]:
        try:
            self.send(message)
        except OSError:  # the pipe broke: the process is gone
            raise TargetCrashed(function, self.end()) from None
        return self._reply(function)

    def _reply(self, function: str) -> tuple[Any, ...]:
        """The next reply, within the per-call limit; TargetCrashed, CallTimeout as for one call."""
        try:
            reply = self.receive(self.setup.timeout)  # None: no answer in time
        except (EOFError, OSError):  # the pipe broke: the process is gone
            raise TargetCrashed(function, self.end()) from None
        except pickle.UnpicklingError as exc:
            raise TargetRaised(f"{function} returned {exc}, which gptspec does not load into its own process") from None
        if reply is None:
            self.end()
            raise CallTimeout(function, self.setup.timeout or 0.0)
        return reply

    def call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any], times: int | None = None) -> Any:
        """``name(*args, **kwargs)`` in the target's process; a Generator argument advances here as
        it did there. ``times``: that many calls in a row, in one request (their list comes back;
        the per-call limit applies to the request), for a property that draws many samples."""
        reply = self._ask(("call", name, args, kwargs, times), name)
        if reply[0] == "raised":
            raise _rebuilt(*reply[1:])
        _, result, rng_states = reply
        generators = [a for a in (*args, *kwargs.values()) if isinstance(a, np.random.Generator)]
        for generator, state in zip(generators, rng_states):
            generator.bit_generator.state = state
        return result

    def calls(self, requests: list[tuple[str, tuple[Any, ...], dict[str, Any]]]) -> list[Any]:
        """Several calls made one after another in the target's process, sent in one request: a
        list with each call's result, or, for the first call that raised, crashed or gave no
        answer within the per-call limit (each call has its own), the exception it would have
        raised; no later call is made, as in a loop of :meth:`call`. Generators advance as there."""
        outcomes: list[Any] = []
        shared = [id(a) for _, args, kwargs in requests for a in (*args, *kwargs.values())
                  if isinstance(a, np.random.Generator)]
        if len(set(shared)) < len(shared):  # one Generator for several calls advances call by call
            for name, args, kwargs in requests:  # one request each
                try:
                    outcomes.append(Returned(self.call(name, args, kwargs)))
                except BaseException as exc:  # noqa: BLE001 - read back in its place, as in the batch
                    outcomes.append(exc)
                    break
            return outcomes
        if not requests:
            return outcomes
        try:  # pickled one by one: a call that writes into its arguments cannot change the next call's
            self.send(("calls", [pickle.dumps(r, protocol=pickle.HIGHEST_PROTOCOL) for r in requests]))
        except OSError:
            outcomes.append(TargetCrashed(requests[0][0], self.end()))
            return outcomes
        for name, args, kwargs in requests:
            try:
                reply = self._reply(name)
            except (TargetCrashed, CallTimeout, TargetRaised) as exc:
                outcomes.append(exc)
                if isinstance(exc, TargetRaised) and len(outcomes) < len(requests):
                    self.end()  # the later calls' replies must not be read as the next request's
                break
            if reply[0] == "raised":
                outcomes.append(_rebuilt(*reply[1:]))
                break
            _, result, rng_states = reply
            generators = [a for a in (*args, *kwargs.values()) if isinstance(a, np.random.Generator)]
            for generator, state in zip(generators, rng_states):
                generator.bit_generator.state = state
            outcomes.append(Returned(result))
        return outcomes

    def take_noise(self) -> dict[str, Noise]:
        """What each target function printed or warned since the last time asked (nothing if the
        process is down: what a crashed process had seen is gone with it)."""
        if self.connection is None:
            return {}
        try:
            _, noise = self._ask(("noise",), "noise")
        except (TargetCrashed, CallTimeout):
            return {}
        return dict(noise)


@dataclasses.dataclass(frozen=True)
class Returned:
    """One call's result in :meth:`TargetProcess.calls` (an exception there is the call's own)."""

    value: Any


class Remote:
    """The target as the properties see it: one method per spec function it provides, each a
    call in the target's process (columns layout, NumPy in and out, as :class:`.adapters.Adapted`)."""

    def __init__(self, process: TargetProcess) -> None:
        loaded = process.start()
        self.process = process
        self.label, self.provides, self.framework = loaded.label, loaded.provides, loaded.framework
        self.layout = process.setup.layout
        for name in loaded.provides:
            setattr(self, name, self._method(name))

    def repeat(self, name: str, times: int, *args: Any, **kwargs: Any) -> list[Any]:
        """``[name(*args, **kwargs) for _ in range(times)]`` in one round trip to the target's process."""
        result: list[Any] = self.process.call(name, args, kwargs, times)
        return result

    def calls(self, requests: list[tuple[str, tuple[Any, ...]]]) -> list[Any]:
        """``[name(*args) for name, args in requests]`` in one request to the target's process: each
        result as :class:`Returned`, and in place of the first call that raised (or crashed, or
        hung) its exception, after which no call is made (see :meth:`TargetProcess.calls`)."""
        return self.process.calls([(name, tuple(args), {}) for name, args in requests])

    def _method(self, name: str) -> Callable[..., Any]:
        call = self.process.call

        def method(*args: Any, **kwargs: Any) -> Any:
            return call(name, args, kwargs)

        method.__name__ = method.__qualname__ = name
        method.__doc__ = f"{name} of {self.label}, called in its own process"
        return method

    def __repr__(self) -> str:
        return f"<{self.label} in its own process ({self.layout}, {self.framework}): {', '.join(self.provides)}>"
