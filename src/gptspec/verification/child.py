"""A child process that answers requests over a socket: the one mechanism behind the target's
processes (:mod:`.isolation`) and the ``--jobs`` workers (:mod:`.session`).

Each child is a fresh interpreter started with ``subprocess`` running :mod:`.boot` as a script, not
multiprocessing's *spawn* (which re-imports the user's ``__main__`` in every child, so a script
without a ``__main__`` guard, ``python -c`` or a script on stdin could not call
:func:`gptspec.verify`), nor a ``ProcessPoolExecutor`` (a dead worker is ``BrokenProcessPool``,
without its signal). The socket carries ``multiprocessing.connection``'s framing; sys.path and
the working directory are sent explicitly. A target's process is started in a sandbox (user, PID
and mount namespaces where the kernel allows, else a process group under a subreaper: see
:mod:`.boot`); :attr:`Child.isolation` says which. A child in a session of its own is out of
reach of the terminal's Ctrl-C and Ctrl-Z (the verifier handles them) and of the target's
``killpg(0)``. A child stopped by a signal (SIGSTOP from its target) is an error naming the
signal, found while a reply is awaited, never a hang. A ``--jobs`` worker (gptspec's own
process) replies in pickle, read by an unpickler that builds only NumPy, builtin and gptspec
objects; a target's process replies in data only (:mod:`.wire`, through the :meth:`Child._recv` of
:class:`.isolation.TargetProcess`): nothing a target sends is unpickled.
"""

from __future__ import annotations

import io
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from ..target import TargetError
from . import stopping

__all__ = ["Child", "START_TIMEOUT", "SAFE_MODULES", "close_all", "exit_description", "orphan_guard", "receive_request",
           "send_request", "unpickle"]

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


BOOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "boot.py")
"""The script every child runs first (by path: importing gptspec there would start NumPy's threads)."""

POLL = 1.0
"""Seconds between checks that a child awaited for is not stopped (a reply ends the wait at once)."""


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class Process:
    """A child process as the parent waits for it: its exit code (negative: the signal that
    killed it, as multiprocessing's), and the signal that stopped it, if one did."""

    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self.popen, self.pid = popen, popen.pid
        self.exitcode: int | None = None
        self.stopped_by: int | None = None

    def _wait(self, flags: int) -> bool:
        """One waitpid; True once the process has ended."""
        if self.exitcode is not None:
            return True
        try:
            pid, status = os.waitpid(self.pid, flags | os.WUNTRACED)
        except ChildProcessError:  # reaped elsewhere
            self.exitcode = self.popen.returncode if self.popen.returncode is not None else 255
            return True
        if pid == 0:
            return False
        if os.WIFSTOPPED(status):
            self.stopped_by = os.WSTOPSIG(status)
            return False
        self.exitcode = self.popen.returncode = os.waitstatus_to_exitcode(status)
        return True

    def is_alive(self) -> bool:
        return not self._wait(os.WNOHANG)

    def stopped(self) -> bool:
        """Whether a signal has stopped it (SIGSTOP, SIGTSTP, ...): it would never answer."""
        self.is_alive()
        return self.stopped_by is not None and self.exitcode is None

    def join(self, timeout: float | None = None) -> None:
        """Wait for it to end (at most ``timeout`` seconds)."""
        if timeout is None:
            while not self._wait(0):
                pass
            return
        until, pause = time.monotonic() + timeout, 0.0005
        while not self._wait(os.WNOHANG) and self.stopped_by is None and time.monotonic() < until:
            time.sleep(min(pause, max(0.0, until - time.monotonic())))
            pause = min(pause * 2, 0.05)

    def signal(self, number: int) -> None:
        if self.exitcode is None:
            try:
                os.kill(self.pid, number)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        self.signal(signal.SIGKILL)

    def description(self) -> str:
        """'exited with status 0', 'killed by SIGSEGV', 'stopped by SIGSTOP (then killed)'."""
        if self.stopped_by is not None:
            return f"stopped by {_signal_name(self.stopped_by)} (then killed)"
        return exit_description(self.exitcode)

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
    """A process started afresh (see the module's docstring) that answers requests over a socket:
    started on first use, killed on a hang, and started afresh after it ends.

    ``serve(conn, *args)`` runs in the child: it sends ``("ready", info)`` once set up (or
    ``("load_error", message)``), then answers each request with one reply, read by :meth:`_recv`.
    ``sandbox``: the child holds a target (its process is sandboxed, see
    :mod:`.boot`); the ``--jobs`` workers are not (each starts a target process of its own).
    """

    def __init__(self, serve: Callable[..., None], args: tuple[Any, ...], label: str, *,
                 start_timeout: float = START_TIMEOUT, sandbox: bool = False) -> None:
        self._serve_fn, self._args, self.label, self._sandbox = serve, args, label, sandbox
        self.start_timeout = start_timeout
        self.starts = 0
        self.info: Any = None
        self.isolation: str | None = None  # the sandbox its last start reached (.boot: NAMESPACES, PROCESS_GROUP)
        self._reachable = sandbox  # whether its target can signal it (not from namespaces): checked after each reply
        self._process: Process | None = None
        self._conn: multiprocessing.connection.Connection | None = None
        self._launched: tuple[Process, multiprocessing.connection.Connection, float] | None = None  # not yet started

    # life cycle

    def launch(self) -> None:
        """Start the process without waiting for it to set up (:meth:`start` waits): several
        children launched first and then started set up side by side, not one after another."""
        if self._conn is not None or self._launched is not None:
            return
        stopping.check()  # no process is started once the user has stopped the run
        ours, theirs = socket.socketpair()
        conn = multiprocessing.connection.Connection(ours.detach())
        try:
            popen = subprocess.Popen(
                [sys.executable, "-P", BOOT, str(theirs.fileno()), str(os.getpid()), "sandbox" if self._sandbox else "plain"],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, start_new_session=True,
                stdout=subprocess.DEVNULL if self._sandbox else None)  # a target's output never reaches ours
        except BaseException:
            conn.close()
            raise
        finally:
            theirs.close()
        process = Process(popen)
        self.starts += 1
        self._launched = (process, conn, time.monotonic())
        try:
            conn.send_bytes(pickle.dumps((list(sys.path), os.getcwd())))
            conn.send_bytes(pickle.dumps((self._serve_fn, self._args)))
        except OSError:  # it died at once: start() says how
            pass
        except BaseException:
            self.end()
            raise

    def start(self) -> Any:
        """Start the process (if it is not running) and return what it set up; TargetError if it
        cannot, or the exception it sent (an OptionError about what the target declares)."""
        if self._conn is not None:
            return self.info
        self.launch()
        assert self._launched is not None
        process, ours, launched = self._launched
        try:
            if self._sandbox:
                if not self._wait_for(ours, process, launched):
                    raise TargetError(f"{self.label} did not load within {self.start_timeout:g} s")
                self.isolation = ours.recv_bytes().decode()
                self._reachable = not self.isolation.startswith("namespaces")
            if not self._wait_for(ours, process, launched):
                raise TargetError(f"{self.label} did not load within {self.start_timeout:g} s")
            kind, payload = self._recv(ours)
            if kind == "load_error":
                raise payload if isinstance(payload, Exception) else TargetError(payload)
        except (EOFError, OSError):
            self._launched = None
            ours.close()
            process.join(5)
            process.kill()
            process.join()
            raise TargetError(f"the process loading {self.label} {process.description()}") from None
        except BaseException:  # a load error, or Ctrl-C while waiting: the half-started process goes too
            self.end()
            raise
        self._launched = None
        self._process, self._conn, self.info = process, ours, payload
        return payload

    def _wait_for(self, conn: multiprocessing.connection.Connection, process: Process, launched: float) -> bool:
        """Whether a message came within the start timeout (EOFError: the process stopped)."""
        until = launched + self.start_timeout
        while not conn.poll(min(POLL, max(0.0, until - time.monotonic()))):
            stopping.check()
            if process.stopped():
                raise EOFError
            if time.monotonic() >= until:
                return False
        return True

    @property
    def connection(self) -> multiprocessing.connection.Connection | None:
        """The socket to the running process (None while none runs): for ``multiprocessing.connection.wait``."""
        return self._conn

    def stopped(self) -> bool:
        """Whether the running process was stopped by a signal (it would never answer)."""
        return self._process is not None and self._process.stopped()

    def end(self) -> str:
        """Kill the process (if alive) and say how it ended. A sandboxed one is asked first
        (SIGTERM) so that it kills what its target started; SIGKILL if it does not go at once."""
        if self._launched is not None:  # launched and never waited for
            self._process, self._conn, _ = self._launched
            self._launched = None
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if process is not None and conn is not None and not process.stopped() and self._closed(conn):
            process.join(2.0)  # its serving process has ended: the status it ended with is on its way
        if process is not None and process.is_alive():  # before the socket closes: it must not find it broken mid-answer
            if self._sandbox and not process.stopped():
                process.signal(signal.SIGTERM)
                process.join(2.0)
            process.kill()
        if conn is not None:
            conn.close()
        if process is None:
            return "stopped answering"
        process.join()
        return process.description()

    @staticmethod
    def _closed(conn: multiprocessing.connection.Connection) -> bool:
        """Whether the other end has closed the socket (a reply not read yet is not a close)."""
        try:
            sock = socket.socket(fileno=os.dup(conn.fileno()))
        except OSError:
            return False
        try:
            sock.setblocking(False)
            return sock.recv(1, socket.MSG_PEEK) == b""
        except (BlockingIOError, OSError):
            return False
        finally:
            sock.close()

    def close(self) -> None:
        """Stop the process: asked first, killed if it does not go within 2 s."""
        close_all([self])

    def _ask_to_stop(self) -> None:
        if self._conn is not None:
            try:
                send_request(self._conn, ("stop",))
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
        try:
            stopping.check()  # the user stopped the run: no more requests (see .stopping)
            send_request(self._conn, message)
        except (Exception, KeyboardInterrupt) as exc:
            if not isinstance(exc, OSError):  # interrupted mid-message: the conversation is lost
                self.end()
            raise

    def receive(self, timeout: float | None) -> tuple[Any, ...] | None:
        """The reply to the last request; None if none came within ``timeout`` seconds (None: wait);
        EOFError or OSError if the process ended or was stopped by a signal. Interrupted (Ctrl-C),
        the process is ended: its reply would be read as the next request's."""
        assert self._conn is not None and self._process is not None
        if not self._await(self._conn, timeout):
            return None
        try:
            reply: tuple[Any, ...] = self._recv(self._conn)
        except KeyboardInterrupt:
            self.end()
            raise
        if self._reachable and self.stopped():  # its target stopped it: it answered, but would never end
            raise EOFError
        return reply

    def _await(self, conn: multiprocessing.connection.Connection, timeout: float | None) -> bool:
        """Whether a reply begins within ``timeout`` seconds (None: wait), polled so that a process
        stopped by a signal is found (EOFError) instead of waited for; interrupted, the process is
        ended (its reply would be read as the next request's)."""
        process = self._process
        assert process is not None
        try:
            until = None if timeout is None else time.monotonic() + timeout
            while not conn.poll(POLL if until is None else min(POLL, max(0.0, until - time.monotonic()))):
                stopping.check()  # the user stopped the run: within one poll, whatever became of the exception
                if process.stopped():
                    raise EOFError
                if until is not None and time.monotonic() >= until:
                    return False
            return True
        except KeyboardInterrupt:
            self.end()
            raise

    def _recv(self, conn: multiprocessing.connection.Connection) -> Any:
        """Read and decode one message (a ``--jobs`` worker's: gptspec's own pickle, read by
        :func:`unpickle`; a target's process overrides this to read data only, :mod:`.wire`)."""
        return unpickle(conn.recv_bytes())


OUT_OF_BAND = 64 << 10
"""Bytes from which an array of a request is sent beside the pickle, not inside it (below, the
extra frame costs more than the copy)."""


def send_request(conn: multiprocessing.connection.Connection, message: Any) -> None:
    """Send gptspec's own ``message`` to a child (read there by :func:`receive_request`): pickle
    protocol 5 with every large contiguous array's memory sent out of band, as it is, after a frame
    giving their sizes and the pickle — a GPT-2-sized request (~10 MB of weights) is written once,
    not copied into a pickle first."""
    views: list[memoryview] = []

    def out_of_band(buffer: pickle.PickleBuffer) -> bool:  # False: sent after the pickle, as it is
        view = buffer.raw()
        if view.nbytes < OUT_OF_BAND:
            return True
        views.append(view)
        return False

    head = pickle.dumps(message, protocol=5, buffer_callback=out_of_band)
    conn.send_bytes(struct.pack(f"<I{len(views)}Q", len(views), *(view.nbytes for view in views)) + head)
    for view in views:
        conn.send_bytes(view)


def receive_request(conn: multiprocessing.connection.Connection) -> Any:
    """A message sent by :func:`send_request` (in a child: it comes from gptspec), its arrays
    built on writable memory of their own, as a pickled copy would be; EOFError if the sender is gone."""
    frame = conn.recv_bytes()
    (count,) = struct.unpack_from("<I", frame)
    buffers = []
    for size in struct.unpack_from(f"<{count}Q", frame, 4):
        buffer = bytearray(size)
        conn.recv_bytes_into(buffer)
        buffers.append(buffer)
    return pickle.loads(memoryview(frame)[4 + 8 * count:], buffers=buffers)


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
