"""The "first" checks mode: only the first call of each shape signature is checked."""

import subprocess
import sys

import numpy as np
import pytest

from gptspec import ArgumentTypeError, Config, ContextLengthError, ShapeError, TokenError, impl
from gptspec.spec import signatures as S
from gptspec.spec.check import bind, checks, checks_enabled, checks_mode, implements, set_checks

TINY = Config(vocab=13, d_model=8, n_heads=2, d_head=3, n_ctx=6, n_layers=1, d_mlp=16, name="tiny")


@pytest.fixture
def first_mode():
    with checks("first"):
        yield


def counting(monkeypatch, spec_fn, body):
    """``body`` decorated as ``spec_fn``'s implementation, and a list that grows by one per checked call."""
    fn = implements(spec_fn)(body)
    checker = fn.__gptspec_checker__
    checked = []
    check_call = checker.check_call
    monkeypatch.setattr(checker, "check_call", lambda args, kwargs: checked.append(args) or check_call(args, kwargs))
    return fn, checked


def identity_softmax(x, temperature=1.0, axis=-1):
    return x


def test_a_second_call_with_the_same_shapes_is_not_checked(monkeypatch, first_mode):
    softmax, checked = counting(monkeypatch, S.softmax, identity_softmax)
    x = np.zeros((2, 3))
    assert softmax(x) is x
    assert softmax(np.ones((2, 3))) is not x  # other values: same signature, not checked
    softmax(x, 0.5)  # a temperature given: a new signature
    softmax(x, 2.0)  # another float: the same one
    assert len(checked) == 2


def test_a_new_shape_dtype_or_int_is_checked_again(monkeypatch, first_mode):
    softmax, checked = counting(monkeypatch, S.softmax, identity_softmax)
    softmax(np.zeros((2, 3)))
    softmax(np.zeros((3, 2)))
    softmax(np.zeros((3, 2), dtype=np.float32))
    softmax(np.zeros((3, 2), dtype=np.float32), axis=0)
    softmax(np.zeros((3, 2), dtype=np.float32), axis=0)
    assert len(checked) == 4


def test_a_new_signature_that_breaks_the_spec_still_raises(first_mode):
    Q = np.zeros((3, 4))
    impl.attention_pattern(Q, Q)
    with pytest.raises(ShapeError, match="d_head"):
        impl.attention_pattern(Q, np.zeros((2, 4)))


def test_a_result_is_checked_on_the_first_call(first_mode):
    wrong = implements(S.causal_mask)(lambda ctx: np.ones((ctx, ctx + 1), dtype=bool))
    with pytest.raises(ShapeError, match="return value"):
        wrong(3)


def test_a_change_of_bound_config_is_checked_again(monkeypatch, first_mode):
    causal_mask, checked = counting(monkeypatch, S.causal_mask, lambda ctx: np.ones((ctx, ctx), dtype=bool))
    causal_mask(8)
    causal_mask(8)
    with bind(TINY), pytest.raises(ContextLengthError, match="n_ctx = 6"):
        causal_mask(8)  # seen unbound, never under TINY: checked, and 8 > n_ctx
    assert len(checked) == 2


def test_weights_containers_are_keyed_by_their_arrays_shapes(monkeypatch, first_mode):
    weights = impl.random_weights(TINY, 0)
    tokens = np.array([1, 2, 3])
    forward, checked = counting(monkeypatch, S.forward, impl.forward.__wrapped__)
    forward(tokens, weights)
    forward(tokens + 1, impl.random_weights(TINY, 1))
    forward(tokens, impl.random_weights(TINY, 1, dtype=np.float64))
    assert len(checked) == 2


def test_value_checks_still_run_on_skipped_calls(first_mode):
    W_E = np.zeros((4, 13))
    impl.embed(np.array([1, 2]), W_E)
    with pytest.raises(TokenError):
        impl.embed(np.array([1, 13]), W_E)


def test_modes_switch_and_restore():
    assert checks_mode() == "on"
    set_checks("first")
    try:
        assert checks_mode() == "first" and checks_enabled()
        with checks(False):
            assert checks_mode() == "off" and not checks_enabled()
        assert checks_mode() == "first"
    finally:
        set_checks(True)
    with pytest.raises(ArgumentTypeError, match="first"):
        set_checks("sometimes")


def test_environment_variable_selects_first_mode():
    code = "from gptspec.spec.check import checks_mode; print(checks_mode())"
    env = {"GPTSPEC_CHECKS": "first", "PATH": ""}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "first"
