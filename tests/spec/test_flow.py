"""The shape flow of one block: derived from the spec's types, and true of the reference."""

from __future__ import annotations

import ast
import inspect
import math

import numpy as np
import pytest

from gptspec import Config, impl
from gptspec.spec import GPT3, ShapeError, signatures as S, types as T
from gptspec.spec import flow
from gptspec.spec.flow import block_flow, signature_text, step_shape

# d_model differs from n_heads·d_head, so a flow that confused them would fail
ODD = Config(vocab=17, d_model=10, n_heads=3, d_head=4, n_ctx=8, n_layers=1, d_mlp=7, name="odd")


def reference_intermediates(config: Config, ctx: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Every step of one block computed with the reference, head 0 standing for the per-head steps."""
    rng = np.random.default_rng(seed)
    w = impl.random_block_weights(config, rng, dtype=np.float64, scale=0.3)
    E = rng.standard_normal((config.d_model, ctx))
    X = impl.layer_norm(E, w.ln1_gain, w.ln1_bias)
    Q, K = w.W_Q[0] @ X, w.W_K[0] @ X
    scores = K.T @ Q / math.sqrt(config.d_head)
    masked = np.where(impl.causal_mask(ctx), scores, -np.inf)
    A = impl.attention_pattern(Q, K)
    heads = [w.W_V_down[h] @ X @ impl.attention_pattern(w.W_Q[h] @ X, w.W_K[h] @ X) for h in range(config.n_heads)]
    concat = np.concatenate(heads, axis=0)
    delta_attn = w.W_O @ concat
    E1 = E + delta_attn
    X2 = impl.layer_norm(E1, w.ln2_gain, w.ln2_bias)
    up = w.W_up @ X2 + w.b_up[:, None]
    hidden = impl.gelu(up)
    delta_mlp = w.W_down @ hidden + w.b_down[:, None]
    out = E1 + delta_mlp
    np.testing.assert_allclose(delta_attn, impl.multi_head_attention(X, w.W_Q, w.W_K, w.W_V_down, w.W_O), atol=1e-12)
    np.testing.assert_allclose(out, impl.block(E, w), atol=1e-12)
    return {
        "E": E, "LN₁(E)": X, "Q_h": Q, "K_h": K, "scores_h": scores, "masked_h": masked, "A_h": A,
        "W_V_down[h] X A_h": heads[0], "concat_h": concat, "ΔE_attn": delta_attn, "E + ΔE_attn": E1,
        "LN₂(E)": X2, "W_up X + b_up": up, "GELU": hidden, "ΔE_mlp": delta_mlp, "E + ΔE_mlp": out,
    }


@pytest.mark.parametrize("ctx", [1, 5])
def test_every_step_has_the_shape_the_reference_computes(ctx):
    arrays = reference_intermediates(ODD, ctx)
    steps = block_flow()
    assert [s.name for s in steps] == list(arrays)
    for step in steps:
        assert step_shape(step, ODD, ctx) == arrays[step.name].shape, step.name


def test_the_flow_runs_in_the_order_of_a_pre_layer_norm_block():
    names = [s.name for s in block_flow()]
    order = ["E", "LN₁(E)", "Q_h", "scores_h", "masked_h", "A_h", "concat_h", "ΔE_attn", "E + ΔE_attn",
             "LN₂(E)", "W_up X + b_up", "GELU", "ΔE_mlp", "E + ΔE_mlp"]
    assert [n for n in names if n in order] == order


def test_named_steps_carry_the_dims_of_their_spec_alias():
    named = [s for s in block_flow() if s.alias]
    assert {s.alias for s in named} >= {"Embeddings", "Queries", "Keys", "Scores", "Pattern", "DeltaE"}
    for step in named:
        assert step.dims == getattr(T, step.alias).dim_str
        assert step.hint is getattr(T, step.alias)


def test_per_head_steps_are_exactly_those_between_the_head_slices_and_the_concat():
    per_head = [s.name for s in block_flow() if s.per_head]
    assert per_head == ["Q_h", "K_h", "scores_h", "masked_h", "A_h", "W_V_down[h] X A_h"]


def test_gpt3_sizes_of_the_attention_steps():
    shapes = {s.name: step_shape(s, GPT3) for s in block_flow()}
    assert shapes["Q_h"] == (128, 2048)
    assert shapes["A_h"] == (2048, 2048)
    assert shapes["concat_h"] == (96 * 128, 2048)
    assert shapes["W_up X + b_up"] == (49152, 2048)


def test_the_algebra_refuses_mismatched_inner_dims_with_the_dims_in_the_message():
    with pytest.raises(ShapeError, match=r"flow step Q_h: cannot multiply \[d_head d_model\] by \[d_head ctx\]"):
        flow.matmul("Q_h", ("d_head", "d_model"), ("d_head", "ctx"))
    with pytest.raises(ShapeError, match=r"bias \[d_mlp\] does not match the rows of \[d_model ctx\]"):
        flow.add_bias("W_down", ("d_model", "ctx"), ("d_mlp",))
    with pytest.raises(ShapeError, match=r"spec type DeltaE"):
        flow.named("ΔE_attn", ("d_head", "ctx"), T.DeltaE)


def test_self_attention_identifies_query_and_key_positions_with_ctx_only():
    assert flow.matmul("x", ("d_head", "ctx"), ("ctx_k", "ctx_q")) == ("d_head", "ctx_q")
    with pytest.raises(ShapeError):
        flow.matmul("x", ("d_head", "d_model"), ("ctx_k", "ctx_q"))


def test_flow_depends_on_nothing_in_gptspec_outside_spec():
    tree = ast.parse(inspect.getsource(flow))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level in (0, 1), ast.unparse(node)
            if node.level == 0:
                assert not (node.module or "").startswith("gptspec"), ast.unparse(node)
        elif isinstance(node, ast.Import):
            assert not any(a.name.startswith("gptspec") for a in node.names), ast.unparse(node)


def test_signature_text_on_one_line_and_per_parameter():
    assert signature_text(S.embed) == "embed(tokens: Int[ctx], W_E: Float[d_model vocab]) -> Float[d_model ctx]"
    assert signature_text(S.attention_pattern, width=40).splitlines() == [
        "attention_pattern(",
        "    Q: Float[d_head ctx_q],",
        "    K: Float[d_head ctx_k],",
        "    causal: bool = True,",
        ") -> Float[ctx_k ctx_q]",
    ]


@pytest.mark.parametrize("name", sorted(S.SIGNATURES))
def test_signature_text_shows_every_parameter_with_its_dims(name):
    fn = S.SIGNATURES[name]
    text = signature_text(fn, width=1000)
    for p, hint in inspect.get_annotations(fn, eval_str=True).items():
        if hasattr(hint, "dim_str"):
            shown = f"[{hint.dim_str}]"
            assert (f"{p}: " if p != "return" else "-> ") + hint.dtype.__name__ + shown in text
