"""The spec's signatures: the reference provides each one exactly, and the annotations are
genuine jaxtyping types that jaxtyping + beartype enforce the same way our checker does."""

import inspect
import types

import numpy as np
import pytest
from beartype import beartype
from jaxtyping import TypeCheckError, jaxtyped

from gptspec import impl
from gptspec.spec import FUNCTIONS, MODEL_FUNCTIONS, SIGNATURES, spec_of
from gptspec.spec import signatures as S

DESIGN_ORDER = {
    "embed": ["tokens", "W_E"],
    "unembed": ["E", "W_U"],
    "softmax": ["x", "temperature", "axis"],
    "causal_mask": ["ctx"],
    "attention_pattern": ["Q", "K", "causal"],
    "attention_head": ["E", "W_Q", "W_K", "W_V_down", "W_V_up", "causal"],
    "cross_attention_head": ["E_q", "E_kv", "W_Q", "W_K", "W_V_down", "W_V_up"],
    "multi_head_attention": ["E", "W_Q", "W_K", "W_V_down", "W_O", "causal"],
    "mlp": ["E", "W_up", "b_up", "W_down", "b_down"],
    "sample": ["logits", "temperature", "rng"],
    "forward": ["tokens", "weights"],
    "next_token_probs": ["tokens", "weights", "temperature"],
    "multi_head_attention_cached": ["E", "W_Q", "W_K", "W_V_down", "W_O", "K_past", "V_past"],
    "forward_cached": ["tokens", "weights", "cache"],
}


@pytest.mark.parametrize("name", sorted(DESIGN_ORDER))
def test_argument_order_is_the_published_one(name):
    assert list(inspect.signature(SIGNATURES[name]).parameters) == DESIGN_ORDER[name]


@pytest.mark.parametrize("spec_fn", FUNCTIONS + MODEL_FUNCTIONS, ids=lambda f: f.__name__)
def test_reference_implements_every_spec_function(spec_fn):
    fn = getattr(impl, spec_fn.__name__)
    assert spec_of(fn) is spec_fn
    assert inspect.signature(fn.__wrapped__).parameters.keys() == inspect.signature(spec_fn).parameters.keys()


def test_defaults_are_the_published_ones():
    assert inspect.signature(S.softmax).parameters["temperature"].default == 1.0
    assert inspect.signature(S.softmax).parameters["axis"].default == -1
    assert inspect.signature(S.attention_head).parameters["causal"].default is True
    assert inspect.signature(S.next_token_probs).parameters["temperature"].default == 1.0


@pytest.mark.parametrize("spec_fn", FUNCTIONS + MODEL_FUNCTIONS, ids=lambda f: f.__name__)
def test_spec_bodies_point_to_the_reference(spec_fn):
    n = len(inspect.signature(spec_fn).parameters)
    with pytest.raises(NotImplementedError, match=f"call gptspec.impl.{spec_fn.__name__}"):
        spec_fn(*([None] * n))


def _jaxtyped_reference(name):
    """The reference's raw function under jaxtyping + beartype, with the spec's annotations."""
    raw = getattr(impl, name).__wrapped__
    namespace = {**vars(S), **raw.__globals__}  # the spec's aliases resolve the annotations; the module's names win
    copy = types.FunctionType(raw.__code__, namespace, raw.__name__, raw.__defaults__, raw.__closure__)
    copy.__annotations__ = dict(SIGNATURES[name].__annotations__)
    return jaxtyped(typechecker=beartype)(copy)


def test_jaxtyping_and_beartype_accept_the_reference_on_good_input():
    rng = np.random.default_rng(0)
    E = rng.standard_normal((8, 5))
    W_Q, W_K, W_V = (rng.standard_normal((2, 3, 8)) for _ in range(3))
    W_O = rng.standard_normal((8, 6))
    out = _jaxtyped_reference("multi_head_attention")(E, W_Q, W_K, W_V, W_O, True)
    assert out.shape == (8, 5)


def test_jaxtyping_and_beartype_reject_what_our_checker_rejects():
    rng = np.random.default_rng(0)
    E = rng.standard_normal((8, 5))
    W_Q, W_K, W_V = (rng.standard_normal((2, 3, 8)) for _ in range(3))
    with pytest.raises(TypeCheckError):
        _jaxtyped_reference("multi_head_attention")(E, W_Q, W_K, W_V, rng.standard_normal((8, 5)), True)
    with pytest.raises(ValueError):
        impl.multi_head_attention(E, W_Q, W_K, W_V, rng.standard_normal((8, 5)), True)


def test_jaxtyping_and_beartype_accept_the_cached_reference_and_reject_a_short_cache():
    rng = np.random.default_rng(0)
    W_Q, W_K, W_V = (rng.standard_normal((2, 3, 8)) for _ in range(3))
    W_O = rng.standard_normal((8, 6))
    K_past, V_past = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 4))
    delta, K, V = _jaxtyped_reference("multi_head_attention_cached")(
        rng.standard_normal((8, 2)), W_Q, W_K, W_V, W_O, K_past, V_past)
    assert delta.shape == (8, 2) and K.shape == V.shape == (2, 3, 6)
    with pytest.raises(TypeCheckError):
        _jaxtyped_reference("multi_head_attention_cached")(
            rng.standard_normal((8, 2)), W_Q, W_K, W_V, W_O, K_past, V_past[..., :3])
