"""The guard around every call of a target function: captured output, warnings, attribution.

It runs where the target runs (the target's own process, :mod:`.isolation`). Each call runs with
stdout and stderr captured (a target that prints does not garble the report), warnings recorded
rather than shown or raised (the same under the CLI and under pytest's ``-W error``). An
exception a call lets out is marked with the function it came from (:func:`raised_by` reads the
mark), so the report can name the function that broke a property; the guard also remembers what
each function printed or warned while one property ran (the session adds these up over the run).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import traceback
import warnings
from collections.abc import Callable
from typing import Any

__all__ = ["Guard", "Noise", "raised_by", "where", "exception_text", "noise_lines", "add_noise"]

_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclasses.dataclass
class Noise:
    """What one target function printed or warned while one property ran."""

    chars: int = 0
    first_line: str = ""
    warnings: dict[str, int] = dataclasses.field(default_factory=dict)  # "RuntimeWarning: overflow ..." → count

    def describe(self, name: str) -> list[str]:
        lines = []
        if self.chars:
            lines.append(f"{name} printed {self.chars:,} characters (captured), first line: {self.first_line!r}")
        for text, count in self.warnings.items():
            lines.append(f"{name} warned {count}×: {text}")
        return lines

    def add(self, other: Noise) -> None:
        self.chars += other.chars
        self.first_line = self.first_line or other.first_line
        for text, count in other.warnings.items():
            self.warnings[text] = self.warnings.get(text, 0) + count


def noise_lines(book: dict[str, Noise]) -> list[str]:
    """One line per function and kind of noise."""
    return [line for name, noise in book.items() for line in noise.describe(name)]


def add_noise(book: dict[str, Noise], more: dict[str, Noise]) -> None:
    """Add ``more`` into ``book``, function by function."""
    for name, noise in more.items():
        book.setdefault(name, Noise()).add(noise)


def raised_by(exc: BaseException) -> str | None:
    """The target function that raised ``exc``, if one did (else the property itself did)."""
    return getattr(exc, "gptspec_function", None)


def where(exc: BaseException) -> str:
    """' (file.py line N)': the innermost frame outside gptspec and installed libraries ('' without
    a traceback). An exception that crossed from the target's process carries the one found there."""
    carried = getattr(exc, "gptspec_where", None)
    if carried is not None:
        return str(carried)
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return ""
    outside = [f for f in frames if not f.filename.startswith(_HERE) and "site-packages" not in f.filename]
    frame = (outside or frames)[-1]
    return f" ({os.path.basename(frame.filename)} line {frame.lineno})"


def exception_text(exc: BaseException) -> str:
    """``IndexError: axis 3 is out of bounds (mine.py line 12)``: the class as the target raised it."""
    return f"{getattr(exc, 'gptspec_type', type(exc).__name__)}: {exc}{where(exc)}"


class Guard:
    """Wraps target functions; :meth:`reset` before each property, then read what happened."""

    def __init__(self) -> None:
        self._depth = 0
        self.noise: dict[str, Noise] = {}

    def reset(self) -> None:
        """Forget what the last property saw (the run's totals are the session's: :func:`add_noise`)."""
        self.noise = {}

    def notes(self) -> list[str]:
        """What each function printed or warned while the current property ran."""
        return noise_lines(self.noise)

    def _record(self, name: str, out: str, caught: list[warnings.WarningMessage]) -> None:
        if not out and not caught:
            return
        noise = Noise()
        if out:
            noise.chars = len(out)
            noise.first_line = out.strip().splitlines()[0][:80] if out.strip() else ""
        for w in caught:
            text = f"{w.category.__name__}: {str(w.message)[:80]}"
            noise.warnings[text] = noise.warnings.get(text, 0) + 1
        add_noise(self.noise, {name: noise})

    def __call__(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``fn`` guarded: an exception it raises is marked with ``name`` and re-raised."""

        def guarded(*args: Any, **kwargs: Any) -> Any:
            if self._depth:  # a target function called through another one: guarded already
                return fn(*args, **kwargs)
            self._depth += 1
            sink = io.StringIO()
            caught: list[warnings.WarningMessage] = []
            try:
                with contextlib.ExitStack() as stack:
                    stack.enter_context(contextlib.redirect_stdout(sink))
                    stack.enter_context(contextlib.redirect_stderr(sink))
                    caught = stack.enter_context(warnings.catch_warnings(record=True))
                    warnings.simplefilter("always")
                    return fn(*args, **kwargs)
            except BaseException as exc:
                if raised_by(exc) is None:
                    try:
                        exc.gptspec_function = name  # type: ignore[attr-defined]  # a mark the report reads back
                    except AttributeError:  # an exception class with __slots__
                        pass
                raise
            finally:
                self._depth -= 1
                self._record(name, sink.getvalue(), caught)

        guarded.__name__ = getattr(fn, "__name__", name)
        return guarded
