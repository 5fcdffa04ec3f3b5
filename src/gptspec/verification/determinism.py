"""A target that answers the same arguments differently: found, and shown with both answers.

Hypothesis calls a failure that does not come back when it runs the same example again *flaky*
(``FlakyFailure``). The properties are deterministic functions of their example and of the
target's answers, so a flaky search means the target answered the same input differently. When
a search ends so, :func:`find` replays the example with every call of the target recorded (its
arguments copied before the call), then calls each recorded call again on copies of the same
arguments, up to :data:`TRIES` times, until an answer differs from the first: that function, those
arguments and the two answers are the report (:class:`Nondeterministic`).
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import numpy as np

from ..properties.expect import at, fmt_pair
from .describe import array_summary
from .guard import exception_text
from . import wire

__all__ = ["TRIES", "Nondeterministic", "Difference", "find"]

TRIES = 50
"""Calls of each recorded call on the same arguments (in one request where the target can batch
them): a target that adds noise on one call in ten differs within them but for 0.9⁵⁰ ≈ 0.5 %."""


class Nondeterministic(BaseException):
    """The target answered the same arguments differently (an error of the property, not shrunk)."""

    def __init__(self, message: str, function: str | None) -> None:
        super().__init__(message)
        self.gptspec_function = function


@dataclasses.dataclass(frozen=True)
class Difference:
    """``function(*arguments)`` answered ``first``, then ``second``."""

    function: str
    arguments: tuple[Any, ...]
    first: Any
    second: Any

    def message(self) -> str:
        return f"{self.function} answered the same arguments differently: {_contrast(self.first, self.second)}"

    def answer_lines(self) -> list[str]:
        return [f"answer {i}: {_shown(a)}" for i, a in ((1, self.first), (2, self.second))]


class _Raised:
    """A call that raised, as its text (two raises compare by it)."""

    def __init__(self, exc: BaseException) -> None:
        self.text = exception_text(exc)

    def __repr__(self) -> str:
        return f"raised {self.text}"


def _shown(answer: Any) -> str:
    return array_summary(answer) if isinstance(answer, np.ndarray) else f"{answer!r:.120}"


def _contrast(first: Any, second: Any) -> str:
    """Where two answers differ: the first entry that does, with enough digits to tell them apart."""
    if (isinstance(first, np.ndarray) and isinstance(second, np.ndarray) and first.shape == second.shape
            and first.dtype == second.dtype and first.dtype.kind in "biuf"):
        same = first == second
        if first.dtype.kind == "f":
            same |= np.isnan(first) & np.isnan(second)
        differ = ~same
        where = np.argwhere(differ)
        if where.size:
            i = tuple(int(k) for k in where[0])
            a, b = (fmt_pair(first[i], second[i]) if first.dtype.kind == "f" else (str(first[i]), str(second[i])))
            return f"{at(i) if i else 'the value'} was {a}, then {b} ({len(where)} of {first.size} entries differ)"
    return f"{_shown(first)}, then {_shown(second)}"


def _same(a: Any, b: Any) -> bool:
    """The same answer, bit for bit (two raises: the same exception text)."""
    if isinstance(a, _Raised) or isinstance(b, _Raised):
        return isinstance(a, _Raised) and isinstance(b, _Raised) and a.text == b.text
    try:
        return wire.encode(a) == wire.encode(b)
    except wire.Refused:
        return repr(a) == repr(b)


class _Recorded:
    """``impl`` with every call of a target function recorded, its arguments copied before the call."""

    def __init__(self, impl: Any) -> None:
        self._impl = impl
        self.made: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._impl, name)
        if name.startswith("_") or not callable(value):
            return value
        made = self.made
        if name == "calls":
            def calls(requests: list[tuple[str, tuple[Any, ...]]]) -> Any:
                made.extend((n, copy.deepcopy(tuple(a)), {}) for n, a in requests)
                return value(requests)

            return calls
        if name == "repeat":
            def repeat(function: str, times: int, *args: Any, **kwargs: Any) -> Any:
                made.append((function, copy.deepcopy(args), copy.deepcopy(kwargs)))
                return value(function, times, *args, **kwargs)

            return repeat

        def recorded(*args: Any, **kwargs: Any) -> Any:
            made.append((name, copy.deepcopy(args), copy.deepcopy(kwargs)))
            return value(*args, **kwargs)

        return recorded


def _answers(impl: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any]:
    """:data:`TRIES` answers of ``name`` on copies of the same arguments (one request when it can be)."""
    rng = any(isinstance(a, np.random.Generator) for a in (*args, *kwargs.values()))
    batch = getattr(impl, "repeat", None)
    if callable(batch) and not rng and not kwargs:
        try:
            return list(batch(name, TRIES, *copy.deepcopy(args)))
        except Exception:  # noqa: BLE001 - one of them raised: call them one by one to see which
            pass
    answers: list[Any] = []
    for _ in range(TRIES):  # a Generator is copied in the state it had: each call draws the same numbers
        try:
            answers.append(getattr(impl, name)(*copy.deepcopy(args), **copy.deepcopy(kwargs)))
        except Exception as exc:  # noqa: BLE001 - a raise is an answer too
            answers.append(_Raised(exc))
    return answers


def find(body: Any, impl: Any, example: Any) -> Difference | None:
    """Replay ``body(impl, example)`` recording the target's calls, then call each again until one
    answers differently; None if none does (a crash or hang of the target on the way ends the search)."""
    recorded = _Recorded(impl)
    try:
        body(recorded, copy.deepcopy(example))
    except KeyboardInterrupt:
        raise
    except BaseException:  # noqa: BLE001 - whether it fails this time does not matter: the calls do
        pass
    from .isolation import TARGET_FAULTS

    for name, args, kwargs in recorded.made:
        try:
            answers = _answers(impl, name, args, kwargs)
        except TARGET_FAULTS:
            return None
        for answer in answers[1:]:
            if not _same(answers[0], answer):
                return Difference(name, args, answers[0], answer)
    return None
