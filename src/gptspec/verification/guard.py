"""The guard around every call of a target function: time limit, captured output, attribution.

Each call runs with stdout and stderr captured (a target that prints does not garble the report),
warnings recorded rather than shown or raised (the same under the CLI and under pytest's
``-W error``), and the per-call time limit of :mod:`.timeouts`. The guard remembers, for the
property being run, which function raised what, which one hung, and what each one printed or
warned, so the report can name the function that broke the property.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import warnings
from collections.abc import Callable
from typing import Any

from .timeouts import CallTimeout, time_limit

__all__ = ["Guard", "Noise"]


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


class Guard:
    """Wraps target functions; :meth:`reset` before each property, then read what happened."""

    def __init__(self, timeout: float | None) -> None:
        self.timeout = timeout
        self._depth = 0
        self.run_noise: dict[str, Noise] = {}
        self.reset()

    def reset(self) -> None:
        """Forget what the last property saw (the run's totals stay)."""
        self.raised: tuple[str, BaseException] | None = None  # the last exception a target call let out
        self.timed_out: str | None = None
        self.noise: dict[str, Noise] = {}

    def raised_by(self, exc: BaseException) -> str | None:
        """The target function that raised ``exc``, if one did (else the property itself did)."""
        return self.raised[0] if self.raised is not None and self.raised[1] is exc else None

    def notes(self) -> list[str]:
        """What each function printed or warned while the current property ran."""
        return [line for name, noise in self.noise.items() for line in noise.describe(name)]

    def run_notes(self) -> list[str]:
        """The same over the whole run, one line per function and kind."""
        return [line for name, noise in self.run_noise.items() for line in noise.describe(name)]

    def _record(self, name: str, out: str, caught: list[warnings.WarningMessage]) -> None:
        if not out and not caught:
            return
        for book in (self.noise, self.run_noise):
            noise = book.setdefault(name, Noise())
            if out:
                noise.chars += len(out)
                if not noise.first_line and out.strip():
                    noise.first_line = out.strip().splitlines()[0][:80]
            for w in caught:
                text = f"{w.category.__name__}: {str(w.message)[:80]}"
                noise.warnings[text] = noise.warnings.get(text, 0) + 1

    def __call__(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``fn`` guarded: the CallTimeout or exception it raises is remembered, then re-raised."""

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
                    stack.enter_context(time_limit(self.timeout))
                    return fn(*args, **kwargs)
            except CallTimeout:
                self.timed_out = name
                raise
            except Exception as exc:
                self.raised = (name, exc)
                raise
            finally:
                self._depth -= 1
                self._record(name, sink.getvalue(), caught)

        guarded.__name__ = getattr(fn, "__name__", name)
        return guarded
