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

Why multiprocessing's Process and Pipe rather than a ``ProcessPoolExecutor``: a pool reports a
dead worker as ``BrokenProcessPool``, without its exit status or signal, and before Python 3.14
cannot kill one hung worker; a Process gives both (``exitcode``, ``kill()``), and its pipe is
the standard library's own framing and pickling.

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
import signal
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from ..target import SPEC_NAMES, Address, TargetError, detect_framework, load, load_object
from .guard import Guard, Noise, raised_by, where

__all__ = [
    "CallTimeout", "TargetCrashed", "TargetRaised", "Setup", "Loaded", "Child", "TargetProcess", "Remote",
    "START_TIMEOUT", "exit_description", "orphan_guard",
]

START_TIMEOUT = 120.0
"""Seconds a target process may take to start and import the target (torch alone takes seconds)."""


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


def exit_description(exitcode: int | None) -> str:
    """'exited with status 0', 'killed by SIGSEGV': how a process ended."""
    if exitcode is None:
        return "stopped answering"
    if exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exited with status {exitcode}"


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


_SAFE_MODULES = ("builtins", "numpy", "gptspec", "copyreg", "collections", "_codecs")


def _safe_class(cls: type) -> bool:
    module = getattr(cls, "__module__", "") or ""
    return module.split(".")[0] in _SAFE_MODULES


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


def orphan_guard() -> None:
    """In a child: ignore Ctrl-C (the parent handles it and ends this process) and, on Linux, die
    with the parent (a parent killed by a signal cannot end its children itself)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the pipe's EOF still ends an idle child
        pass
    parent = multiprocessing.parent_process()
    if parent is not None and os.getppid() != parent.pid:  # the parent died before prctl took: go now
        os._exit(0)


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
            loaded = Loaded(label, impl.provides, tuple(n for n in SPEC_NAMES if n not in impl.provides), impl.framework)
        else:
            target = load(setup.address)
            framework = setup.framework or detect_framework(target.obj, target.provides)
            impl = adapt(target.obj, target.provides, layout=setup.layout, framework=framework, label=target.label,
                         guard=guard)
            loaded = Loaded(target.label, target.provides, target.missing, framework)
    except TargetError as exc:
        conn.send(("load_error", str(exc)))
        return
    except BaseException as exc:  # noqa: BLE001 - say why the target could not be set up
        conn.send(("load_error", f"setting up {setup.address.label} raised {type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", loaded))
    while True:
        try:
            message = conn.recv()
        except EOFError:  # the verifier is gone
            return
        kind = message[0]
        if kind == "call":
            _, name, args, kwargs = message
            try:
                result = getattr(impl, name)(*args, **kwargs)
                rngs = [a.bit_generator.state for a in (*args, *kwargs.values()) if isinstance(a, np.random.Generator)]
                reply: tuple[Any, ...] = ("ok", _answer(result), rngs)
                conn.send(reply)
            except BaseException as exc:  # noqa: BLE001 - every way a call ends goes back to the verifier
                conn.send(("raised", *_portable(exc, raised_by(exc) or name)))
        elif kind == "noise":
            conn.send(("noise", guard.noise))
            guard.reset()
        else:
            return


# ---------------------------------------------------------------------------------------------
# The verifier's side


class _SafeUnpickler(pickle.Unpickler):
    """Builds only objects of NumPy, builtins and gptspec: an answer never imports target code."""

    def find_class(self, module: str, name: str) -> Any:
        if module.split(".")[0] not in _SAFE_MODULES:
            raise pickle.UnpicklingError(f"an object of {module}.{name}")
        return super().find_class(module, name)


def _unpickle(data: bytes) -> Any:
    return _SafeUnpickler(io.BytesIO(data)).load()


def _rebuilt(pickled: bytes | None, type_name: str, message: str, where_text: str, function: str | None) -> BaseException:
    exc: BaseException | None = None
    if pickled is not None:
        try:
            exc = _unpickle(pickled)
        except Exception:  # noqa: BLE001 - a class that does not rebuild from its pickle
            exc = None
    if not isinstance(exc, BaseException):
        exc = TargetRaised(message)
    exc.gptspec_type = type_name  # type: ignore[attr-defined]  # marks read by guard.exception_text
    exc.gptspec_where = where_text  # type: ignore[attr-defined]
    exc.gptspec_function = function  # type: ignore[attr-defined]
    return exc


class Child:
    """A spawned process that answers requests over a pipe: started on first use, killed on a
    hang, and started afresh after it ends.

    ``serve(conn, *args)`` runs in the child: it sends ``("ready", info)`` once set up (or
    ``("load_error", message)``), then answers each request with one reply. Replies are read by
    :class:`_SafeUnpickler`. The target's processes and the ``--jobs`` workers are both Children
    (a worker is not daemonic: it starts a target process of its own).
    """

    def __init__(self, serve: Callable[..., None], args: tuple[Any, ...], label: str, *,
                 start_timeout: float = START_TIMEOUT, daemon: bool = True) -> None:
        self._serve_fn, self._args, self.label, self._daemon = serve, args, label, daemon
        self.start_timeout = start_timeout
        self.starts = 0
        self.info: Any = None
        self._process: Any = None
        self._conn: multiprocessing.connection.Connection | None = None

    # life cycle

    def start(self) -> Any:
        """Start the process (if it is not running) and return what it set up; TargetError if it cannot."""
        if self._conn is not None:
            return self.info
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe(duplex=True)
        process = context.Process(target=self._serve_fn, args=(theirs, *self._args), name="gptspec-" + self._serve_fn.__name__.strip("_"), daemon=self._daemon)
        process.start()
        theirs.close()
        self.starts += 1
        try:
            if not ours.poll(self.start_timeout):
                raise TargetError(f"{self.label} did not load within {self.start_timeout:g} s")
            kind, payload = _unpickle(ours.recv_bytes())
            if kind == "load_error":
                raise TargetError(payload)
        except (EOFError, OSError):
            process.join(5)
            raise TargetError(f"the process loading {self.label} {exit_description(process.exitcode)}") from None
        except BaseException:  # a load error, or Ctrl-C while waiting: the half-started process goes too
            process.kill()
            process.join()
            ours.close()
            raise
        self._process, self._conn, self.info = process, ours, payload
        return payload

    @property
    def connection(self) -> multiprocessing.connection.Connection | None:
        """The pipe to the running process (None while none runs): for ``multiprocessing.connection.wait``."""
        return self._conn

    def end(self) -> str:
        """Kill the process (if alive) and say how it ended."""
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if process is not None and process.is_alive():
            process.kill()  # before the pipe closes: it must not find the pipe broken mid-answer
        if conn is not None:
            conn.close()
        if process is None:
            return "stopped answering"
        process.join()
        return exit_description(process.exitcode)

    def close(self) -> None:
        """Stop the process: asked first, killed if it does not go."""
        if self._conn is not None:
            try:
                self._conn.send(("stop",))
            except OSError:
                pass
            self._process.join(2)
        self.end()

    def __enter__(self) -> Child:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def send(self, message: tuple[Any, ...]) -> None:
        """Send one request (OSError: the process is gone)."""
        self.start()
        assert self._conn is not None
        self._conn.send(message)

    def receive(self, timeout: float | None) -> tuple[Any, ...] | None:
        """The reply to the last request; None if none came within ``timeout`` seconds (None: wait);
        EOFError or OSError if the process ended."""
        assert self._conn is not None
        if not self._conn.poll(timeout):
            return None
        data = self._conn.recv_bytes()
        reply: tuple[Any, ...] = _unpickle(data)
        return reply


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
            reply = self.receive(self.setup.timeout)  # None: no answer in time
        except (EOFError, OSError):  # the pipe broke: the process is gone
            raise TargetCrashed(function, self.end()) from None
        except pickle.UnpicklingError as exc:
            raise TargetRaised(f"{function} returned {exc}, which gptspec does not load into its own process") from None
        if reply is None:
            self.end()
            raise CallTimeout(function, self.setup.timeout or 0.0)
        return reply

    def call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """``name(*args, **kwargs)`` in the target's process; a Generator argument advances here as it did there."""
        reply = self._ask(("call", name, args, kwargs), name)
        if reply[0] == "raised":
            raise _rebuilt(*reply[1:])
        _, result, rng_states = reply
        generators = [a for a in (*args, *kwargs.values()) if isinstance(a, np.random.Generator)]
        for generator, state in zip(generators, rng_states):
            generator.bit_generator.state = state
        return result

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

    def _method(self, name: str) -> Callable[..., Any]:
        call = self.process.call

        def method(*args: Any, **kwargs: Any) -> Any:
            return call(name, args, kwargs)

        method.__name__ = method.__qualname__ = name
        method.__doc__ = f"{name} of {self.label}, called in its own process"
        return method

    def __repr__(self) -> str:
        return f"<{self.label} in its own process ({self.layout}, {self.framework}): {', '.join(self.provides)}>"
