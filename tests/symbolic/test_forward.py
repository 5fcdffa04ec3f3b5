import pathlib
import types

import numpy as np
import pytest

from gptspec import GPT2_SMALL, GPT3, ContextLengthError, ShapeError, bind, impl, tally
from gptspec.symbolic import ShapeOnlyArray, UnsupportedOperation
from gptspec.symbolic.forward import (
    ALONE,
    Functions,
    ImplementationRaised,
    check_alone,
    check_forward,
    checked,
    forward,
    full_size_arguments,
)
from gptspec.symbolic.trace import recording
from gptspec.symbolic.weights import shape_only_tokens, shape_only_weights
from gptspec.target import load
from tests.helpers import TINY

from . import targets

EXAMPLE = pathlib.Path(__file__).parents[2] / "examples" / "bug_mha_output_transposed.py"


def test_the_reference_runs_unchanged_on_shape_only_gpt3():
    with bind(GPT3):
        logits = impl.forward(shape_only_tokens(GPT3.n_ctx), shape_only_weights(GPT3))
    assert isinstance(logits, ShapeOnlyArray) and logits.shape == (GPT3.vocab, GPT3.n_ctx)


def test_full_gpt3_check_passes_and_counts_the_weights():
    run = check_forward(GPT3)
    assert run.logits_shape == (50257, 2048)
    assert run.weight_bytes == tally(GPT3).total_all * 4
    assert run.sources == {
        "embed": "reference", "layer_norm": "reference", "multi_head_attention": "reference",
        "mlp": "reference", "block": "composed", "unembed": "reference",
    }
    # the pattern alone is n_heads · ctx² floats; a real run holds several such temporaries
    assert run.recorder.peak > 2 * 96 * 2048 * 2048 * 4


def test_the_composition_computes_what_the_reference_computes():
    weights = impl.random_weights(TINY, 0, dtype=np.float64)
    tokens = np.array([3, 1, 4, 1, 5])
    with bind(TINY):
        np.testing.assert_array_equal(forward(Functions(), tokens, weights), impl.forward(tokens, weights))


def test_transposed_attention_output_is_caught_at_full_size():
    with pytest.raises(ShapeError) as caught:
        check_forward(GPT3, target=load(str(EXAMPLE)).obj)
    message = str(caught.value)
    assert message.startswith("layer 0 › block › multi_head_attention: ")
    assert "return value axis 0 is d_model = 12288" in message and "got 2048" in message


def test_the_same_attention_without_the_bug_passes_at_full_size():
    buggy = load(str(EXAMPLE)).obj
    fixed = types.SimpleNamespace(multi_head_attention=lambda *args: buggy.multi_head_attention(*args).T)
    run = check_forward(GPT3, target=fixed)
    assert run.sources["multi_head_attention"] == "target" and run.sources["mlp"] == "reference"


def test_a_bug_in_one_layer_names_that_layer():
    with pytest.raises(ShapeError, match=r"^layer 37 › block › mlp: return value axis 1 is ctx = 2048 .*got 2047"):
        check_forward(GPT3, target=targets.mlp_wrong_in_layer(37))


def test_an_unsupported_operation_in_a_target_is_named_where_it_happens():
    with pytest.raises(UnsupportedOperation, match=r"^layer 0 › block › multi_head_attention › np.sort: "):
        check_forward(GPT3, target=targets.mha_sorting_its_scores())


def test_a_target_raising_is_reported_with_its_place():
    with pytest.raises(ImplementationRaised, match=r"^layer 0 › block › layer_norm: raised KeyError: 'e'"):
        check_forward(GPT3, target=targets.layer_norm_raising())


def test_a_target_block_replaces_the_composed_one():
    run = check_forward(TINY, target=targets.own_block())
    assert run.sources["block"] == "target"


def test_the_config_is_bound_ctx_above_n_ctx_is_refused():
    with pytest.raises(ContextLengthError, match=r"^embed: tokens axis 0 is ctx = 2049, more than n_ctx = 2048"):
        check_forward(GPT3, ctx=2049)


def test_checks_switched_off_in_the_environment_are_on_during_the_check():
    from gptspec import checks, checks_enabled

    seen = []

    def multi_head_attention(*args):
        seen.append(checks_enabled())  # what the reference functions it calls will see
        return impl.multi_head_attention(*args)

    with checks(False):
        check_forward(TINY, target=types.SimpleNamespace(multi_head_attention=multi_head_attention))
        assert not checks_enabled()
    assert seen == [True] * TINY.n_layers


def test_every_other_function_of_the_reference_passes_alone_at_full_size():
    assert check_alone(impl, GPT2_SMALL) == ALONE


def test_a_function_the_forward_pass_does_not_call_is_checked_alone():
    with pytest.raises(ShapeError, match=r"^attention_head: return value axis 0 is d_model = 12288 .*got 2048"):
        check_alone(targets.attention_head_transposed(), GPT3)


def test_full_size_arguments_come_from_the_annotations():
    weights = shape_only_weights(GPT3)
    (x, T, axis) = full_size_arguments("softmax", GPT3, 2048, weights)
    assert (x.shape, x.dtype, T, axis) == ((50257, 2048), np.float32, 1.0, -1)
    assert full_size_arguments("causal_mask", GPT3, 17, weights) == (17,)
    E_q, E_kv, *_ = full_size_arguments("cross_attention_head", GPT3, 5, weights)
    assert E_q.shape == E_kv.shape == (12288, 5)
    tokens, given_weights, T = full_size_arguments("next_token_probs", GPT3, 7, weights)
    assert tokens.shape == (7,) and tokens.dtype.kind == "i" and given_weights is weights and T == 1.0


def test_a_recorded_call_returning_no_array_is_refused_by_name():
    sample = checked("sample", impl.sample)
    assert sample(np.array([0.0, 2.0, 1.0]), 0.0, np.random.default_rng(0)) == 1
    with recording(), pytest.raises(UnsupportedOperation, match=r"sample.*must return an array"):
        sample(np.array([0.0, 2.0, 1.0]), 0.0, np.random.default_rng(0))
