"""The first code of every gptspec child process, run as a script (``python -P boot.py FD PARENT MODE``).

It is started by :class:`.child.Child` with ``subprocess`` (never multiprocessing's *spawn*, which
re-imports the user's ``__main__`` in every child: a script without a ``__main__`` guard, ``python
-c`` or a script on stdin broke it). The parent sends two messages on the socket ``FD`` (a
``multiprocessing.connection`` framing): ``(sys.path, cwd)`` and then the pickled ``(serve,
args)``; the process that serves sets them up and calls ``serve(conn, *args)``. Nothing here is
imported from gptspec or NumPy before the namespaces are entered: ``unshare(CLONE_NEWUSER)``
refuses a process with threads (OpenBLAS starts some at import).

MODE ``plain`` (a ``--jobs`` worker) serves in this process. MODE ``sandbox`` (a target's
process) puts the target where it cannot outlive, stop or write into the run:

- **namespaces** (where the kernel lets an unprivileged user make them): new user, PID and mount
  namespaces. This process forks the namespace's *init* (PID 1), which remounts ``/proc`` (only
  the namespace's processes are in it), forks the target and reaps; the kernel drops every signal
  sent from inside the namespace to an init without a handler for it, SIGKILL and SIGSTOP too,
  and when init exits (the target ended) it kills whatever else is in the namespace. No process
  of gptspec has a PID the target can name, nor a ``/proc`` entry it can open.
- **process group** (the fallback): this process becomes a child subreaper, the target gets a
  session of its own, and when the target ends (or this process is asked to stop with SIGTERM)
  its group and every process left below this one are killed. A target can still find and
  signal its parent here: this mode protects against bugs, not against code written to attack.

Either way the target's process is in its own session (``os.killpg(0, ...)`` reaches only its
own group), gptspec's processes are not dumpable (a process without ptrace rights over them
cannot open ``/proc/PID/fd/*``), and every process dies with its parent (PR_SET_PDEATHSIG). The
first message on the socket is this process's: the mode it reached (bytes), before the target
can write anything. The status of the target is this process's exit status (killed by the
same signal, or the same exit code), so the parent reads it as the target's.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

NAMESPACES = "namespaces"
PROCESS_GROUP = "process group"

_CLONE_NEWNS, _CLONE_NEWUSER, _CLONE_NEWPID = 0x00020000, 0x10000000, 0x20000000
_MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_REC, _MS_PRIVATE = 2, 4, 8, 1 << 14, 1 << 18
_PR_SET_PDEATHSIG, _PR_SET_DUMPABLE, _PR_SET_CHILD_SUBREAPER = 1, 4, 36

_libc = ctypes.CDLL(None, use_errno=True)


def _prctl(option: int, value: int) -> None:
    _libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0)


def die_with_parent(parent: int) -> None:
    """Killed when ``parent`` ends; gone at once if it already has (before the prctl took)."""
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="ascii") as f:
        f.write(text)


def enter_namespaces() -> bool:
    """New user, PID (for the children) and mount namespaces, this process's uid and gid mapped to
    themselves; False where the kernel refuses (then nothing changed)."""
    if os.environ.get("GPTSPEC_NO_NAMESPACES") or not sys.platform.startswith("linux"):
        return False
    uid, gid = os.geteuid(), os.getegid()
    if _libc.unshare(_CLONE_NEWUSER | _CLONE_NEWPID | _CLONE_NEWNS) != 0:
        return False
    try:
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
    except OSError:  # in the namespaces but unmapped: the target would be nobody, unable to read its files
        os._exit(70)
    return True


def _remount_proc() -> bool:
    """In the PID namespace: a /proc of its own processes only (mounts kept from the host's)."""
    if _libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None) != 0:
        return False
    return _libc.mount(b"proc", b"/proc", b"proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC, None) == 0


def _children() -> list[int]:
    """This process's children now (/proc/self/task/*/children)."""
    found: list[int] = []
    try:
        for task in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{task}/children", encoding="ascii") as f:
                found += [int(p) for p in f.read().split()]
    except OSError:
        pass
    return found


def _sweep(group: int | None) -> None:
    """Kill ``group`` and every process left below this one (orphans come to a subreaper), and reap them."""
    if group is not None:
        try:
            os.killpg(group, signal.SIGKILL)
        except OSError:
            pass
    while True:
        children = _children()
        if not children:
            break
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        for _ in children:
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                break


def _die_by(sig: int) -> None:
    """End this process by signal ``sig``, as the process it stands for ended."""
    signal.signal(sig, signal.SIG_DFL)
    os.kill(os.getpid(), sig)
    os._exit(128 + sig)  # a signal that does not end a process


def _as_status(status: int) -> None:
    """End this process as a process with wait ``status`` ended: the same signal, or the same code;
    a target stopped by a signal (only SIGSTOP stops a process in an orphaned group) stops this one
    too, where its parent sees it (and kills it)."""
    if os.WIFSTOPPED(status):
        os.kill(os.getpid(), signal.SIGSTOP)
        os._exit(1)
    if os.WIFSIGNALED(status):
        _die_by(os.WTERMSIG(status))
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)


def _serve(fd: int) -> None:
    """The serving process: sys.path and cwd as the parent's, then ``serve(conn, *args)``."""
    from multiprocessing.connection import Connection
    import pickle

    conn = Connection(fd)
    path, cwd = pickle.loads(conn.recv_bytes())
    sys.path[:] = path
    os.chdir(cwd)
    serve, args = pickle.loads(conn.recv_bytes())
    serve(conn, *args)
    conn.close()


def _target(fd: int) -> None:
    """The target's process: a session of its own, dying with its parent."""
    os.setsid()
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    _prctl(_PR_SET_DUMPABLE, 1)  # its own /proc as any process's (gptspec's processes stay undumpable)
    try:
        _serve(fd)
    except BaseException:  # noqa: BLE001 - the verifier reads how it ended from the exit status
        os._exit(1)
    os._exit(0)


def _tell(fd: int, mode: str) -> None:
    """The first message on the socket: the mode reached (multiprocessing.connection's framing)."""
    data = mode.encode()
    os.write(fd, len(data).to_bytes(4, "big") + data)


def _no_output() -> None:
    """Standard error (and in) to /dev/null: no process the target can reach holds the verifier's streams."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for std in (0, 1, 2):
        os.dup2(devnull, std)
    os.close(devnull)


def _init(fd: int, status_fd: int) -> None:
    """PID 1 of the namespace: no signal handlers (so the target's signals are dropped), /proc
    remounted, the target forked and reaped; its wait status goes to ``status_fd``."""
    for sig in signal.valid_signals():
        if sig not in (signal.SIGKILL, signal.SIGSTOP):
            try:
                signal.signal(sig, signal.SIG_DFL)
            except (OSError, ValueError):
                pass
    _tell(fd, NAMESPACES if _remount_proc() else NAMESPACES + " (host /proc)")
    target = os.fork()
    if target == 0:
        os.close(status_fd)
        _target(fd)
    os.close(fd)
    _no_output()
    while True:
        pid, status = os.waitpid(-1, os.WUNTRACED)
        if pid == target:
            if os.WIFSTOPPED(status):  # it would never answer: gone, and said so
                os.kill(target, signal.SIGKILL)
            os.write(status_fd, status.to_bytes(4, "big"))
            os._exit(0)  # the kernel kills the rest of the namespace


def sandbox(fd: int, parent: int) -> None:
    """Start the target in namespaces (or, refused, in a process group under this subreaper) and
    end as it ends."""
    namespaces = enter_namespaces()
    die_with_parent(parent)  # again: new credentials clear the parent-death signal
    _prctl(_PR_SET_DUMPABLE, 0)  # after the id maps: an undumpable process's /proc/self is root's
    if not namespaces:
        _prctl(_PR_SET_CHILD_SUBREAPER, 1)
        _tell(fd, PROCESS_GROUP)
    status_r, status_w = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(status_r)
        if namespaces:
            _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
            _init(fd, status_w)
        os.close(status_w)
        _target(fd)
    os.close(status_w)
    os.close(fd)  # the socket is the target's alone: the parent reads EOF when the target is gone
    _no_output()

    def stop(signum: int, frame: object) -> None:  # asked to stop: nothing below this process stays
        if namespaces:
            try:
                os.kill(child, signal.SIGKILL)
            except OSError:  # init has just ended
                pass
        _sweep(None if namespaces else child)
        _die_by(signum)

    signal.signal(signal.SIGTERM, stop)
    if namespaces:
        _, own = os.waitpid(child, 0)
        data = os.read(status_r, 4)
        _as_status(int.from_bytes(data, "big") if len(data) == 4 else own)
    while True:
        pid, status = os.waitpid(-1, os.WUNTRACED)
        if pid == child:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            _sweep(child)
            _as_status(status)


def main(argv: list[str]) -> None:
    fd, parent, mode = int(argv[1]), int(argv[2]), argv[3]
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the user's Ctrl-C is the verifier's to handle
    die_with_parent(parent)
    if mode == "sandbox":
        sandbox(fd, parent)
    else:
        _prctl(_PR_SET_DUMPABLE, 0)
        _serve(fd)


if __name__ == "__main__":
    main(sys.argv)
