"""The guard around every call of a target function: captured output, warnings, attribution.

It runs where the target runs (the target's own process, :mod:`.isolation`). Each call runs with
stdout and stderr captured (a target that prints does not garble the report): counted in bytes,
the first 64 KiB kept, so printing 100 MB costs what printing 100 bytes does; warnings are counted
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

__all__ = ["KEEP", "Guard", "Noise", "raised_by", "where", "exception_text", "noise_lines", "add_noise"]

_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


KEEP = 64 * 1024
"""Bytes of what one function prints that are kept (per property, and over the run); the rest is counted."""

MAX_WARNINGS = 20
"""Distinct warnings counted one by one per function; any further kinds are counted together."""

OTHER_WARNINGS = "other warnings"


@dataclasses.dataclass
class Noise:
    """What one target function printed or warned while one property ran: ``printed`` bytes, of
    which the first :data:`KEEP` are ``kept``, and a count per warning."""

    printed: int = 0
    kept: str = ""
    warnings: dict[str, int] = dataclasses.field(default_factory=dict)  # "RuntimeWarning: overflow ..." → count

    @property
    def first_line(self) -> str:
        return self.kept.strip().splitlines()[0][:80] if self.kept.strip() else ""

    def describe(self, name: str) -> list[str]:
        lines = []
        if self.printed:
            kept = "(captured)" if self.printed <= KEEP else f"(captured; the first {KEEP // 1024} KiB kept)"
            lines.append(f"{name} printed {self.printed:,} bytes {kept}, first line: {self.first_line!r}")
        for text, count in self.warnings.items():
            lines.append(f"{name} warned {count}×: {text}")
        return lines

    def add(self, other: Noise) -> None:
        self.printed += other.printed
        if len(self.kept) < KEEP:
            self.kept = _clipped(self.kept + other.kept)
        for text, count in other.warnings.items():
            _count(self.warnings, text, count)


def _clipped(text: str, room: int = KEEP) -> str:
    """The longest start of ``text`` of at most ``room`` bytes in UTF-8."""
    if text.isascii():
        return text[:room]
    return text.encode("utf-8", "surrogatepass")[:room].decode("utf-8", "ignore")


def _count(book: dict[str, int], text: str, count: int = 1) -> None:
    """Count a warning in ``book``: by its text for the first :data:`MAX_WARNINGS` kinds, then together."""
    if text not in book and len(book) >= MAX_WARNINGS:
        text = OTHER_WARNINGS
    book[text] = book.get(text, 0) + count


class _Sink(io.TextIOBase):
    """Where a guarded call's stdout and stderr go: counted in bytes, the first :data:`KEEP` kept.
    Writing costs the same for 100 bytes or 100 MB (what is not kept is only counted)."""

    def __init__(self) -> None:
        super().__init__()
        self.printed = 0
        self._kept: list[str] = []
        self._room = KEEP

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        ascii_only = text.isascii()
        self.printed += len(text) if ascii_only else len(text.encode("utf-8", "surrogatepass"))
        if self._room > 0:
            piece = _clipped(text, self._room)
            self._kept.append(piece)
            self._room -= len(piece) if ascii_only else len(piece.encode("utf-8", "surrogatepass"))
        return len(text)

    def getvalue(self) -> str:
        return "".join(self._kept)


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

    def _record(self, name: str, sink: _Sink, caught: dict[str, int]) -> None:
        if not sink.printed and not caught:
            return
        add_noise(self.noise, {name: Noise(sink.printed, sink.getvalue(), caught)})

    def __call__(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``fn`` guarded: an exception it raises is marked with ``name`` and re-raised."""

        def guarded(*args: Any, **kwargs: Any) -> Any:
            if self._depth:  # a target function called through another one: guarded already
                return fn(*args, **kwargs)
            self._depth += 1
            sink = _Sink()
            caught: dict[str, int] = {}

            def counted(message: Any, category: type[Warning], *where: Any, **more: Any) -> None:
                _count(caught, f"{category.__name__}: {str(message)[:80]}")

            try:
                with contextlib.ExitStack() as stack:
                    stack.enter_context(contextlib.redirect_stdout(sink))
                    stack.enter_context(contextlib.redirect_stderr(sink))
                    stack.enter_context(warnings.catch_warnings())  # restores showwarning on the way out
                    warnings.simplefilter("always")
                    warnings.showwarning = counted  # counted, not kept: a million warnings cost no memory
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
                self._record(name, sink, caught)

        guarded.__name__ = getattr(fn, "__name__", name)
        return guarded
