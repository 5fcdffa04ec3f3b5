"""gptspec.impl.threads: jobs on worker threads, BLAS on one thread, scratch memory per thread.

The machinery :mod:`gptspec.impl.fast` runs its heads on, so that exp and the small matmuls use
every core, not just BLAS's big ones, and every result has the same bits whichever path computed it:

- :func:`run_jobs` runs a call's jobs on a pool of :data:`WORKERS` Python threads (NumPy lets go
  of the GIL inside BLAS and ufuncs), or in the calling thread, always with BLAS on one thread
  (:data:`one_thread_blas`): the worker threads already use every core, and a job's bits must not
  depend on how many threads BLAS split it over;
- :func:`groups` and :func:`chunks` cut 0..n into one group per worker, or into slices of a size;
- :func:`scratch` hands out memory a thread reuses from call to call, because fresh memory costs a
  page fault per 4 kB.
"""

from __future__ import annotations

import contextvars
import math
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

import numpy as np

try:
    import threadpoolctl
    from threadpoolctl import ThreadpoolController
except ImportError:  # without it the jobs run one after another, on BLAS's own threads
    threadpoolctl = ThreadpoolController = None

__all__ = ["WORKERS", "SCRATCH_BYTES", "scratch", "chunks", "groups", "one_thread_blas", "workers", "run_jobs"]

WORKERS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
"""Threads the jobs are spread over: the usable cores."""

SCRATCH_BYTES = 64 * 2**20
"""The largest scratch buffer a thread keeps between calls (per role); a larger need (GPT-3's
heads) is allocated for the call and freed after it."""


# ---------------------------------------------------------------------------------------------
# Scratch memory, per thread

_scratch_buffers = threading.local()


def scratch(role: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """An uninitialised array of ``shape`` for ``role``, in memory this thread reuses from call to call.

    Each role is used by one piece of code at a time in a thread (the pool's threads run one job
    at a time), so a buffer is never handed out twice at once; what a call returns is never
    scratch. Buffers only grow, up to SCRATCH_BYTES each.
    """
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > SCRATCH_BYTES:
        return np.empty(shape, dtype=dtype)
    buffers: dict[str, np.ndarray] = _scratch_buffers.__dict__.setdefault("buffers", {})
    buffer = buffers.get(role)
    if buffer is None or buffer.nbytes < nbytes:
        buffer = buffers[role] = np.empty(nbytes, dtype=np.uint8)
    return buffer[:nbytes].view(dtype).reshape(shape)


# ---------------------------------------------------------------------------------------------
# Splitting the work


def chunks(n: int, size: int) -> list[slice]:
    """0..n in consecutive slices of ``size`` (the last one shorter): query tiles, head groups."""
    return [slice(start, min(start + size, n)) for start in range(0, n, size)]


def groups(n: int) -> list[slice]:
    """0..n in WORKERS contiguous groups, as even as possible: one job per worker thread."""
    return chunks(n, -(-n // WORKERS))


# ---------------------------------------------------------------------------------------------
# BLAS on one thread


class _OneThreadBlas:
    """``with`` it: NumPy's BLAS runs on one thread while any call is inside, and gets its own
    thread count back when the last one leaves.

    The worker threads already use every core, and a multi-threaded BLAS inside each would fight
    them for the cores (OpenBLAS's threads spin while they wait). The thread count is global to
    the process, so concurrent calls share one counter under a lock: nesting plain
    ``threadpool_limits`` from two threads could leave BLAS on one thread for good. One reused
    ThreadpoolController makes entering and leaving cheap (a fresh ``threadpool_limits`` looks up
    the loaded libraries every time). The switch is process-wide: while a call is inside, other
    threads' BLAS calls run on one thread too.

    threadpoolctl 3.8 lets only one Python thread, the first to set a limit on a pthreads
    OpenBLAS, change its thread count; from any other thread a limit is silently ignored, and
    calls made from a thread other than the main one ran on a multi-threaded BLAS, whose kernels
    on Haswell and Zen cores split the matrix differently and so round differently. So the first caller to enter and the
    last to leave take control first (``clear_controlling_thread(force=True)``, threadpoolctl's
    own way to hand control over), and entering checks that BLAS really is on one thread.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inside = 0
        self._controller: Any = None
        self._limiter: Any = None

    def __enter__(self) -> None:
        if ThreadpoolController is None:
            return
        with self._lock:
            if self._inside == 0:
                if self._controller is None:
                    self._controller = ThreadpoolController()
                _take_blas_control()
                self._limiter = self._controller.limit(limits=1, user_api="blas")
                _check_one_thread(self._controller)
            self._inside += 1

    def __exit__(self, *exc_info: object) -> None:
        if ThreadpoolController is None:
            return
        with self._lock:
            self._inside -= 1
            if self._inside == 0:
                _take_blas_control()
                self._limiter.restore_original_limits()


def _take_blas_control() -> None:
    """Make this thread the one whose limits OpenBLAS obeys (threadpoolctl ≥ 3.8; no-op before)."""
    clear = getattr(getattr(threadpoolctl, "OpenBLASController", None), "clear_controlling_thread", None)
    if clear is not None:
        clear(force=True)


def _check_one_thread(controller: Any) -> None:
    """Raise if a BLAS library did not go to one thread: the bits would then depend on the path."""
    counts = {lib.internal_api: lib.get_num_threads() for lib in controller.select(user_api="blas").lib_controllers}
    refused = {name: n for name, n in counts.items() if n not in (1, None)}
    if refused:
        raise RuntimeError(f"gptspec.impl.fast: BLAS did not go to one thread ({refused}); results could depend on the path taken")


one_thread_blas = _OneThreadBlas()
"""The process's one switch: ``with one_thread_blas:`` around every BLAS call whose bits matter."""


# ---------------------------------------------------------------------------------------------
# Jobs on the worker threads

_pool_lock = threading.Lock()
_pool: tuple[int, ThreadPoolExecutor] | None = None


def workers() -> ThreadPoolExecutor:
    """The module's pool of WORKERS threads, made on first use (and anew in a forked child,
    whose copy of the pool has no threads)."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid():
            _pool = (os.getpid(), ThreadPoolExecutor(WORKERS, thread_name_prefix="gptspec-fast"))
        return _pool[1]


def run_jobs(jobs: Sequence[Callable[[], object]], parallel: bool) -> None:
    """Run every job with a one-thread BLAS: on the pool (``parallel``, more than one job,
    threadpoolctl installed), else in this thread.

    A job's BLAS calls always run on one thread, wherever the job runs: OpenBLAS's results can
    differ in the last bit between thread counts, so this keeps every result independent of the
    path taken, of scheduling, and of other calls running at the same time. A job writes its
    slice of an ``out`` array; what it returns is ignored. Workers run in a copy of the caller's
    context, so the caller's ``np.errstate`` holds there too. All jobs finish before BLAS gets
    its threads back; then the first failing job's error is raised, as the plain loop would.
    """
    with one_thread_blas:
        if not (parallel and len(jobs) > 1 and ThreadpoolController is not None):
            for job in jobs:
                job()
            return
        futures = [workers().submit(contextvars.copy_context().run, job) for job in jobs]  # the caller's np.errstate
        wait(futures)
    for future in futures:
        future.result()
