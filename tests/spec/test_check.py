"""The run-time checker: binding within a call, binding to a config across calls, messages."""

import numpy as np
import pytest

import gptspec
from gptspec import GPT3, impl
from gptspec.spec import (
    ArgumentTypeError,
    ContextLengthError,
    DtypeError,
    ShapeError,
    SpecError,
    bind,
    bound_config,
    check_call,
    checks,
    checks_enabled,
    located,
    set_checks,
    spec_of,
)
from gptspec.spec import signatures as S
from tests.helpers import TINY, randn

rng = np.random.default_rng(0)


def heads(n_heads=2, d_head=3, d_model=8):
    return [randn(rng, n_heads, d_head, d_model) for _ in range(3)]


def test_a_dim_is_bound_by_the_first_argument_that_carries_it():
    E = randn(rng, 8, 5)
    W_Q, W_K, W_V = heads()
    with pytest.raises(ShapeError) as info:
        impl.multi_head_attention(E, W_Q, W_K, W_V, randn(rng, 7, 6))
    assert str(info.value) == "multi_head_attention: W_O axis 0 is d_model = 8 (bound by E), got 7"


def test_symbolic_dim_names_what_bound_its_parts():
    E = randn(rng, 8, 5)
    with pytest.raises(ShapeError) as info:
        impl.multi_head_attention(E, *heads(), randn(rng, 8, 5))
    assert "W_O axis 1 is n_heads*d_head = 6" in str(info.value)
    assert "n_heads = 2 (bound by W_Q)" in str(info.value) and str(info.value).endswith("got 5")


def test_wrong_number_of_axes():
    with pytest.raises(ShapeError, match=r"W_E should have 2 axes \[d_model vocab\], got 3 axes with shape \(2, 3, 4\)"):
        impl.embed(np.array([0]), np.zeros((2, 3, 4)))


def test_wrong_dtype_kind_is_a_type_error():
    with pytest.raises(DtypeError, match="E should have a float dtype, got int64") as info:
        impl.unembed(np.zeros((3, 2), dtype=np.int64), np.zeros((5, 3)))
    assert isinstance(info.value, TypeError)


def test_non_array_argument():
    with pytest.raises(ArgumentTypeError, match="E should be a NumPy array float\\[d_model ctx\\], got list"):
        impl.unembed([[1.0]], np.zeros((5, 1)))


def test_scalar_arguments_are_checked_with_their_hint():
    Q = randn(rng, 3, 4)
    with pytest.raises(ArgumentTypeError, match="causal should be bool, got int"):
        impl.attention_pattern(Q, Q, 1)
    with pytest.raises(ArgumentTypeError, match="rng should be Generator, got int"):
        impl.sample(np.zeros(3), 1.0, 0)


def test_result_is_checked_too():
    bad = gptspec.spec.implements(S.unembed)(lambda E, W_U: (W_U @ E).T)
    with pytest.raises(ShapeError, match="unembed: return value axis 0 is vocab = 5 \\(bound by W_U\\), got 4"):
        bad(np.zeros((3, 4)), np.zeros((5, 3)))


def test_zero_sized_ctx_is_rejected():
    with pytest.raises(ContextLengthError, match="E axis 1 is ctx = 0; ctx must be at least 1"):
        impl.unembed(np.zeros((3, 0)), np.zeros((5, 3)))


def test_config_binding_holds_across_calls_and_names_the_config():
    E = np.zeros((768, 4), dtype=np.float32)
    with bind(GPT3):
        assert bound_config() is GPT3
        with pytest.raises(ShapeError, match=r"E axis 0 is d_model = 12288 \(bound by config gpt3\), got 768"):
            impl.layer_norm(E, np.ones(768, np.float32), np.zeros(768, np.float32))
    assert bound_config() is None
    impl.layer_norm(E, np.ones(768, np.float32), np.zeros(768, np.float32))  # unbound: fine


def test_ctx_may_not_exceed_n_ctx_under_a_config():
    with bind(TINY):
        with pytest.raises(ContextLengthError, match=r"ctx = 7, more than n_ctx = 6 \(bound by config tiny\)"):
            impl.causal_mask(7)
        assert impl.causal_mask(6).shape == (6, 6)


def test_an_int_argument_named_after_a_dim_binds_it():
    with pytest.raises(ContextLengthError, match="ctx = 0"):
        impl.causal_mask(0)


def test_symbolic_dims_use_the_config_when_nothing_else_binds_them():
    c = TINY.replace(d_model=10, n_heads=3, d_head=4)
    with bind(c):
        check_call(S.multi_head_attention, np.zeros((10, 2)), *[np.zeros((3, 4, 10))] * 3, np.zeros((10, 12)))
        with pytest.raises(ShapeError, match="n_heads\\*d_head = 12"):
            check_call(S.multi_head_attention, np.zeros((10, 2)), *[np.zeros((3, 4, 10))] * 3, np.zeros((10, 10)))


def test_weights_containers_are_checked_field_by_field():
    w = impl.random_weights(TINY, 0)
    broken = gptspec.BlockWeights(**{**w.blocks[1].__dict__, "W_O": np.zeros((8, 7), np.float32)})
    bad = gptspec.Weights(**{**w.__dict__, "blocks": (w.blocks[0], broken)})
    with pytest.raises(ShapeError, match=r"forward: weights.blocks\[1\].W_O axis 1 is n_heads\*d_head = 6"):
        impl.forward(np.array([1, 2]), bad)


def test_located_prefixes_errors_with_where_they_happened():
    w = impl.random_weights(TINY, 0)
    with located("layer 3"):
        with pytest.raises(ShapeError, match="^layer 3 › block: "):
            impl.block(np.zeros((7, 2), np.float32), w.blocks[0])


def test_variadic_shape_must_come_back_unchanged():
    bad = gptspec.spec.implements(S.softmax)(lambda x, temperature=1.0, axis=-1: x[..., :1])
    with pytest.raises(ShapeError, match=r"softmax: return value axes \*shape should be \(2, 3\) \(bound by x\), got \(2, 1\)"):
        bad(np.zeros((2, 3)))


def test_messages_never_print_array_contents():
    big = np.full((3, 1000), 123.456)
    with pytest.raises(SpecError) as info:
        impl.unembed(big, np.zeros((5, 4)))
    assert "123.456" not in str(info.value) and len(str(info.value)) < 200


def test_checks_can_be_switched_off_and_back():
    assert checks_enabled()
    E, W_U = np.zeros((3, 2)), np.zeros((5, 4))
    with checks(False):
        assert not checks_enabled()
        with pytest.raises(ValueError) as info:  # numpy's own matmul error, not ours
            impl.unembed(E, W_U)
        assert not isinstance(info.value, SpecError)
    assert checks_enabled()
    set_checks(False)
    try:
        assert not checks_enabled()
    finally:
        set_checks(True)
    with pytest.raises(ShapeError):
        impl.unembed(E, W_U)


def test_value_checks_stay_on_with_shape_checks_off():
    with checks(False):
        with pytest.raises(gptspec.TokenError):
            impl.embed(np.array([-1]), np.zeros((2, 4)))
        with pytest.raises(gptspec.TemperatureError):
            impl.softmax(np.zeros(3), 0.0)


def test_environment_variable_turns_checks_off_at_import():
    import subprocess
    import sys

    code = "import gptspec; print(gptspec.checks_enabled())"
    out = subprocess.run([sys.executable, "-c", code], env={"GPTSPEC_CHECKS": "0"}, capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def test_implementation_must_match_the_spec_signature():
    with pytest.raises(SpecError, match="does not match the spec signature"):
        gptspec.spec.implements(S.embed)(lambda W_E, tokens: None)


def test_spec_of_names_the_signature():
    assert spec_of(impl.attention_head) is S.attention_head


def test_implementation_annotations_must_be_the_spec_ones():
    from gptspec.spec.types import Embeddings, Logits

    def unembed(E: Embeddings, W_U: Embeddings) -> Logits:  # W_U annotated with the wrong alias
        return W_U @ E

    with pytest.raises(SpecError, match="does not match the spec signature"):
        gptspec.spec.implements(S.unembed)(unembed)


def test_an_implementation_that_writes_no_types_shows_the_spec_ones_and_one_that_writes_them_its_own():
    import inspect
    import typing

    from gptspec.spec.types import Embeddings, Logits, UnembeddingMatrix

    def bare(E, W_U):
        return W_U @ E

    def written(E: Embeddings, W_U: UnembeddingMatrix) -> Logits:
        return W_U @ E

    spec_sig = inspect.signature(S.unembed, eval_str=True)
    given = gptspec.spec.implements(S.unembed)(bare)
    assert inspect.signature(given) == spec_sig
    assert typing.get_type_hints(given) == typing.get_type_hints(S.unembed)
    own = gptspec.spec.implements(S.unembed)(written)
    assert not hasattr(own, "__signature__")  # its own signature, read through __wrapped__
    assert [p.name for p in inspect.signature(own).parameters.values()] == ["E", "W_U"]
    with pytest.raises(gptspec.ShapeError, match="W_U axis 1 is d_model = 4"):  # checked all the same
        given(np.zeros((4, 2)), np.zeros((5, 3)))


def test_a_float_mask_is_not_a_bool_mask():
    with pytest.raises(DtypeError, match="return value should have a bool dtype, got float64"):
        gptspec.spec.check_result(S.causal_mask, np.ones((3, 3)), 3)


def _cached_args(ctx_past=2, ctx_new=1):
    W_Q, W_K, W_V = heads()
    K_past, V_past = randn(rng, 2, 3, ctx_past), randn(rng, 2, 3, ctx_past)
    return randn(rng, 8, ctx_new), W_Q, W_K, W_V, randn(rng, 8, 6), K_past, V_past


def test_an_empty_cache_is_ctx_past_0_but_no_new_position_is_an_error():
    check_call(S.multi_head_attention_cached, *_cached_args(ctx_past=0))
    with pytest.raises(ContextLengthError, match="E axis 1 is ctx_new = 0; ctx_new must be at least 1"):
        check_call(S.multi_head_attention_cached, *_cached_args(ctx_new=0))


def test_a_tuple_result_is_checked_item_by_item_with_symbolic_lengths():
    good = impl.multi_head_attention_cached.__wrapped__
    bad = gptspec.spec.implements(S.multi_head_attention_cached)(
        lambda E, W_Q, W_K, W_V_down, W_O, K_past, V_past: (lambda d, K, V: (d, K[..., 1:], V))(
            *good(E, W_Q, W_K, W_V_down, W_O, K_past, V_past)))
    with pytest.raises(ShapeError, match=r"return value\[1\] axis 2 is ctx_past\+ctx_new = 3 with ctx_past = 2 "
                                         r"\(bound by K_past\) · ctx_new = 1 \(bound by E\), got 2"):
        bad(*_cached_args())
    with pytest.raises(ArgumentTypeError, match=r"return value should be a tuple of 3 items, got 2"):
        gptspec.spec.implements(S.multi_head_attention_cached)(
            lambda E, W_Q, W_K, W_V_down, W_O, K_past, V_past: (E, K_past))(*_cached_args())


def test_an_optional_cache_takes_none_or_pairs_and_names_the_bad_one():
    w = impl.random_weights(TINY, 0, dtype=np.float64)
    tokens = np.array([1, 2])
    check_call(S.forward_cached, tokens, w, None)
    _, cache = impl.forward_cached(tokens, w)
    check_call(S.forward_cached, tokens, w, [list(p) for p in cache])
    with pytest.raises(ArgumentTypeError, match=r"cache\[1\] should be a tuple"):
        check_call(S.forward_cached, tokens, w, (cache[0], 3))
