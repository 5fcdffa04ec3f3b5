"""The target's side of its process: load the target, adapt it, then answer calls until told to stop.

:func:`serve` runs in the process :class:`.isolation.TargetProcess` starts (a :class:`.child.Child`):
it quiets the file descriptors, applies the memory limit, loads the target (as the spec's
functions, a model family's, or one function in a convention, :mod:`.conventions`), reports it
as a :class:`Loaded`, then answers each request. Every reply is :mod:`.wire`'s bytes: data only,
whatever the target returned; an exception crosses as strings (:func:`.faults.raised`).
"""

from __future__ import annotations

import dataclasses
import io
import multiprocessing.connection
import os
import pickle
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from ..target import SPEC_NAMES, Address, TargetError, detect_framework, load, load_object
from . import frameworks, wire
from .child import orphan_guard, receive_request
from .faults import raised, text
from .guard import Guard, raised_by

__all__ = ["Setup", "Loaded", "serve", "declared_domain"]


@dataclasses.dataclass(frozen=True)
class Setup:
    """What a target process needs to serve calls: where the target is and how to adapt it."""

    address: Address
    layout: str = "columns"
    framework: str | None = None  # None: detected from what the target imports
    timeout: float | None = 5.0  # seconds per call; None: no limit
    convention: str | None = None  # the target is one function in this convention (.conventions)
    memory_limit: int | None = None  # bytes of address space of the target's process (RLIMIT_AS); None: none


@dataclasses.dataclass(frozen=True)
class Loaded:
    """What a target process reports once the target is loaded."""

    label: str
    provides: tuple[str, ...]
    missing: tuple[str, ...]
    framework: str
    assume: tuple[str, ...] = ()  # GPTSPEC_ASSUME, or the domain a convention declares (the verifier parses it)
    family: str | None = None  # "recognised nanoGPT's GPT: ...": the model family the target was recognised as


def _quiet_file_descriptors() -> None:
    """Output written below Python (C code, os.write) goes nowhere: it cannot garble the report
    or fill a pipe. Python-level output is captured and counted by the guard."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for fd in (1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    sys.stdout = io.TextIOWrapper(open(1, "wb", closefd=False), write_through=True)
    sys.stderr = io.TextIOWrapper(open(2, "wb", closefd=False), write_through=True)


def _answered(name: str, result: Any, arguments: tuple[Any, ...]) -> bytes:
    """("ok", result, Generator states) encoded; ("refused", name, what) if the result is not data."""
    rngs = [a.bit_generator.state for a in arguments if isinstance(a, np.random.Generator)]
    try:
        return wire.encode(("ok", result, rngs))
    except wire.Refused as exc:  # where in the result: its path in ("ok", result, rngs) less the "[1]"
        return wire.encode(("refused", name, exc.what, exc.at[3:] if exc.at.startswith("[1]") else exc.at))
    except Exception as exc:  # noqa: BLE001 - a hostile value (a list whose __iter__ raises, ...)
        return wire.encode(("refused", name, f"a value that cannot be read ({type(exc).__name__})", ""))


def _limit_memory(limit: int | None) -> None:
    """At most ``limit`` bytes of address space for this process and what it starts (RLIMIT_AS)."""
    if limit is not None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _repeat(fn: Callable[..., Any], times: int, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any]:
    """``times`` calls, each with its own copy of the array arguments, as each call of a loop of
    requests has (a ``logits /= T`` in the target must not reach the next call); a Generator is
    shared, so it advances call by call as in the loop."""
    def fresh(value: Any) -> Any:
        return value.copy() if isinstance(value, np.ndarray) else value

    return [fn(*map(fresh, args), **{k: fresh(v) for k, v in kwargs.items()}) for _ in range(times)]


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


def serve(conn: multiprocessing.connection.Connection, setup: Setup) -> None:
    """The target process: load the target, then answer calls until told to stop. Every reply is
    :mod:`.wire`'s bytes: data only, whatever the target returned."""
    orphan_guard()
    _quiet_file_descriptors()
    _limit_memory(setup.memory_limit)
    from .adapters import adapt

    guard = Guard()
    send = conn.send_bytes
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
                         guard=guard, check=False)  # the result is checked in the verifier, once decoded
            loaded = Loaded(target.label, target.provides, target.missing, framework,
                            (*declared_domain(target.obj, target.label), *impl.assume),
                            getattr(target.obj, "GPTSPEC_FAMILY", None))
    except TargetError as exc:
        send(wire.encode(("load_error", text(lambda: exc, "str()"))))
        return
    except BaseException as exc:  # noqa: BLE001 - say why the target could not be set up
        send(wire.encode(("load_error", f"setting up {setup.address.label} raised {type(exc).__name__}: "
                                        f"{text(lambda: exc, 'str()')}")))
        return
    frameworks.set_up()
    send(wire.encode(("ready", dataclasses.asdict(loaded))))
    while True:
        try:
            message = receive_request(conn)
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
                reply = _answered(name, result, (*args, *kwargs.values()))
            except BaseException as exc:  # noqa: BLE001 - every way a call ends goes back to the verifier
                reply = raised(exc, raised_by(exc) or name)
            send(reply)
        elif kind == "calls":  # several calls in one request, one reply each, up to the first that raises
            for request in message[1]:
                name, args, kwargs = pickle.loads(request)  # each call's own copy of its arguments
                try:
                    result = getattr(impl, name)(*args, **kwargs)
                    send(_answered(name, result, (*args, *kwargs.values())))
                except BaseException as exc:  # noqa: BLE001 - as for one call; the rest are not made
                    send(raised(exc, raised_by(exc) or name))
                    break
        elif kind == "noise":
            send(wire.encode(("noise", {n: (v.printed, v.kept, v.warnings) for n, v in guard.noise.items()})))
            guard.reset()
        else:  # stop: at once, nothing of the target's runs after its last call (torch's teardown took 0.6 s)
            conn.close()
            os._exit(0)

