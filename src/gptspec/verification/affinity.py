"""A caller and its target process on one core: the pipe between them wakes no other core.

Every call of the target is a request over a pipe and a wait for the answer: the caller and its
target process never compute at the same time. On different cores each request wakes an idle
core, which on a virtual machine costs far more than the message: on the 2-core machine this
project is measured on, a 300-byte pipe round trip between two processes took 344 µs (154 µs of
the caller's CPU) on two cores and 40 µs (19 µs) on one (``benchmarks/verify_examples.py``
prints the boundary cost). So a process that calls a target (the verifier with ``--jobs 1``,
each ``--jobs N`` worker) keeps to one core while it runs, and the target processes it starts
meanwhile inherit that core; the workers get distinct cores, so N pairs use N cores. Where the
system has no ``sched_setaffinity`` (macOS, Windows) nothing changes. The verdict never depends
on it: only where the processes run.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

__all__ = ["current_cpu", "one_core", "usable"]


def usable() -> list[int]:
    """The cores this process may run on, in order (empty where the system does not say)."""
    if not hasattr(os, "sched_getaffinity"):
        return []
    return sorted(os.sched_getaffinity(0))


def current_cpu() -> int | None:
    """The core this process runs on now (Linux: /proc/self/stat), or None."""
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[36])  # field 39 of stat(5), counted after the command name
    except (OSError, IndexError, ValueError):
        return None


@contextlib.contextmanager
def one_core(core: int | None = None) -> Iterator[int | None]:
    """Within the block this process runs on ``core`` only (None: the one it runs on now), as do
    the processes it starts; the cores it had are given back on the way out. Yields the core, or
    None where pinning is not possible (then nothing changes)."""
    cores = usable()
    core = current_cpu() if core is None else core
    if not cores or len(cores) == 1 or core not in cores or not hasattr(os, "sched_setaffinity"):
        yield None
        return
    try:
        os.sched_setaffinity(0, {core})
    except OSError:  # a container that forbids it
        yield None
        return
    try:
        yield core
    finally:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, cores)
