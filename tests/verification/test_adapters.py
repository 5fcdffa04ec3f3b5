"""Adapters: a rows-layout or torch implementation, seen in the spec's columns layout with NumPy."""

from __future__ import annotations

import pathlib
import sys
import typing

import numpy as np
import pytest

from gptspec import impl
from gptspec.spec import signatures as S
from gptspec.verification import ResultTypeError, TargetError, adapt, detect_framework, load
from gptspec.verification.adapters import array_axes, to_rows
from tests.helpers import TINY

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


def _hint(fn: str, param: str):
    return typing.get_type_hints(getattr(S, fn))[param]


def spec_arguments(dtype: type = np.float32) -> dict[str, tuple]:
    """One valid call of every spec function (columns layout), from the reference's weights."""
    w = impl.random_weights(TINY, 0, dtype=dtype, scale=0.5)
    b = w.blocks[0]
    E = np.random.default_rng(1).standard_normal((TINY.d_model, 4)).astype(dtype)
    tokens = np.array([1, 3, 12, 0])
    head = (b.W_Q[0], b.W_K[0], b.W_V_down[0], b.W_O[:, : TINY.d_head])
    return {
        "embed": (tokens, w.W_E), "unembed": (E, w.W_U), "softmax": (E, 0.7, 0), "causal_mask": (4,),
        "attention_pattern": (b.W_Q[0] @ E, b.W_K[0] @ E),
        "attention_head": (E, *head), "cross_attention_head": (E, E[:, :2], *head),
        "multi_head_attention": (E, b.W_Q, b.W_K, b.W_V_down, b.W_O),
        "mlp": (E, b.W_up, b.b_up, b.W_down, b.b_down), "layer_norm": (E, b.ln1_gain, b.ln1_bias),
        "block": (E, b), "forward": (tokens, w), "next_token_probs": (tokens, w, 0.8),
    }


@pytest.mark.parametrize("example, framework", [("numpy_rows.py", "numpy"), ("torch_sdpa.py", "torch")])
def test_a_rows_implementation_adapted_agrees_with_the_reference_on_every_function(example, framework):
    target = load(EXAMPLES / example)
    adapted = adapt(target.obj, target.provides, layout="rows", framework=framework)
    for name, args in spec_arguments().items():
        got, want = getattr(adapted, name)(*args), getattr(impl, name)(*args)
        assert isinstance(got, np.ndarray) and got.shape == want.shape and got.dtype == want.dtype, name
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6, err_msg=name)


def test_rows_transposes_2d_tensors_and_the_last_two_axes_of_stacked_ones_and_leaves_1d_alone():
    seen = {}

    def multi_head_attention(E, W_Q, W_K, W_V_down, W_O, causal=True):
        seen.update(E=E.shape, W_Q=W_Q.shape, W_O=W_O.shape, causal=causal)
        return np.zeros((E.shape[0], W_O.shape[1]))

    def sample(logits, temperature, rng):
        seen.update(logits=logits.shape)
        return 0

    class Target:
        pass

    Target.multi_head_attention, Target.sample = staticmethod(multi_head_attention), staticmethod(sample)
    adapted = adapt(Target, ("multi_head_attention", "sample"), layout="rows")
    out = adapted.multi_head_attention(np.ones((8, 5)), np.ones((2, 3, 8)), np.ones((2, 3, 8)), np.ones((2, 3, 8)),
                                       np.ones((8, 6)), causal=False)
    adapted.sample(np.ones(7), 1.0, np.random.default_rng(0))
    assert seen == dict(E=(5, 8), W_Q=(2, 8, 3), W_O=(6, 8), causal=False, logits=(7,))
    assert out.shape == (8, 5)  # the rows result [ctx d_model] comes back as [d_model ctx]


def test_weights_containers_are_transposed_field_by_field_from_their_annotations():
    w = impl.random_weights(TINY, 0)
    rows = to_rows(w, _hint("forward", "weights"))
    assert rows.W_E.shape == (TINY.vocab, TINY.d_model)
    assert rows.W_pos.shape == (TINY.n_ctx, TINY.d_model)
    assert rows.lnf_gain.shape == (TINY.d_model,)
    block = rows.blocks[1]
    assert block.W_Q.shape == (TINY.n_heads, TINY.d_model, TINY.d_head)
    assert block.W_O.shape == (TINY.n_heads * TINY.d_head, TINY.d_model)
    assert block.W_up.shape == (TINY.d_model, TINY.d_mlp) and block.b_up.shape == (TINY.d_mlp,)
    np.testing.assert_array_equal(block.W_K[1], w.blocks[1].W_K[1].T)


def test_array_axes_reads_the_annotation():
    assert array_axes(_hint("softmax", "x")) is None  # *shape: softmax's x is never transposed
    assert array_axes(_hint("multi_head_attention", "W_Q")) == 3
    assert array_axes(_hint("multi_head_attention", "W_O")) == 2
    assert array_axes(_hint("sample", "temperature")) is None


def test_torch_sees_cpu_tensors_of_the_same_dtype_and_its_tensors_come_back_as_numpy():
    torch = pytest.importorskip("torch")
    seen = []

    class Target:
        @staticmethod
        def unembed(E, W_U):
            seen.append((type(E), E.dtype, E.device.type))
            return W_U @ E

        @staticmethod
        def sample(logits, temperature, rng):
            assert isinstance(rng, np.random.Generator)
            return torch.argmax(logits)  # a one-element integer tensor stands for the int

    adapted = adapt(Target, ("unembed", "sample"), framework="torch")
    for dtype, torch_dtype in ((np.float64, torch.float64), (np.float32, torch.float32), (np.float16, torch.float16)):
        out = adapted.unembed(np.ones((3, 2), dtype), np.ones((5, 3), dtype))
        assert seen[-1] == (torch.Tensor, torch_dtype, "cpu")
        assert isinstance(out, np.ndarray) and out.dtype == dtype
    assert adapted.sample(np.array([0.0, 2.0, 1.0]), 0.0, np.random.default_rng(0)) == 1


def test_torch_targets_see_contiguous_tensors_in_either_layout():
    """``view`` works on what a target receives (nanoGPT reshapes with it), rows layout included."""
    torch = pytest.importorskip("torch")

    def unembed(E, W_U, *, rows):
        assert E.is_contiguous() and W_U.is_contiguous()
        E.view(-1), W_U.view(-1)
        return E @ W_U if rows else W_U @ E

    E, W_U = np.arange(6.0).reshape(3, 2), np.arange(15.0).reshape(5, 3)
    for layout in ("columns", "rows"):
        target = type("Target", (), {"unembed": staticmethod(lambda E, W_U: unembed(E, W_U, rows=layout == "rows"))})
        out = adapt(target, ("unembed",), layout=layout, framework="torch").unembed(E, W_U)
        np.testing.assert_array_equal(out, W_U @ E)


def test_arguments_are_bound_by_the_spec_names_and_passed_by_position():
    calls = []

    class Target:
        @staticmethod
        def softmax(values, T=1.0, dim=-1):  # the user's own parameter names
            calls.append((T, dim))
            return impl.softmax(values, T, dim)

    adapted = adapt(Target, ("softmax",))
    adapted.softmax(np.ones((2, 3)), axis=0)  # temperature filled in from the spec's default
    adapted.softmax(np.ones((2, 3)), temperature=0.5)
    assert calls == [(1.0, 0), (0.5, -1)]


def test_a_result_of_the_wrong_kind_fails_the_calling_property_naming_the_function():
    class Target:
        @staticmethod
        def causal_mask(ctx):
            return [[True] * ctx] * ctx

        @staticmethod
        def sample(logits, temperature, rng):
            return 1.0

    adapted = adapt(Target, ("causal_mask", "sample"))
    with pytest.raises(ResultTypeError, match="causal_mask returned list"):
        adapted.causal_mask(3)
    with pytest.raises(ResultTypeError, match="sample returned float"):
        adapted.sample(np.zeros(3), 1.0, np.random.default_rng(0))


def test_the_framework_is_detected_from_what_the_target_imports():
    numpy_rows, torch_sdpa = load(EXAMPLES / "numpy_rows.py"), load(EXAMPLES / "torch_sdpa.py")
    assert detect_framework(numpy_rows.obj, numpy_rows.provides) == "numpy"
    assert detect_framework(torch_sdpa.obj, torch_sdpa.provides) == "torch"


def test_unknown_layout_or_framework_is_refused():
    with pytest.raises(ValueError, match="layout must be one of columns, rows"):
        adapt(impl, ("softmax",), layout="transposed")
    with pytest.raises(ValueError, match="framework must be one of numpy, torch, jax, got 'mxnet'"):
        adapt(impl, ("softmax",), framework="mxnet")


def test_the_torch_framework_without_torch_installed_says_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # what `import torch` meets when it is absent
    with pytest.raises(TargetError, match=r"the torch framework needs PyTorch: pip install 'gptspec\[torch\]'"):
        adapt(impl, ("softmax",), framework="torch")
