"""What a verify run tells a progress display, and the displays gptspec has without a terminal.

The runner calls :class:`Progress`'s methods as a run goes (the command line's bar is one by its
methods alone); :class:`LineProgress` is the command's display when stderr is no terminal (a CI
log): one line per property that fails or errors, as soon as its search ends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .report import PropertyResult

__all__ = ["Progress", "Silent", "LineProgress"]


class Progress(Protocol):
    """What the runner tells a progress display (the CLI's bar is one, by its methods alone).

    Each method does nothing here, so a display that subclasses this writes only what it shows.
    """

    def start(self, total: int) -> None:
        return None

    def begin(self, name: str) -> None:
        return None

    def example(self, count: int) -> None:
        return None

    def end(self, result: PropertyResult) -> None:
        return None

    def stop(self) -> None:
        return None


class Silent(Progress):
    """The display when none is given: shows nothing."""


class LineProgress(Progress):
    """One line on a console (stderr) per property that fails or errors, as its search ends, so a
    long run's first failure shows before the report."""

    def __init__(self, console: Any) -> None:
        self.console = console

    def end(self, result: PropertyResult) -> None:
        if result.status in ("failed", "error"):
            headline = result.failure.headline if result.failure else ""
            self.console.print(f"{result.status}: {result.name} ({headline})", markup=False, highlight=False, soft_wrap=True)
