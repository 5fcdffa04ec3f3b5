"""gptspec.impl.fast against the reference: same numbers, same zeros, same errors, verified."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import gptspec
from gptspec import ShapeError, SoftmaxInputError, impl
from gptspec.impl import fast, threads
from gptspec.properties.tolerance import tolerance
from tests.helpers import randn

rng = np.random.default_rng(6)
B = fast.BLOCK
CONTEXTS = [1, 2, 5, B - 1, B, B + 1, 2 * B + 3]  # one tile, tile edges, three tiles


def weights(n_heads, d_head, d_model, dtype, scale=0.5):
    W_Q, W_K, W_V = (randn(rng, n_heads, d_head, d_model, dtype=dtype) * dtype(scale) for _ in range(3))
    return W_Q, W_K, W_V, randn(rng, d_model, n_heads * d_head, dtype=dtype)


def assert_agrees(got, want):
    """Within the dtype's tolerance, relative to the largest entry of the reference."""
    assert got.dtype == want.dtype and got.shape == want.shape
    assert not np.isnan(got).any()
    np.testing.assert_allclose(got, want, rtol=0, atol=10 * tolerance(want.dtype).rtol * np.abs(want).max())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("ctx", CONTEXTS)
def test_multi_head_attention_agrees_with_the_reference(dtype, causal, ctx):
    E = randn(rng, 10, ctx, dtype=dtype)  # d_model 10 ≠ n_heads·d_head = 12
    W_Q, W_K, W_V, W_O = weights(3, 4, 10, dtype)
    assert_agrees(
        fast.multi_head_attention(E, W_Q, W_K, W_V, W_O, causal),
        impl.multi_head_attention(E, W_Q, W_K, W_V, W_O, causal),
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("ctx", [1, B, B + 1, 2 * B + 3])
def test_attention_head_agrees_with_the_reference(dtype, causal, ctx):
    E = randn(rng, 7, ctx, dtype=dtype)
    W_Q, W_K, W_V, W_O = weights(1, 5, 7, dtype)
    args = (E, W_Q[0], W_K[0], W_V[0], W_O, causal)
    assert_agrees(fast.attention_head(*args), impl.attention_head(*args))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ctx", CONTEXTS)
def test_causal_pattern_agrees_masks_exactly_and_normalises(dtype, ctx):
    Q, K = randn(rng, 6, ctx, dtype=dtype), randn(rng, 6, ctx, dtype=dtype)
    A = fast.attention_pattern(Q, K)
    assert_agrees(A, impl.attention_pattern(Q, K))
    masked = ~impl.causal_mask(ctx)
    assert np.all(A[masked] == 0)  # exactly 0, not small
    assert np.all(A[~masked] > 0)
    np.testing.assert_allclose(A.sum(axis=0), 1, rtol=tolerance(dtype).normalisation(ctx))


@pytest.mark.parametrize("ctx_q, ctx_k", [(1, 9), (B + 1, 3), (2 * B + 3, B)])
def test_cross_pattern_has_no_mask(ctx_q, ctx_k):
    Q, K = randn(rng, 4, ctx_q), randn(rng, 4, ctx_k)
    A = fast.attention_pattern(Q, K, causal=False)
    assert A.shape == (ctx_k, ctx_q) and np.all(A > 0)
    assert_agrees(A, impl.attention_pattern(Q, K, causal=False))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "q, k",
    [
        (1e15, 1e15),  # scores ~1e30: exp overflows without the shift
        (30.0, -30.0),  # every score ≈ −900·d_head: exp underflows to 0 without the shift
        (1e-30, 1e-30),  # scores ~1e-60: all equal to float32
    ],
)
def test_extreme_scores_give_the_reference_and_no_nan(dtype, q, k):
    ctx = B + 7
    Q = np.abs(randn(rng, 3, ctx, dtype=dtype)) * dtype(q)
    K = np.abs(randn(rng, 3, ctx, dtype=dtype)) * dtype(k)
    for causal in (True, False):
        A = fast.attention_pattern(Q, K, causal)
        assert np.all(np.isfinite(A))
        assert_agrees(A, impl.attention_pattern(Q, K, causal))


def test_huge_embeddings_keep_multi_head_attention_finite():
    E = randn(rng, 8, B + 2, dtype=np.float32) * np.float32(1e4)  # scores ~1e8 after the projections
    W_Q, W_K, W_V, W_O = weights(2, 4, 8, np.float32, scale=1.0)
    got = fast.multi_head_attention(E, W_Q, W_K, W_V, W_O)
    assert np.all(np.isfinite(got))
    assert_agrees(got, impl.multi_head_attention(E, W_Q, W_K, W_V, W_O))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_inf_scores_raise_as_in_the_reference(bad):
    Q, K = randn(rng, 3, 4), randn(rng, 3, 4)
    Q[1, 2] = bad
    for fn in (impl.attention_pattern, fast.attention_pattern):
        with np.errstate(invalid="ignore"), pytest.raises(SoftmaxInputError, match="attention_pattern|softmax"):
            fn(Q, K)


def test_causal_needs_as_many_queries_as_keys():
    with pytest.raises(ShapeError, match="ctx_q = 3, ctx_k = 4"):
        fast.attention_pattern(randn(rng, 2, 3), randn(rng, 2, 4))


def test_calls_are_checked_against_the_spec():
    E = randn(rng, 8, 5)
    W_Q, W_K, W_V, W_O = weights(2, 3, 8, np.float64)
    with pytest.raises(ShapeError, match="d_model"):
        fast.multi_head_attention(E, W_Q, W_K, W_V, W_O[:7])


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_dtype_is_kept(dtype):
    E = randn(rng, 6, 9, dtype=dtype)
    W_Q, W_K, W_V, W_O = weights(2, 3, 6, dtype)
    assert fast.multi_head_attention(E, W_Q, W_K, W_V, W_O).dtype == dtype
    assert fast.attention_head(E, W_Q[0], W_K[0], W_V[0], W_O[:, :3]).dtype == dtype
    assert fast.attention_pattern(W_Q[0] @ E, W_K[0] @ E).dtype == dtype


def test_float32_scores_are_not_promoted(monkeypatch):
    """NEP 50: a float64 scalar anywhere would turn the tiles float64; every matmul must see float32."""
    seen = []
    matmul = np.matmul

    def spy(a, b, *args, **kwargs):
        seen.append((a.dtype, b.dtype))
        return matmul(a, b, *args, **kwargs)

    monkeypatch.setattr(fast.np, "matmul", spy)
    E = randn(rng, 6, B + 1, dtype=np.float32)
    fast.multi_head_attention(E, *weights(2, 3, 6, np.float32))
    assert seen and all(a == b == np.float32 for a, b in seen)


def test_verify_passes_the_fast_path():
    report = gptspec.verify(fast, profile="default", seed=0)
    passed = {r.name for r in report.results if r.status == "passed"}
    assert report.ok, [(r.name, r.failure.message) for r in report.failures()]
    assert any(name.startswith("causality.") for name in passed)


def test_a_query_falling_back_to_the_shift_leaves_the_others_bit_for_bit():
    """Overflow in query j's scores sends only query j to the shifted exp: earlier queries of the
    same tile keep their bits (causality is exact, not just close)."""
    Q, K = randn(rng, 4, 10, dtype=np.float32), randn(rng, 4, 10, dtype=np.float32)
    Q2, K2 = Q.copy(), K.copy()
    Q2[:, 9] *= np.float32(1e15)
    K2[:, 9] *= np.float32(1e15)
    A, A2 = fast.attention_pattern(Q, K), fast.attention_pattern(Q2, K2)
    assert np.all(np.isfinite(A2))
    np.testing.assert_array_equal(A2[:, :9], A[:, :9])


def multi_head_case(ctx, dtype=np.float32, seed=0):
    """5 heads (groups of 3 and 2 on two cores) of 16, d_model 48: big enough that BLAS goes
    multi-threaded outside the worker threads (OpenBLAS does from ~2.6e5 multiply-adds)."""
    r = np.random.default_rng(seed)
    E = randn(r, 48, ctx, dtype=dtype)
    W_Q, W_K, W_V = (randn(r, 5, 16, 48, dtype=dtype) * dtype(0.3) for _ in range(3))
    return E, W_Q, W_K, W_V, randn(r, 48, 80, dtype=dtype)


def test_the_threaded_path_is_used_at_long_contexts(monkeypatch):
    pools = []
    workers = threads.workers
    monkeypatch.setattr(threads, "workers", lambda: pools.append(1) or workers())
    fast.multi_head_attention(*multi_head_case(fast.PARALLEL_MIN_CTX))
    assert pools if threads.WORKERS > 1 and threads.ThreadpoolController is not None else not pools


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("causal", [True, False])
def test_threaded_and_unthreaded_paths_agree_bit_for_bit(monkeypatch, dtype, causal):
    args = multi_head_case(2 * B + 3, dtype)
    threaded = fast.multi_head_attention(*args, causal)
    head = fast.attention_head(args[0], args[1][0], args[2][0], args[3][0], args[4][:, :16], causal)
    assert fast.PARALLEL_MIN_CTX <= args[0].shape[1]
    monkeypatch.setattr(fast, "PARALLEL_MIN_CTX", 10**9)
    np.testing.assert_array_equal(fast.multi_head_attention(*args, causal), threaded)
    np.testing.assert_array_equal(
        fast.attention_head(args[0], args[1][0], args[2][0], args[3][0], args[4][:, :16], causal), head
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_calls_from_several_threads_at_once_give_the_same_bits(dtype):
    """Also the short calls that stay in their own thread: BLAS is on one thread in every call."""
    cases = [multi_head_case(B // 2 + 40 * seed, dtype, seed) for seed in range(6)]
    alone = [fast.multi_head_attention(*case) for case in cases]
    with ThreadPoolExecutor(4) as callers:
        for _ in range(3):
            together = list(callers.map(lambda case: fast.multi_head_attention(*case), cases))
            for got, want in zip(together, alone):
                np.testing.assert_array_equal(got, want)


def blas_threads():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    return [info["num_threads"] for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas"]


@pytest.mark.parametrize("ctx", [B // 2, 2 * B + 3])  # jobs in the calling thread, and on the workers
def test_blas_is_on_one_thread_in_calls_from_any_thread(monkeypatch, ctx):
    """threadpoolctl 3.8 obeys limits from one Python thread only; a call made from another
    thread must still run its BLAS on one thread (on Haswell and Zen kernels the bits differ)."""
    if max(blas_threads(), default=1) < 2:
        pytest.skip("BLAS runs on one thread here anyway")
    seen = []
    project_and_attend = fast._project_and_attend
    monkeypatch.setattr(fast, "_project_and_attend", lambda *a: seen.append(blas_threads()) or project_and_attend(*a))
    case = multi_head_case(ctx)
    fast.multi_head_attention(*case)  # the main thread first: threadpoolctl makes it the controlling one
    for _ in range(2):
        with ThreadPoolExecutor(1) as caller:
            caller.submit(fast.multi_head_attention, *case).result()
    assert seen and all(counts == [1] * len(counts) for counts in seen), seen


def test_blas_gets_its_threads_back_after_calls_and_errors():
    before = blas_threads()
    E, *weights = multi_head_case(B + 1)
    with ThreadPoolExecutor(3) as callers:
        list(callers.map(lambda _: fast.multi_head_attention(E, *weights), range(6)))
    assert blas_threads() == before
    E[3, 5] = np.nan
    with np.errstate(invalid="ignore"), pytest.raises(SoftmaxInputError):
        fast.multi_head_attention(E, *weights)
    assert blas_threads() == before


def test_worker_threads_follow_the_callers_errstate():
    E, *weights = multi_head_case(B + 1)
    E[0, -1] = np.float32(3e38)  # the projection overflows to inf in the last column's heads
    with np.errstate(over="raise", invalid="raise"), pytest.raises(FloatingPointError):
        fast.multi_head_attention(E, *weights)


@pytest.mark.parametrize("ctx", [B // 2, 2 * B + 3])  # jobs in the calling thread, and on the workers
def test_results_are_never_scratch_memory(ctx):
    """Each thread reuses its scratch buffers from call to call; what a call returns must not be one."""
    first_args, second_args = multi_head_case(ctx, seed=1), multi_head_case(ctx, seed=2)
    first = fast.multi_head_attention(*first_args)
    head = fast.attention_head(first_args[0], first_args[1][0], first_args[2][0], first_args[3][0], first_args[4][:, :16])
    pattern = fast.attention_pattern(first_args[1][0] @ first_args[0], first_args[2][0] @ first_args[0])
    kept = [first.copy(), head.copy(), pattern.copy()]
    fast.multi_head_attention(*second_args)
    fast.attention_head(second_args[0], second_args[1][0], second_args[2][0], second_args[3][0], second_args[4][:, :16])
    fast.attention_pattern(second_args[1][0] @ second_args[0], second_args[2][0] @ second_args[0])
    for got, want in zip([first, head, pattern], kept):
        np.testing.assert_array_equal(got, want)


def test_buffers_over_the_scratch_cap_give_the_same_bits(monkeypatch):
    """Needs bigger than SCRATCH_BYTES (GPT-3's heads) are allocated per call instead of kept
    (that they are is tests/impl/test_threads.py's)."""
    args = multi_head_case(2 * B + 3)
    kept = fast.multi_head_attention(*args)
    monkeypatch.setattr(threads, "SCRATCH_BYTES", 1024)
    np.testing.assert_array_equal(fast.multi_head_attention(*args), kept)
