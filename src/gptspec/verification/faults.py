"""How a call of the target ends other than with an answer, and how an exception crosses from its process.

A call of the target can end in an answer, an Exception the target raised, or a fault of its
process (:data:`TARGET_FAULTS`: it hung, crashed, raised a BaseException, or answered with
something that is not data). The faults are ``BaseException``\\ s, not ``Exception``\\ s: a
property for which "any exception" counts as rejecting invalid input does not count a crash as a
rejection, and Hypothesis stops at once instead of shrinking (each try would cost a restart).

An exception the target raises crosses as strings (:func:`raised`, in the target's process: its
class's module and name, message, line, function) and is rebuilt in the verifier's
(:func:`rebuilt`): as itself when its class is in :data:`REBUILT` (builtin Exceptions that take
one message, and gptspec's own failures raised by gptspec's code in the target's process), else
as :class:`TargetRaised` marked with the original class name; a BaseException that is not an
Exception (KeyboardInterrupt, SystemExit, GeneratorExit...) as :class:`TargetAborted`, an error of
the property: only a signal to gptspec's own process is the user's interrupt. Either way it
carries the function that raised it and the target's line (:func:`.guard.exception_text`).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable

from . import wire
from .choices import memory_text
from .guard import where

__all__ = ["CallTimeout", "TargetCrashed", "TargetRaised", "TargetAborted", "AnswerRefused", "TARGET_FAULTS",
           "RAISED_OR_FAULT", "REBUILT", "MESSAGE_CHARS", "text", "raised", "rebuilt"]


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
    """An exception of a class the verifier does not rebuild (the target's own, torch's, NumPy's...)."""


class TargetAborted(BaseException):
    """The target raised a BaseException that is not an Exception (KeyboardInterrupt, SystemExit,
    GeneratorExit, ...): an error of the property, never the user's interrupt nor a rejection."""


class AnswerRefused(BaseException):
    """The target's process answered with something that is not data (:mod:`.wire`): an object
    array, a custom class, an unconverted tensor, or bytes that are no reply at all."""

    def __init__(self, function: str, message: str) -> None:
        super().__init__(message)
        self.gptspec_function = function


TARGET_FAULTS: tuple[type[BaseException], ...] = (CallTimeout, TargetCrashed, TargetAborted, AnswerRefused)
"""What a call of the target can end in besides an answer or an Exception: each an error of the
property on the example it happened on (a BaseException: not shrunk, never a rejection)."""

RAISED_OR_FAULT: tuple[type[BaseException], ...] = (Exception, *TARGET_FAULTS)
"""What a call of the target, or a property's check of it, ends in other than an answer (not Ctrl-C)."""

_BUILTIN = (ArithmeticError, AssertionError, AttributeError, BufferError, EOFError, Exception, FloatingPointError,
            ImportError, IndexError, LookupError, MemoryError, ModuleNotFoundError, NameError, NotImplementedError,
            OverflowError, RecursionError, RuntimeError, TypeError, ValueError, ZeroDivisionError)
_GPTSPEC = {"gptspec.verification.adapters": ("ResultTypeError",),
            "gptspec.verification.conventions.attention": ("ConventionResultError",),
            "gptspec.properties.registry": ("PropertyFailure",),
            "gptspec.verification.unmodified": ("ArgumentModified",)}
REBUILT: dict[str, tuple[str, str]] = {
    **{f"builtins.{c.__name__}": ("builtins", c.__name__) for c in _BUILTIN},
    **{f"{m}.{n}": (m, n) for m, names in _GPTSPEC.items() for n in names},
}
"""The exception classes rebuilt as themselves from the name and message the target's process sends
(module.name → where gptspec finds the class); any other class is :class:`TargetRaised`."""

MESSAGE_CHARS = 4000
"""Characters of an exception's message that cross (a message of megabytes is the target's, not the report's)."""


def text(make: Callable[[], object], what: str) -> str:
    """``make()``, at most :data:`MESSAGE_CHARS` characters (a target's ``__str__`` may raise)."""
    try:
        said = str(make())
    except BaseException as exc:  # noqa: BLE001 - the target's code: whatever it does
        return f"<{what} raised {type(exc).__name__}>"
    return said if len(said) <= MESSAGE_CHARS else said[:MESSAGE_CHARS] + f"… ({len(said):,} characters)"


def raised(exc: BaseException, function: str | None) -> bytes:
    """An exception as strings for the verifier: ("raised", module.name, name, message, where, function,
    whether it is an Exception, the builtin class of :data:`REBUILT` it derives from, if one)."""
    cls = type(exc)
    name = text(lambda: cls.__name__, "its class name")
    module = text(lambda: cls.__module__, "its module")
    base = next((c.__name__ for c in cls.__mro__ if c in _BUILTIN), "")
    message, line = text(lambda: exc, "str()"), text(lambda: where(exc), "where")
    return wire.encode(("raised", f"{module}.{name}", name, message, line, function, isinstance(exc, Exception), base))


def rebuilt(module_name: str, type_name: str, message: str, where_text: str, function: str | None,
             ordinary: bool = True, base: str = "", memory_limit: int | None = None) -> BaseException:
    """The exception the target raised, from the strings its process sent: ``ordinary`` says its
    class is an Exception (else it is :class:`TargetAborted`, whatever its name); a class not in
    :data:`REBUILT` is :class:`TargetRaised`, also a subclass of the builtin ``base`` it derives
    from (NumPy's AxisError is still an IndexError)."""
    exc: BaseException
    home = REBUILT.get(module_name)
    if not ordinary:
        exc = TargetAborted(message)
    elif home is not None:
        exc = getattr(importlib.import_module(home[0]), home[1])(message)
    else:
        exc = _raised_as(base)(message)
    if type_name == "MemoryError" and memory_limit is not None:
        exc.args = (f"{message} (over the memory limit of {memory_text(memory_limit)}: --memory-limit)",)
    exc.gptspec_type = type_name  # type: ignore[attr-defined]  # marks read by guard.exception_text
    exc.gptspec_where = where_text  # type: ignore[attr-defined]
    exc.gptspec_function = function  # type: ignore[attr-defined]
    return exc


@functools.cache
def _raised_as(base: str) -> type[TargetRaised]:
    """:class:`TargetRaised`, as a subclass of the builtin class named ``base`` too if it is one of :data:`REBUILT`."""
    cls = next((c for c in _BUILTIN if c.__name__ == base), Exception)
    if cls is Exception:
        return TargetRaised
    return type("TargetRaised", (TargetRaised, cls), {"__module__": __name__, "__qualname__": "TargetRaised"})

