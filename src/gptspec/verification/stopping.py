"""The user's interrupt as a fact that every wait on a child process sees, not only an exception.

``gptspec verify`` turns its first SIGINT or SIGTERM into one KeyboardInterrupt, raised wherever the
run is (see :class:`gptspec.cli.verify.Interrupts`). That exception can be lost: a signal's handler
runs wherever the main thread is, and one raised while a ``__del__`` runs (the garbage collector
ends some object mid-run) is printed as "Exception ignored" and dropped; one raised inside code
that catches every BaseException becomes some other outcome. The run then goes on, to call a
target that never answers (a hang CI saw once). So
the signal is also *noted* here, and from then on :func:`check` raises KeyboardInterrupt again at
each place where the verifier would wait on or talk to a child (:mod:`.child`): a request not
sent, a reply not awaited, a process not started, each within one poll of the signal. Nothing here
depends on timing: the note is set before the exception is raised.

The note is the CLI's (only its handler calls :func:`request`); the Python API and the pytest plugin
leave it unset, and :func:`watching` clears it when a run begins and ends.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["check", "request", "requested", "watching"]

_signal: list[int] = []  # the first signal noted, if one was


def request(signum: int) -> None:
    """Note that the user asked the run to stop (the first signal is kept)."""
    if not _signal:
        _signal.append(signum)


def requested() -> int | None:
    """The signal the user stopped the run with, if they have."""
    return _signal[0] if _signal else None


def check() -> None:
    """KeyboardInterrupt if the user has asked the run to stop."""
    if _signal:
        raise KeyboardInterrupt


@contextlib.contextmanager
def watching() -> Iterator[None]:
    """A run during which :func:`request` may be called: no note before it, none left after it."""
    _signal.clear()
    try:
        yield
    finally:
        _signal.clear()
