"""hf:gpt2 and tl:gpt2: HF's GPT2LMHeadModel and TransformerLens' native GPT-2 hold the spec's
weights exactly, pass every model property that applies with no false alarm, and planted bugs
in them fail on the property meant to catch each."""

from __future__ import annotations

import dataclasses
import os
import pathlib

import numpy as np
import pytest

from gptspec import Config, impl
from gptspec.impl.weights import random_weights
from gptspec.spec import Weights
from gptspec.target import MODELS, TargetError, address, detect_framework, load, load_object
from gptspec.verification import OptionError, verify

pytest.importorskip("transformers")
pytest.importorskip("transformer_lens")
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing here may reach the hub

TARGETS = pathlib.Path(__file__).resolve().parent / "targets"
MODEL_FUNCTIONS = ("block", "forward", "next_token_probs")
SUBMODULES = ("multi_head_attention", "mlp", "layer_norm")


def _weights(config: Config, seed: int, dtype: type = np.float64) -> Weights:
    """Random weights with every gain and bias random too, so a swapped or dropped vector shows."""
    w = random_weights(config, seed, dtype=dtype, scale=0.4)
    rng = np.random.default_rng(seed + 100)

    def vec(like: np.ndarray, centre: float) -> np.ndarray:
        return (centre + 0.3 * rng.standard_normal(like.shape)).astype(dtype)

    blocks = tuple(dataclasses.replace(b, ln1_gain=vec(b.ln1_gain, 1), ln1_bias=vec(b.ln1_bias, 0),
                                       ln2_gain=vec(b.ln2_gain, 1), ln2_bias=vec(b.ln2_bias, 0),
                                       b_up=vec(b.b_up, 0), b_down=vec(b.b_down, 0)) for b in w.blocks)
    return dataclasses.replace(w, blocks=blocks, lnf_gain=vec(w.lnf_gain, 1), lnf_bias=vec(w.lnf_bias, 0))


HEADS_FILL = Config(vocab=13, d_model=8, n_heads=2, d_head=4, n_ctx=9, n_layers=2, d_mlp=20, name="heads-fill")
HEADS_BELOW = Config(vocab=13, d_model=8, n_heads=3, d_head=2, n_ctx=9, n_layers=2, d_mlp=20, name="heads-below")
TOKENS = np.array([3, 12, 0, 7, 7, 1, 9])


def _close(got: np.ndarray, want: np.ndarray) -> None:
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12 * max(1.0, float(np.abs(want).max())))


def test_hf_gpt2_holds_the_spec_weights_exactly():
    from gptspec.ecosystem import hf_gpt2

    w = _weights(HEADS_FILL, 1)
    _close(hf_gpt2.forward(TOKENS, w), impl.forward(TOKENS, w))
    _close(hf_gpt2.next_token_probs(TOKENS, w, 0.7), impl.next_token_probs(TOKENS, w, 0.7))
    model = hf_gpt2.MODELS.get(hf_gpt2.model_dims(w))
    state = {k: v.numpy() for k, v in model.state_dict().items()}
    assert state.keys() == hf_gpt2.state_dict(w).keys()  # every parameter is set, no other
    for name, array in hf_gpt2.state_dict(w).items():
        np.testing.assert_array_equal(state[name], array, err_msg=name)
    assert model.lm_head.weight.data_ptr() != model.transformer.wte.weight.data_ptr()  # untied
    assert not np.any(state["transformer.h.0.attn.c_attn.bias"]) and not np.any(state["transformer.h.1.attn.c_proj.bias"])


def test_hf_gpt2_block_and_submodules_equal_the_reference():
    from gptspec.ecosystem import hf_gpt2

    b = _weights(HEADS_FILL, 2).blocks[1]
    E = np.random.default_rng(3).standard_normal((HEADS_FILL.d_model, 6))
    _close(hf_gpt2.block(E, b), impl.block(E, b))
    _close(hf_gpt2.multi_head_attention(E, b.W_Q, b.W_K, b.W_V_down, b.W_O),
           impl.multi_head_attention(E, b.W_Q, b.W_K, b.W_V_down, b.W_O))
    _close(hf_gpt2.mlp(E, b.W_up, b.b_up, b.W_down, b.b_down), impl.mlp(E, b.W_up, b.b_up, b.W_down, b.b_down))
    _close(hf_gpt2.layer_norm(E, b.ln2_gain, b.ln2_bias), impl.layer_norm(E, b.ln2_gain, b.ln2_bias))
    with pytest.raises(ValueError, match="causal=False is not supported"):
        hf_gpt2.multi_head_attention(E, b.W_Q, b.W_K, b.W_V_down, b.W_O, False)


def test_hf_gpt2_refuses_heads_that_do_not_fill_d_model():
    from gptspec.ecosystem import hf_gpt2

    with pytest.raises(ValueError, match=r"n_heads·d_head = 3·2 ≠ d_model = 8 \(declare d_model=n_heads\*d_head\)"):
        hf_gpt2.forward(TOKENS, _weights(HEADS_BELOW, 0))


def test_tl_gpt2_holds_the_spec_weights_exactly_in_its_own_views_too():
    from gptspec.ecosystem import tl_gpt2
    from gptspec.ecosystem.layouts import attention_state

    w = _weights(HEADS_BELOW, 4)  # TL's d_head is its own: the heads need not fill d_model
    _close(tl_gpt2.forward(TOKENS, w), impl.forward(TOKENS, w))
    _close(tl_gpt2.next_token_probs(TOKENS, w, 1.6), impl.next_token_probs(TOKENS, w, 1.6))
    bridge = tl_gpt2.MODELS.get((tl_gpt2.model_dims(w), True))
    state = {k: v.numpy() for k, v in bridge.state_dict().items()}
    for name, array in tl_gpt2.state_dict(w).items():  # nothing folded or centred: as loaded
        np.testing.assert_array_equal(state[name], array, err_msg=name)
    assert not np.any(bridge.b_U.numpy())
    for i, b in enumerate(w.blocks):  # TL's per-head views are the transformer-lens layout of the spec's weights
        tl = attention_state("transformer-lens", b.W_Q, b.W_K, b.W_V_down, b.W_O)
        for name in ("W_Q", "W_K", "W_V", "W_O"):
            np.testing.assert_array_equal(getattr(bridge, name)[i].numpy(), tl[name], err_msg=f"layer {i} {name}")


@pytest.mark.parametrize("causal", [True, False])
def test_tl_gpt2_block_and_submodules_equal_the_reference(causal):
    from gptspec.ecosystem import tl_gpt2

    b = _weights(HEADS_BELOW, 5).blocks[0]
    E = np.random.default_rng(6).standard_normal((HEADS_BELOW.d_model, 5))
    _close(tl_gpt2.multi_head_attention(E, b.W_Q, b.W_K, b.W_V_down, b.W_O, causal),
           impl.multi_head_attention(E, b.W_Q, b.W_K, b.W_V_down, b.W_O, causal))
    if causal:
        _close(tl_gpt2.block(E, b), impl.block(E, b))
        _close(tl_gpt2.mlp(E, b.W_up, b.b_up, b.W_down, b.b_down), impl.mlp(E, b.W_up, b.b_up, b.W_down, b.b_down))
        _close(tl_gpt2.layer_norm(E, b.ln1_gain, b.ln1_bias), impl.layer_norm(E, b.ln1_gain, b.ln1_bias))


@pytest.mark.parametrize("name", ["hf_gpt2", "tl_gpt2"])
def test_a_model_is_built_once_per_dims_and_dtype_and_reloaded_per_call(name):
    import importlib

    module = importlib.import_module(f"gptspec.ecosystem.{name}")
    config = dataclasses.replace(HEADS_FILL, vocab=17)  # dims no other test builds
    first, second = _weights(config, 7), _weights(config, 8)
    before = module.MODELS.builds
    a = module.forward(TOKENS, first)
    b = module.forward(TOKENS, second)  # the same module, the second call's weights
    assert module.MODELS.builds == before + 1
    _close(b, impl.forward(TOKENS, second))
    _close(module.forward(TOKENS, first), a)
    module.forward(TOKENS, _weights(config, 7, np.float32))
    assert module.MODELS.builds == before + 2  # float32 is a model of its own


def test_model_names_are_model_targets_and_hf_names_stay_attention_functions():
    assert address("hf:gpt2").kind == "model" and address("tl:gpt2").kind == "model"
    assert address("hf:eager").kind == "hf" and address("hf:sdpa").kind == "hf"
    for name in MODELS:
        obj, label = load_object(name)
        assert label == name and obj.__name__ == MODELS[name][0]
        target = load(name)
        cached = ("forward_cached", "multi_head_attention_cached", "forward_padded_cached") if name == "hf:gpt2" else ()
        # TL 4.3: no KV cache; both take a padded batch with an attention mask
        assert set(MODEL_FUNCTIONS + SUBMODULES + cached + ("forward_padded",)) == set(target.provides)
        assert detect_framework(target.obj, target.provides) == "numpy"  # it imports torch, but speaks NumPy


def test_a_declared_framework_must_be_a_registered_one():
    class Declares:
        GPTSPEC_FRAMEWORK = "mxnet"

        @staticmethod
        def forward(tokens, weights):
            return None

    with pytest.raises(TargetError, match="GPTSPEC_FRAMEWORK must be 'numpy', 'torch' or 'jax', got 'mxnet'"):
        detect_framework(Declares(), ("forward",))


@pytest.mark.parametrize(("options", "dropped"), [
    ({"convention": "hf-attention"}, "--convention hf-attention"),
    ({"layout": "rows"}, "--layout rows"),
    ({"framework": "torch"}, "--framework torch"),
])
def test_a_model_target_takes_no_convention_layout_or_framework(options, dropped):
    with pytest.raises(OptionError, match=f"hf:gpt2 is Hugging Face transformers' GPT2LMHeadModel: .* drop {dropped}$"):
        verify("hf:gpt2", profile="quick", seed=0, only=["forward"], jobs=1, **options)


def _ran(report):
    return {r.name: r.status for r in report.results if r.status != "not provided"}


MAIN_MODEL_PROPERTIES = ("agreement.forward", "agreement.block", "agreement.next_token_probs",
                         "causality.forward_future_independent", "causality.block_future_independent",
                         "causality.next_token_sees_only_prefix", "embedding.next_token_last_column", "shapes.forward")


@pytest.mark.parametrize(("target", "seed", "only"), [
    ("hf:gpt2", 0, MODEL_FUNCTIONS), ("hf:gpt2", 1, MODEL_FUNCTIONS), ("tl:gpt2", 0, MODEL_FUNCTIONS),
    # TL builds a bridge for every new size (~90 ms): its second seed covers the main properties only
    ("tl:gpt2", 1, MAIN_MODEL_PROPERTIES),
])
def test_the_models_pass_every_model_property_that_applies(target, seed, only):
    report = verify(target, profile="quick", seed=seed, only=list(only), jobs=2)
    ran = _ran(report)
    assert set(ran.values()) == {"passed"}, [(r.name, r.status, r.failure) for r in report.results if r.failure]
    for name in MAIN_MODEL_PROPERTIES:
        assert ran[name] == "passed"
    assert report.framework == "numpy" and report.exit_code == 0


@pytest.mark.parametrize("target", ["hf:gpt2", "tl:gpt2"])
def test_their_attention_mlp_and_layer_norm_pass_too(target):
    report = verify(target, profile="quick", seed=3, only=list(SUBMODULES), jobs=2)
    ran = _ran(report)
    rank = "value.mha_rank_at_most_heads_times_d_head"
    # HF declares d_model = n_heads·d_head, where the rank bound says nothing; TL takes any d_head
    assert ran.pop(rank) == ("not applicable" if target == "hf:gpt2" else "passed")
    assert set(ran.values()) == {"passed"}, [(r.name, r.status, r.failure) for r in report.results if r.failure]
    assert {"agreement.multi_head_attention", "agreement.mlp", "agreement.layer_norm",
            "causality.mha_future_independent", "head_concat.head_permutation"} <= set(ran)
    assert report.exit_code == 0


def test_hf_gpt2_forward_cached_runs_hfs_own_cache_and_equals_the_reference():
    from gptspec.ecosystem import hf_gpt2

    w = _weights(HEADS_FILL, 5)
    first, cache = hf_gpt2.forward_cached(TOKENS[:3], w)
    logits, grown = hf_gpt2.forward_cached(TOKENS[3:], w, cache)
    want, want_cache = impl.forward_cached(TOKENS, w)
    _close(np.hstack([first, logits]), want)
    for (K, V), (K1, V1) in zip(grown, want_cache):
        _close(K, K1)
        _close(V, V1)
    assert [K.shape for K, _ in cache] == [(2, 4, 3)] * 2  # the cache passed in: untouched, 3 positions


def test_hf_gpt2_passes_the_decode_family():
    report = verify("hf:gpt2", profile="quick", seed=0, only=["decode"], jobs=2)
    ran = _ran(report)
    assert {"decode.chunks_equal_forward", "decode.greedy_generation_same", "decode.mha_split_equals_whole"} <= set(ran)
    assert set(ran.values()) == {"passed"}, [(r.name, r.status, r.failure) for r in report.results if r.failure]


@pytest.mark.parametrize(("bug", "prop"), [
    ("hf_bug_no_mask.py", "causality.forward_future_independent"),
    ("hf_bug_unscaled.py", "agreement.forward"),
    ("hf_bug_head_order.py", "agreement.forward"),
    ("tl_bug_bidirectional.py", "causality.forward_future_independent"),
    ("tl_bug_scale.py", "agreement.forward"),
    ("hf_bug_cache_positions.py", "decode.positions_continue"),
    ("hf_bug_cache_positions.py", "decode.chunks_equal_forward"),
])
def test_a_planted_bug_fails_the_property_meant_to_catch_it(bug, prop):
    report = verify(str(TARGETS / bug), profile="quick", seed=0, only=[prop], jobs=1)
    (result,) = report.results
    assert result.status == "failed", (result.status, result.failure)
    assert report.framework == "numpy" and report.exit_code == 1


def test_check_refuses_a_model_target_and_says_why(capsys):
    from gptspec.cli import main

    assert main(["check", "--target", "hf:gpt2"]) == 2
    assert "hf:gpt2 is Hugging Face transformers' GPT2LMHeadModel, which computes with torch" in capsys.readouterr().err


def test_an_unknown_model_name_says_which_models_there_are():
    with pytest.raises(TargetError, match=r"^tl:gpt3 names no model gptspec provides \(whole models: hf:gpt2, tl:gpt2\)$"):
        address("tl:gpt3")
    with pytest.raises(TargetError, match=r"whole models: hf:gpt2, tl:gpt2\)$"):
        load_object("hf:gpt3")
