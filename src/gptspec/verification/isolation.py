"""The target's own process: every call of a target function runs there, never in gptspec's.

The properties, Hypothesis and the reference stay in the verifier's process. The target is
loaded, adapted (layout and framework, :mod:`.adapters`) and guarded (output, warnings,
:mod:`.guard`) in a worker process, started with multiprocessing's *spawn* method, that holds
only the target; the verifier sees it as :class:`Remote`, an object with one method per spec
function the target provides, which sends each call's arguments over a
``multiprocessing`` pipe (pickle: gptspec's data, read by the target's process) and waits for the
answer, which comes back as data (:mod:`.wire`: never pickle). So:

- a target that exits (any status) or dies by a signal ends only its process: the call raises
  :class:`TargetCrashed` ("exited with status 0", "killed by SIGSEGV");
- a call that gives no answer within the per-call limit — a Python loop or one long C call
  alike — has its process killed on time: :class:`CallTimeout` ("no answer in 3 s: killed");
- after either, the next call starts a fresh process (the target's import is paid once per
  process, not per call);
- nothing the target does (replacing ``gptspec.impl.softmax``, ``np.seterr``, printing
  megabytes, even at the C level) reaches the verifier's process: every reply is encoded by
  :mod:`.wire` in the target's process and decoded here into numbers, strings, arrays of numeric
  dtypes and tuples/lists/dicts of them, calling nothing a reply names; an answer of another kind
  (an object array, a custom class, a tensor nobody converted) is :class:`AnswerRefused`, an error
  of the target naming what it returned, and so is a reply that is not one :mod:`.wire` makes (the
  target can write into its pipe). The result's type check (:func:`.adapters.check_result`) runs
  here, on the decoded answer;
- a wait for a reply that anything interrupts (Ctrl-C, a garbled reply) ends the target's
  process: the next request can never read the interrupted call's reply.

The crash errors (:data:`.faults.TARGET_FAULTS`) are ``BaseException``\\ s (see :mod:`.faults`).

Each round trip costs ~150 µs of CPU beside the call (two wake-ups across processes), so the
calls a property makes on one example can go in one request (:meth:`Remote.calls`, and
:meth:`Remote.repeat` for many samples): the target's process answers them one by one, each
within the per-call limit, stopping at the first that raises, as the loop of calls would.

The process itself is a :class:`.child.Child` (why multiprocessing's Process and Pipe: there); what
runs in it is :func:`.serve.serve`; how a call ends other than with an answer, and how an exception
crosses, is :mod:`.faults` (its names are importable from here too).
"""

from __future__ import annotations

import dataclasses
import functools
import multiprocessing
import multiprocessing.connection
import os
import pickle
import select
import struct
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ..spec.hints import Plan
from ..target import SPEC_NAMES, TargetError
from . import stopping, wire
from .adapters import check_result
from .child import START_TIMEOUT, Child, exit_description, orphan_guard
from .choices import memory_text
from .faults import (
    RAISED_OR_FAULT, REBUILT, TARGET_FAULTS, AnswerRefused, CallTimeout, TargetAborted, TargetCrashed, TargetRaised,
    rebuilt,
)
from .guard import KEEP, Noise
from .serve import Loaded, Setup, serve

__all__ = [
    "CallTimeout", "TargetCrashed", "TargetRaised", "TargetAborted", "AnswerRefused", "TARGET_FAULTS",
    "RAISED_OR_FAULT", "REBUILT",
    "Setup", "Loaded", "Child", "TargetProcess", "Remote", "Returned", "START_TIMEOUT", "exit_description",
    "orphan_guard", "memory_text",
]

_serve = serve  # the target process's function, by its old name

MAX_REPLY = 1 << 30
"""Bytes of one reply the verifier reads at most (a larger one is the target's error, not our memory's)."""

_LENGTH, _LONG_LENGTH = struct.Struct("!i"), struct.Struct("!Q")  # multiprocessing's framing of a message


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, (tuple, list)) or not all(isinstance(v, str) for v in value):
        raise wire.Garbled(f"a list of names that is {wire.describe(value)}")
    return tuple(value)


def _loaded(fields: Any) -> Loaded:
    """The :class:`Loaded` record from the plain fields the target's process sent."""
    if not isinstance(fields, dict) or set(fields) != {f.name for f in dataclasses.fields(Loaded)}:
        raise wire.Garbled("a 'ready' reply without the fields of a loaded target")
    label, framework = fields["label"], fields["framework"]
    if not isinstance(label, str) or not isinstance(framework, str):
        raise wire.Garbled("a 'ready' reply whose label or framework is not a string")
    family = fields["family"]
    if family is not None and not isinstance(family, str):
        raise wire.Garbled("a 'ready' reply whose family is not a string")
    return Loaded(label, _strings(fields["provides"]), _strings(fields["missing"]), framework,
                  _strings(fields["assume"]), family)


def _noise(book: Any) -> dict[str, Noise]:
    """What each function printed or warned, from the plain fields the target's process sent."""
    def entry(value: Any) -> Noise:
        printed, kept, warned = value
        if not (isinstance(printed, int) and isinstance(kept, str) and isinstance(warned, dict)
                and all(isinstance(k, str) and isinstance(c, int) for k, c in warned.items())):
            raise ValueError
        return Noise(printed, kept[:KEEP], warned)

    try:
        return {name: entry(value) for name, value in book.items() if isinstance(name, str)}
    except (ValueError, TypeError, AttributeError):
        raise wire.Garbled("a 'noise' reply that is not what each function printed") from None


def check_answer(name: str, value: Any) -> Any:
    """``value`` if it is of the kind the spec's ``name`` returns (an array, an int), else the
    :class:`.adapters.ResultTypeError` naming it: run here, on the decoded answer."""
    if name in SPEC_NAMES:
        check_result(name, value, _promised(name))
    return value


@functools.cache
def _promised(name: str) -> Any:
    """The result hint of the spec's ``name`` (read once: Plan.of costs ~2 µs a call)."""
    return Plan.of(name).result


class TargetProcess(Child):
    """The process holding the target: one call at a time, each within the per-call limit."""

    def __init__(self, setup: Setup, *, start_timeout: float = START_TIMEOUT) -> None:
        super().__init__(serve, (setup,), setup.address.label, start_timeout=start_timeout, sandbox=True)
        self.setup = setup
        self._buffer = bytearray()  # what was read from the pipe beyond the last reply
        self._read_from: Any = None  # the pipe the buffer holds bytes of
        self._missing = 0  # bytes of the next reply not read yet, once its length is known

    @property
    def loaded(self) -> Loaded | None:
        info: Loaded | None = self.info
        return info

    def start(self) -> Any:
        try:
            return super().start()
        except wire.Garbled as exc:
            raise TargetError(f"the process loading {self.label} sent bytes that are no reply: {exc}") from None
        except TargetError as exc:
            hints = ("emory", "map", "killed", "exited")  # MemoryError, "failed to map segment", a kill
            if self.setup.memory_limit is None or not any(w in str(exc) for w in hints):
                raise
            raise TargetError(f"{exc} (under the memory limit of {memory_text(self.setup.memory_limit)}: "
                              "--memory-limit)") from None

    # reading replies: data only (.wire), each within the per-call limit however the target writes its pipe

    def receive(self, timeout: float | None) -> tuple[Any, ...] | None:
        """The next reply (decoded, a tuple); None if none began within ``timeout`` seconds."""
        assert self._conn is not None
        if self._complete(self._conn, take=False) is None and not self._await(self._conn, timeout):
            return None
        reply: tuple[Any, ...] = self._recv(self._conn)
        if self._reachable and self.stopped():  # its target stopped its sandbox: it answered, but would never end
            raise EOFError
        return reply

    def _recv(self, conn: multiprocessing.connection.Connection) -> Any:
        """One reply, decoded; the handshake's ``Loaded`` rebuilt from its fields. :class:`.wire.Garbled`
        for bytes that are no reply, or a reply that stops half-way for longer than the per-call limit."""
        until = None if self.setup.timeout is None else time.monotonic() + self.setup.timeout
        waited = False  # called once a poll said the pipe is readable: the first read does not block
        while (data := self._complete(conn)) is None:
            if waited and until is not None and not select.select([conn], [], [], _left(until))[0]:
                raise wire.Garbled(f"a reply that stopped half-way for {self.setup.timeout:g} s")
            chunk = os.read(conn.fileno(), max(1 << 16, min(self._missing, 1 << 24)))
            if not chunk:
                raise EOFError
            self._buffer += chunk
            waited = True
        reply = wire.decode(data)
        if not isinstance(reply, tuple) or not reply or not isinstance(reply[0], str):
            raise wire.Garbled(f"a reply that is {wire.describe(reply)}")
        if self._conn is None:  # the handshake
            if reply[0] == "ready" and len(reply) == 2:
                return "ready", _loaded(reply[1])
            if reply[0] == "load_error" and len(reply) == 2 and isinstance(reply[1], str):
                return reply
            raise wire.Garbled(f"a first reply of kind {reply[0]!r:.40}")
        return reply

    def _complete(self, conn: Any, take: bool = True) -> bytes | None:
        """The next whole message in the buffer (taken out of it unless not ``take``), if one is there."""
        if conn is not self._read_from:  # a new process: nothing of the last one's is read
            self._buffer, self._read_from = bytearray(), conn
        buffer, self._missing = self._buffer, 0
        if len(buffer) < 4:
            return None
        (size,), head = _LENGTH.unpack_from(buffer), 4
        if size == -1:
            if len(buffer) < 12:
                return None
            (size,), head = _LONG_LENGTH.unpack_from(buffer, 4), 12
        if not 0 <= size <= MAX_REPLY:
            raise wire.Garbled(f"a reply announced as {size:,} bytes (gptspec reads up to {MAX_REPLY:,})")
        if len(buffer) < head + size:
            self._missing = head + size - len(buffer)
            return None
        if not take:
            return b""
        data = bytes(buffer[head:head + size])
        del buffer[:head + size]
        return data

    # calls

    def _ask(self, message: tuple[Any, ...], function: str) -> tuple[Any, ...]:
        try:
            self.send(message)
        except OSError:  # the pipe broke: the process is gone
            raise TargetCrashed(function, self._ended()) from None
        except BaseException:  # interrupted half-way through a request: the process goes with it
            self.end()
            raise
        return self._reply(function)

    def _ended(self) -> str:
        """End the process; how it ended, and the memory limit it ran under if it was killed."""
        how = self.end()
        if self.setup.memory_limit is not None and how.startswith("killed"):
            how += f" (it ran under a memory limit of {memory_text(self.setup.memory_limit)}: --memory-limit)"
        return how

    def _reply(self, function: str) -> tuple[Any, ...]:
        """The next reply, within the per-call limit; TargetCrashed, CallTimeout as for one call,
        AnswerRefused for bytes that are no reply. Whatever interrupts the wait (Ctrl-C too) ends
        the process, so that no later request reads this call's reply."""
        try:
            reply = self.receive(self.setup.timeout)  # None: no answer in time
        except (EOFError, OSError):  # the pipe broke: the process is gone
            raise TargetCrashed(function, self._ended()) from None
        except wire.Garbled as exc:
            self.end()
            raise AnswerRefused(function, f"{function}'s process sent bytes that are no reply ({exc}); the target's "
                                          "process can write into its pipe, gptspec reads only data") from None
        except BaseException:
            self.end()
            raise
        if reply is None:
            self.end()
            raise CallTimeout(function, self.setup.timeout or 0.0)
        return reply

    def _outcome(self, reply: tuple[Any, ...], function: str, generators: list[np.random.Generator],
                 times: int | None = None) -> Any:
        """A call's result from its reply (Generators set to the states they reached there), or the
        exception it stands for, returned; a reply of an unknown shape ends the process."""
        kind = reply[0]
        try:
            if kind == "ok" and len(reply) == 3 and isinstance(reply[2], list):
                _, result, states = reply
                for generator, state in zip(generators, states):
                    generator.bit_generator.state = state
                if times is None:
                    return Returned(check_answer(function, result))
                if isinstance(result, list) and len(result) == times:
                    return Returned([check_answer(function, r) for r in result])
            elif kind == "raised" and len(reply) == 8 and all(isinstance(r, str) for r in (*reply[1:5], reply[7])):
                return rebuilt(*reply[1:5], reply[5] if isinstance(reply[5], str) else function, reply[6] is True,
                                reply[7], self.setup.memory_limit)
            elif kind == "refused" and len(reply) == 4 and all(isinstance(r, str) for r in reply[1:]):
                at = f" (at {reply[3]})" if reply[3] else ""
                return AnswerRefused(function, f"{function} returned {reply[2]}{at}; {wire.ACCEPTED}")
        except (TypeError, ValueError, KeyError) as exc:  # a Generator state NumPy does not take
            self.end()
            return AnswerRefused(function, f"{function}'s process sent a Generator state gptspec cannot set ({exc})")
        self.end()
        return AnswerRefused(function, f"{function}'s process sent a reply of kind {kind!r:.40} that gptspec does not "
                                       "read")

    def call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any], times: int | None = None) -> Any:
        """``name(*args, **kwargs)`` in the target's process; a Generator argument advances here as
        it did there. ``times``: that many calls in a row, in one request (their list comes back;
        the per-call limit applies to the request), for a property that draws many samples."""
        reply = self._ask(("call", name, args, kwargs, times), name)
        outcome = self._outcome(reply, name, _generators(args, kwargs), times)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome.value

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
                    if isinstance(exc, KeyboardInterrupt):
                        raise
                    outcomes.append(exc)
                    break
            return outcomes
        if not requests:
            return outcomes
        try:  # pickled one by one: a call that writes into its arguments cannot change the next call's
            self.send(("calls", [pickle.dumps(r, protocol=pickle.HIGHEST_PROTOCOL) for r in requests]))
        except OSError:
            outcomes.append(TargetCrashed(requests[0][0], self._ended()))
            return outcomes
        except BaseException:
            self.end()
            raise
        for name, args, kwargs in requests:
            try:
                reply = self._reply(name)
            except (TargetCrashed, CallTimeout, AnswerRefused) as exc:
                outcomes.append(exc)
                break
            outcome = self._outcome(reply, name, _generators(args, kwargs))
            outcomes.append(outcome)
            if isinstance(outcome, BaseException):
                if len(outcomes) < len(requests) and reply[0] != "raised":
                    self.end()  # the later calls' replies must not be read as the next request's
                break
        return outcomes

    def take_noise(self) -> dict[str, Noise]:
        """What each target function printed or warned since the last time asked (nothing if the
        process is down: what a crashed process had seen is gone with it)."""
        if self.connection is None or stopping.requested() is not None:  # stopped: the partial report goes on without
            return {}
        try:
            reply = self._ask(("noise",), "noise")
            if reply[0] != "noise" or len(reply) != 2:
                raise wire.Garbled(f"a reply of kind {reply[0]!r:.40} to 'noise'")
            return _noise(reply[1])
        except wire.Garbled:
            self.end()
            return {}
        except (TargetCrashed, CallTimeout, AnswerRefused):
            return {}


def _left(until: float) -> float:
    return max(0.0, until - time.monotonic())


def _generators(args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[np.random.Generator]:
    return [a for a in (*args, *kwargs.values()) if isinstance(a, np.random.Generator)]


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
