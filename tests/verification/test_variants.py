"""Variants real models use (DESIGN "Variants"): declared, not failed. Each word changes the
search or the reference, and only when declared: gelu=erf switches the reference's GELU,
tied-embeddings draws W_U = W_Eᵀ, d_mlp=4*d_model draws d_mlp = 4·d_model, no-bias draws every
bias zero, greedy-only makes the sampling properties not applicable."""

from __future__ import annotations

import math
import types

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gptspec.properties import domain
from gptspec.properties.catalogue import get
from gptspec.properties.strategies import arguments, configs, recipes
from gptspec.spec import SIGNATURES, Weights
from gptspec.verification import PROFILES, adapt, run_property


def _erf_mlp(E, W_up, b_up, W_down, b_down):
    h = W_up @ E + b_up[:, None]
    gelu = 0.5 * h * (1 + np.vectorize(math.erf)(h / math.sqrt(2)))
    return W_down @ gelu + b_down[:, None]


def _tanh_mlp(E, W_up, b_up, W_down, b_down):  # GPT-2's, written here (impl.mlp follows the declared GELU in-process)
    h = W_up @ E + b_up[:, None]
    gelu = 0.5 * h * (1 + np.tanh(math.sqrt(2 / math.pi) * (h + 0.044715 * h**3)))
    return W_down @ gelu + b_down[:, None]


def test_the_variant_words_have_one_canonical_form_each():
    d = domain.parse(["GELU=ERF", "tied_embeddings", "d_mlp = 4·d_model", "no_bias", "greedy-only", "causal-only"])
    assert d.words == ("causal-only", "gelu=erf", "tied-embeddings", "d_mlp=4*d_model", "no-bias", "greedy-only")
    assert domain.parse(["d_mlp=d_model*4"]).variants == ("d_mlp=4*d_model",)


def _run(prop_name, functions, assume=()):
    adapted = adapt(types.SimpleNamespace(**functions), tuple(functions))
    return run_property(get(prop_name), adapted, PROFILES["quick"], 3, "reproduce", domain=domain.parse(assume))


def test_an_erf_mlp_fails_the_spec_and_passes_once_it_declares_gelu_erf():
    assert _run("agreement.mlp", {"mlp": _erf_mlp}).status == "failed"
    assert _run("agreement.mlp", {"mlp": _erf_mlp}, ["gelu=erf"]).status == "passed"
    assert _run("agreement.mlp", {"mlp": _tanh_mlp}).status == "passed"
    assert _run("agreement.mlp", {"mlp": _tanh_mlp}, ["gelu=erf"]).status == "failed"  # tanh is not erf: both ways


def _drawn(strategy, assume, n=30):
    seen = []
    with domain.scoped(domain.parse(assume)):
        @settings(max_examples=n, database=None, derandomize=True)
        @given(strategy)
        def collect(value):
            seen.append(value)

        collect()
    return seen


def _weights(assume):
    strategy = st.tuples(configs(), recipes()).map(lambda cr: cr[1].build(Weights, cr[0], np.dtype(np.float64)))
    return _drawn(strategy, assume)


def test_tied_embeddings_draws_w_u_as_w_e_transposed_and_only_when_declared():
    assert all(np.array_equal(w.W_U, w.W_E.T) for w in _weights(["tied-embeddings"]))
    assert not all(np.array_equal(w.W_U, w.W_E.T) for w in _weights([]))


def test_d_mlp_4_draws_the_mlp_four_times_d_model_wide_also_for_the_mlp_alone():
    assert all(w.blocks[0].W_up.shape[0] == 4 * w.W_E.shape[0] for w in _weights(["d_mlp=4*d_model"]))
    mlp_args = _drawn(arguments(SIGNATURES["mlp"]), ["d_mlp=4*d_model"])
    assert all(args[1].shape == (4 * args[0].shape[0], args[0].shape[0]) for args in mlp_args)
    assert any(w.blocks[0].W_up.shape[0] != 4 * w.W_E.shape[0] for w in _weights([]))


def test_no_bias_draws_every_bias_zero():
    for w in _weights(["no-bias"]):
        assert not np.any(w.lnf_bias) and all(not np.any(b.b_up) and not np.any(b.ln1_bias) for b in w.blocks)
    assert all(not np.any(args[2]) and not np.any(args[4]) for args in _drawn(arguments(SIGNATURES["mlp"]), ["no-bias"]))
    assert any(np.any(w.lnf_bias) for w in _weights([]))


@pytest.mark.parametrize("name", ["generation.sample_follows_softmax", "generation.top_k_keeps_k_largest"])
def test_greedy_only_makes_the_sampling_properties_not_applicable_and_nothing_else(name):
    greedy = domain.parse(["greedy-only"])
    assert greedy.excludes(get(name).requires) == "needs sampling at T > 0, which greedy-only excludes"
    assert greedy.excludes(get("generation.greedy_is_argmax_chain").requires) is None
    assert domain.parse([]).excludes(get(name).requires) is None
