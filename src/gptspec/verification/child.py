"""A child process that answers requests over a pipe: the one mechanism behind the target's
processes (:mod:`.isolation`) and the ``--jobs`` workers (:mod:`.session`).

multiprocessing's Process and Pipe with the *spawn* start method, rather than a
``ProcessPoolExecutor``: a pool reports a dead worker as ``BrokenProcessPool``, without its exit
status or signal, and before Python 3.14 cannot kill one hung worker; a Process gives both
(``exitcode``, ``kill()``), and its pipe is the standard library's own framing. A ``--jobs``
worker (gptspec's own process) replies in pickle, read by an unpickler that builds only NumPy,
builtin and gptspec objects; a target's process replies in data only (:mod:`.wire`, through the
:meth:`Child._recv` of :class:`.isolation.TargetProcess`): nothing a target sends is unpickled.
"""

from __future__ import annotations

import io
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import time
from collections.abc import Callable
from typing import Any

from ..target import TargetError

__all__ = ["Child", "START_TIMEOUT", "SAFE_MODULES", "close_all", "exit_description", "orphan_guard", "unpickle"]

START_TIMEOUT = 120.0
"""Seconds a target process may take to start and import the target (torch alone takes seconds)."""

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

SAFE_MODULES = ("builtins", "numpy", "gptspec", "copyreg", "collections", "_codecs")

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

class _SafeUnpickler(pickle.Unpickler):
    """Builds only objects of NumPy, builtins and gptspec: an answer never imports target code."""

    def find_class(self, module: str, name: str) -> Any:
        if module.split(".")[0] not in SAFE_MODULES:
            raise pickle.UnpicklingError(f"an object of {module}.{name}")
        return super().find_class(module, name)


def unpickle(data: bytes) -> Any:
    return _SafeUnpickler(io.BytesIO(data)).load()

class Child:
    """A spawned process that answers requests over a pipe: started on first use, killed on a
    hang, and started afresh after it ends.

    ``serve(conn, *args)`` runs in the child: it sends ``("ready", info)`` once set up (or
    ``("load_error", message)``), then answers each request with one reply, read by :meth:`_recv`. The target's processes and the ``--jobs`` workers are both Children
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
        self._launched: tuple[Any, multiprocessing.connection.Connection, float] | None = None  # launched, not yet started

    # life cycle

    def launch(self) -> None:
        """Start the process without waiting for it to set up (:meth:`start` waits): several
        children launched first and then started set up side by side, not one after another."""
        if self._conn is not None or self._launched is not None:
            return
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe(duplex=True)
        process = context.Process(target=self._serve_fn, args=(theirs, *self._args), name="gptspec-" + self._serve_fn.__name__.strip("_"), daemon=self._daemon)
        try:
            process.start()
        finally:
            theirs.close()
        self.starts += 1
        self._launched = (process, ours, time.monotonic())

    def start(self) -> Any:
        """Start the process (if it is not running) and return what it set up; TargetError if it
        cannot, or the exception it sent (an OptionError about what the target declares)."""
        if self._conn is not None:
            return self.info
        self.launch()
        assert self._launched is not None
        process, ours, launched = self._launched
        self._launched = None
        try:
            if not ours.poll(max(0.0, launched + self.start_timeout - time.monotonic())):
                raise TargetError(f"{self.label} did not load within {self.start_timeout:g} s")
            kind, payload = self._recv(ours)
            if kind == "load_error":
                raise payload if isinstance(payload, Exception) else TargetError(payload)
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
        if self._launched is not None:  # launched and never waited for
            self._process, self._conn, _ = self._launched
            self._launched = None
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
        """Stop the process: asked first, killed if it does not go within 2 s."""
        close_all([self])

    def _ask_to_stop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.send(("stop",))
            except OSError:
                pass

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
        reply: tuple[Any, ...] = self._recv(self._conn)
        return reply

    def _recv(self, conn: multiprocessing.connection.Connection) -> Any:
        """Read and decode one message (a ``--jobs`` worker's: gptspec's own pickle, read by
        :func:`unpickle`; a target's process overrides this to read data only, :mod:`.wire`)."""
        return unpickle(conn.recv_bytes())


def close_all(children: list[Child], grace: float = 2.0) -> None:
    """Stop several children side by side: all are asked first, then each is given what is left of
    ``grace`` seconds to go before it is killed (one after another, a worker's exit waited for its
    target process's and the next worker's began only then)."""
    for child in children:
        child._ask_to_stop()
    until = time.monotonic() + grace
    for child in children:
        if child._process is not None:
            child._process.join(max(0.0, until - time.monotonic()))
        child.end()
