import numpy as np
import pytest

from gptspec import ArgumentTypeError, ContextLengthError, DtypeError, GPT3, ShapeError, TokenError, bind, impl
from tests.helpers import randn

rng = np.random.default_rng(1)


def test_embed_is_W_E_times_one_hot_columns():
    W_E = randn(rng, 4, 7)
    tokens = np.array([3, 0, 3, 6])
    one_hot = np.eye(7)[:, tokens]  # [vocab ctx]
    np.testing.assert_allclose(impl.embed(tokens, W_E), W_E @ one_hot)


@pytest.mark.parametrize("bad, pos", [([1, -1, 2], 1), ([7], 0), ([0, 1, 99], 2), ([-7, 0], 0)])
def test_ids_outside_the_vocabulary_are_errors_never_wrap_around(bad, pos):
    with pytest.raises(TokenError, match=f"at position {pos} is outside \\[0, vocab = 7\\)") as info:
        impl.embed(np.array(bad), randn(rng, 4, 7))
    assert isinstance(info.value, ValueError)


def test_unsigned_ids_work_and_are_range_checked():
    assert impl.embed(np.array([1, 2], dtype=np.uint8), randn(rng, 4, 7)).shape == (4, 2)
    with pytest.raises(TokenError):
        impl.embed(np.array([200], dtype=np.uint8), randn(rng, 4, 7))


def test_non_integer_tokens_are_rejected():
    with pytest.raises(DtypeError, match="tokens should have an integer dtype, got float64"):
        impl.embed(np.array([1.0, 2.0]), randn(rng, 4, 7))
    with pytest.raises(DtypeError):
        impl.embed(np.array([True, False]), randn(rng, 4, 7))


def test_tokens_must_be_a_1d_array():
    with pytest.raises(ShapeError, match="tokens should have 1 axis \\[ctx\\], got 2 axes"):
        impl.embed(np.array([[1, 2]]), randn(rng, 4, 7))
    with pytest.raises(ArgumentTypeError):
        impl.embed([1, 2], randn(rng, 4, 7))


def test_empty_context_is_rejected():
    with pytest.raises(ContextLengthError, match="ctx = 0"):
        impl.embed(np.array([], dtype=np.int64), randn(rng, 4, 7))


def test_ctx_beyond_n_ctx_under_a_config():
    tokens = np.zeros(2049, dtype=np.int64)
    W_E = np.lib.stride_tricks.as_strided(np.zeros(1, np.float32), shape=(12288, 50257), strides=(0, 0))
    with bind(GPT3), pytest.raises(ContextLengthError, match="ctx = 2049, more than n_ctx = 2048"):
        impl.embed(tokens, W_E)


def test_unembed_is_the_matrix_product():
    E, W_U = randn(rng, 4, 3), randn(rng, 9, 4)
    np.testing.assert_allclose(impl.unembed(E, W_U), W_U @ E)


def test_dtype_is_kept():
    W_E = randn(rng, 4, 7, dtype=np.float32)
    assert impl.embed(np.array([1]), W_E).dtype == np.float32
    assert impl.unembed(randn(rng, 4, 2, dtype=np.float16), randn(rng, 5, 4, dtype=np.float16)).dtype == np.float16
