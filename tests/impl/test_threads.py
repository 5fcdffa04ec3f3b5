"""gptspec.impl.threads: jobs on the workers or in the caller, always on a one-thread BLAS, and
scratch memory kept per thread. (tests/impl/test_fast.py checks the same through impl.fast's calls.)"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from gptspec.impl import threads
from tests.helpers import randn

rng = np.random.default_rng(12)


def blas_threads():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    return [info["num_threads"] for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas"]


def test_scratch_over_the_cap_is_fresh_memory_and_under_it_one_buffer_reused(monkeypatch):
    monkeypatch.setattr(threads, "SCRATCH_BYTES", 1024)
    first, second = (threads.scratch("probe", (2048,), np.dtype(np.float32)) for _ in range(2))
    assert not np.shares_memory(first, second)
    monkeypatch.undo()
    first, second = (threads.scratch("probe", (2048,), np.dtype(np.float32)) for _ in range(2))
    assert np.shares_memory(first, second)  # under the cap: one buffer, reused


def test_scratch_has_the_shape_and_dtype_asked_for_and_is_per_thread():
    here = threads.scratch("probe", (3, 5), np.dtype(np.float64))
    assert here.shape == (3, 5) and here.dtype == np.float64
    with ThreadPoolExecutor(1) as other:
        there = other.submit(threads.scratch, "probe", (3, 5), np.dtype(np.float64)).result()
    assert not np.shares_memory(here, there)


def test_chunks_and_groups_cover_0_to_n_in_order(monkeypatch):
    assert threads.chunks(10, 4) == [slice(0, 4), slice(4, 8), slice(8, 10)]
    assert threads.chunks(0, 4) == []
    monkeypatch.setattr(threads, "WORKERS", 2)
    assert threads.groups(5) == [slice(0, 3), slice(3, 5)]
    monkeypatch.setattr(threads, "WORKERS", 3)
    assert threads.groups(12) == [slice(0, 4), slice(4, 8), slice(8, 12)]
    assert threads.groups(1) == [slice(0, 1)]


def matmul_job(seen):
    """A job whose matmul is big enough for BLAS to go multi-threaded on its own (OpenBLAS does from
    ~2.6e5 multiply-adds); it records BLAS's thread counts while it runs."""
    A = randn(rng, 96, 96, dtype=np.float32)

    def job():
        seen.append(blas_threads())
        return A @ A

    return job


@pytest.mark.parametrize("parallel", [False, True])  # jobs in the calling thread, and on the workers
def test_jobs_run_on_a_one_thread_blas_from_any_thread(parallel):
    """threadpoolctl 3.8 obeys limits from one Python thread only; jobs run from another thread
    must still see BLAS on one thread."""
    if max(blas_threads(), default=1) < 2:
        pytest.skip("BLAS runs on one thread here anyway")
    seen = []
    jobs = [matmul_job(seen) for _ in range(3)]
    threads.run_jobs(jobs, parallel)  # the main thread first: threadpoolctl makes it the controlling one
    for _ in range(2):
        with ThreadPoolExecutor(1) as caller:
            caller.submit(threads.run_jobs, jobs, parallel).result()
    assert len(seen) == 9 and all(counts == [1] * len(counts) for counts in seen), seen


@pytest.mark.parametrize("parallel", [False, True])
def test_blas_gets_its_threads_back_and_the_first_failing_jobs_error_is_raised(parallel):
    before = blas_threads()
    done = []

    def fails(message):
        def job():
            done.append(message)
            raise ValueError(message)

        return job

    jobs = [lambda: done.append("ok"), fails("first"), fails("second")]
    with pytest.raises(ValueError, match="first"):
        threads.run_jobs(jobs, parallel)
    assert blas_threads() == before
    if parallel and threads.WORKERS > 1 and threads.ThreadpoolController is not None:
        assert sorted(done) == ["first", "ok", "second"]  # all jobs finish before the error is raised
    else:
        assert done == ["ok", "first"]  # as the plain loop would


def test_worker_threads_follow_the_callers_errstate():
    huge = np.full(4, 3e38, dtype=np.float32)
    jobs = [lambda: huge * np.float32(10) for _ in range(2)]
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        threads.run_jobs(jobs, parallel=True)
    with np.errstate(over="ignore"):
        threads.run_jobs(jobs, parallel=True)


def test_a_forked_child_makes_its_own_pool(monkeypatch):
    """A forked child's copy of the pool has no threads: a new pid gets a new pool."""
    pool = threads.workers()
    assert threads.workers() is pool
    monkeypatch.setattr(threads, "_pool", threads._pool)  # the parent's pool comes back afterwards
    monkeypatch.setattr(threads.os, "getpid", lambda: -1)
    child = threads.workers()
    try:
        assert child is not pool
        assert threads.workers() is child
    finally:
        child.shutdown()
