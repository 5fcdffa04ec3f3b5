"""The diagnosis names the planted mistake, names nothing it cannot tell, and never accuses correct code.

``EXPECTED`` holds, for every planted bug of the project (tests/properties/mutants.py,
examples/bug_*.py, tests/examples/*bug*.py, the model families' one-bug files), the cause its first failing property's diagnosis
must name, or None where no known change to the reference explains it (a contract the reference
keeps by refusing input, a near-tie, a kernel's own keyword, randomness, a batch's cross-talk).
"""

from __future__ import annotations

import numpy as np
import pytest

from gptspec.properties import causes
from gptspec.properties.catalogue import get
from gptspec.verification import diagnosis, evidence
from gptspec.verification.report import Failure, PropertyResult, failure_lines

from .planted_causes import planted

EXPECTED: dict[str, str | None] = {
    "softmax_no_max_subtraction": "softmax-no-max-shift",
    "softmax_log": "softmax-log",
    "softmax_axis_zero": "softmax-axis-0",
    "softmax_plus_one": "softmax-plus-one",
    "softmax_negated": "softmax-negated",
    "softmax_smoothed": "softmax-floor",
    "softmax_neg_inf_as_minus_1e4": "softmax-clips-logits",
    "softmax_times_T": "temperature-multiplied",
    "softmax_exp2": "softmax-exp2",
    "softmax_cold_shortcut_half": None,  # a float16 argmax below T = 0.1: no change to the reference
    "softmax_abs_T": None,  # accepts invalid T: the reference refuses it, agreement cannot show it
    "sample_T0_as_tiny": "sample-zero-as-tiny",
    "sample_argmax_half": "sample-argmax-half",
    "sample_times_T": "temperature-multiplied",
    "sample_divides_first": "sample-divides-first",
    "sample_no_upper_bound": None,  # accepts T > 2
    "mask_wrong_triangle": "mask-wrong-triangle",
    "mask_minus_1e4": "mask-constant",
    "mask_minus_1e5": "mask-constant",
    "mask_minus_1e10": "mask-constant",
    "pattern_softmax_over_queries": "pattern-softmax-over-queries",
    "cross_attention_masked": "cross-attention-masked",
    "pattern_missing_sqrt": "scale-none",
    "mha_heads_interleaved": "heads-interleaved",
    "mha_missing_sqrt": "scale-none",
    "head_adds_residual": "head-adds-residual",
    "mha_adds_residual": "mha-adds-residual",
    "embed_off_by_one": "token-ids-one-based",
    "embed_unchecked": "token-ids-unchecked",
    "unembed_softmaxed": "unembed-softmaxed",
    "unembed_reversed_positions": "logits-positions-reversed",
    "next_token_first_column": "predicts-from-first-position",
    "gelu_erf": "gelu-erf",
    "layer_norm_unbiased": "layer-norm-unbiased",
    "block_post_ln": "post-layer-norm",
    "forward_no_positions": "positions-missing",
    "embed_wrong_shape": "result-transposed",
    "unembed_wrong_shape": "result-transposed",
    "softmax_wrong_shape": None,  # transposed or a column, by the input's axes: no one change
    "causal_mask_wrong_shape": None,  # one row too many
    "attention_pattern_wrong_shape": "result-transposed",
    "attention_head_wrong_shape": "result-transposed",
    "cross_attention_head_wrong_shape": "result-transposed",
    "multi_head_attention_wrong_shape": "result-transposed",
    "mlp_wrong_shape": "result-transposed",
    "sample_wrong_shape": "result-as-array",
    "layer_norm_wrong_shape": "result-transposed",
    "block_wrong_shape": "result-transposed",
    "forward_wrong_shape": "result-transposed",
    "next_token_probs_wrong_shape": "result-as-column",
    "kernel_scale_by_length": "scale-1/sqrt(ctx)",
    "kernel_ignores_scale": None,
    "kernel_bool_mask_added": None,
    "kernel_mask_transposed": None,  # an explicit attn_mask, which the spec's functions never pass
    "kernel_causal_off_by_one": "mask-hides-diagonal",
    "kernel_dropout_by_default": None,  # random
    "kernel_batch_cross_talk": None,  # batches only
    "kernel_heads_share_keys": "heads-share-keys",
    "module_batch_cross_talk": None,
    "examples/bug_greedy_divides_by_zero.py": None,  # T = 0 divides by zero: no change to the reference
    "cache_ignored": "cache-ignored", "cache_keys_prepended": "cache-keys-prepended",
    "cache_mask_top_left": "cache-mask-top-left", "cache_mutated": "cache-modified",
    "cache_positions_restart": "cache-positions-restart", "cache_stale": "cache-stale",
    "cache_wraps_past_n_ctx": "cache-wraps-past-n-ctx",
    "examples/bug_cache_positions_restart.py": "cache-positions-restart",
    "forward_cached_wrong_shape": "result-transposed", "multi_head_attention_cached_wrong_shape": "result-transposed",
    "padded_positions_ignore_padding": None,  # the reference has no padded batch to change
    "padded_pad_keys_unmasked": None, "padded_step_counts_pads": None,
    "kernel_mask_cropped_top_left": None,  # the sdpa convention builds no cached call from the kernel to replay
    "generate_first_column": "generate-first-position", "generate_times_T": "generate-temperature-multiplied",
    "generate_top_k_plus_one": "generate-top-k-plus-one", "generate_greedy_samples": "generate-greedy-samples",
    "examples/bug_heads_merged_wrong_order.py": "heads-interleaved",
    "examples/bug_mask_constant.py": "mask-constant",
    "examples/bug_mask_wrong_triangle.py": "mask-wrong-triangle",
    "examples/bug_mha_output_transposed.py": "result-transposed",
    "examples/bug_missing_scale.py": "scale-none",
    "examples/bug_softmax_wrong_axis.py": "pattern-softmax-over-queries",
    "examples/bug_token_wraps.py": "token-ids-unchecked",
    "tests/examples/nanogpt_bug_not_causal.py": "mask-missing",
    "tests/examples/nanogpt_bug_qk_swapped.py": "q-k-swapped",
    "tests/examples/picogpt_bug_not_causal.py": "mask-wrong-triangle",
    "tests/examples/picogpt_bug_qk_swapped.py": "q-k-swapped",
    "family nanogpt-mask": "mask-missing", "family nanogpt-scale": "scale-none",
    "family nanogpt-qkv split": "q-k-swapped",
    "family nanogpt-head merge": None,  # heads and positions mixed by a view without the transpose: no one change
    "family nanogpt-activation": "gelu-relu", "family nanogpt-layer-norm eps": "layer-norm-eps",
    "family nanogpt-residual": "no-mlp-residual", "family nanogpt-positions": "positions-reversed",
    "family nanogpt-final layer norm": "no-final-layer-norm",
    "family nanogpt-temperature": "generate-temperature-multiplied",
    "family nanogpt-top_k": None,  # keeps the largest logit only: no such change catalogued
    "family mingpt-mask": "mask-missing", "family mingpt-scale": "scale-1/d_head", "family mingpt-activation": "gelu-relu",
    "family mingpt-greedy": "generate-greedy-samples",
    "family picogpt-mask": "mask-missing", "family picogpt-scale": "scale-none", "family picogpt-qkv split": "q-k-swapped",
    "family picogpt-head merge": "heads-reversed", "family picogpt-activation": "gelu-relu",
    "family picogpt-layer-norm eps": "layer-norm-eps", "family picogpt-residual": "no-mlp-residual",
    "family picogpt-positions": "positions-reversed", "family picogpt-final layer norm": "no-final-layer-norm",
    "family picogpt-greedy": None,  # argmin: no change to the reference picks the smallest logit
}


def test_every_planted_bug_has_an_expectation_and_most_get_a_cause() -> None:
    assert sorted(EXPECTED) == sorted(planted())
    named = sum(c is not None for c in EXPECTED.values())
    assert named >= 0.8 * len(EXPECTED), f"{named} of {len(EXPECTED)} named"
    assert {c for c in EXPECTED.values() if c is not None} <= set(causes.REGISTRY)


FITTED = {"mask_minus_1e4": -1e4, "mask_minus_1e5": -1e5, "mask_minus_1e10": -1e10,
          "softmax_neg_inf_as_minus_1e4": -1e4, "softmax_smoothed": 1e-9}
"""The planted bugs with a number in them, and the number the named cause must be fitted to."""


@pytest.mark.parametrize("bug", sorted(EXPECTED))
def test_the_planted_cause_is_named(bug: str) -> None:
    """The cause named for the bug's first failing property (and a numeric one's fitted value)."""
    from .planted_causes import failing

    result = failing(bug)
    cause = None if result is None or result.failure is None else result.failure.cause
    assert (None if cause is None else cause.name) == EXPECTED[bug]
    if bug in FITTED:
        assert cause is not None and cause.value == pytest.approx(FITTED[bug], rel=1e-9)
        assert f"{FITTED[bug]:.3g}" in cause.sentence


@pytest.mark.parametrize("implementation", ["reference", "numpy_rows", "numpy_kv_cache", "picogpt_style",
                                            "nanogpt_attention"])
def test_correct_code_never_gets_a_cause(implementation: str) -> None:
    """Correct implementations agree with the plain reference on every drawn case of every function
    they provide: nothing is named, whatever the property (here every agreement property)."""
    from gptspec.properties import domain

    impl = _correct(implementation)
    declared = domain.parse(["causal-only", "d_model=n_heads*d_head"] if implementation.startswith("nanogpt") else [])
    names = [n for n in causes.SIGNATURES if callable(getattr(impl, n, None))]
    assert names
    for name in names:
        prop = get(f"agreement.{name}")
        with domain.scoped(declared, prop.needs):
            example = diagnosis.drawn(impl, name, 0, 5)[0].args
            assert diagnosis.diagnose(prop, impl, example, seed=1) is None, name


@pytest.mark.parametrize("name", ["generation.greedy_is_argmax_chain", "generation.sample_follows_softmax",
                                  "generation.top_k_keeps_k_largest"])
def test_a_correct_generate_never_gets_a_cause(name: str) -> None:
    """The reference generator's tokens come from the spec's draw rule on every drawn example: nothing is
    named, whatever the counterexample (here the property's first drawn example)."""
    from tests.properties.mutants import GENERATORS

    prop, impl = get(name), GENERATORS["generate"]
    example = next(iter(_examples(prop)))
    assert diagnosis.diagnose(prop, impl, example, seed=3) is None
    assert diagnosis.diagnose(prop, impl, example, seed=3, causes=[c for c in causes.CAUSES
                                                                   if "generate" in c.functions]) is None


def _examples(prop: object) -> list[object]:
    from hypothesis import HealthCheck, given, settings

    found: list[object] = []

    @settings(max_examples=1, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(prop.strategy())  # type: ignore[attr-defined]
    def collect(example: object) -> None:
        found.append(example)

    collect()
    return found


def _correct(implementation: str) -> object:
    import sys

    from gptspec.target import load
    from gptspec.verification.adapters import adapt

    from .planted_causes import ROOT

    if implementation == "reference":
        return causes.derive("reference")
    folder = ROOT / ("examples" if implementation.startswith("numpy_") else "tests/examples")
    sys.path.insert(0, str(folder))
    target = load(str(folder / f"{implementation}.py"))
    framework = "torch" if implementation.startswith("nanogpt") else "numpy"
    return adapt(target.obj, target.provides, layout="rows", framework=framework, label=implementation)


def test_the_same_counterexample_names_a_cause_for_the_bug_and_none_for_the_reference() -> None:
    from tests.properties.mutants import MUTANTS

    prop = get("agreement.attention_pattern")
    Q, K = np.arange(6.0).reshape(3, 2) / 4, np.ones((3, 2))
    example = (Q, K, True)
    found = diagnosis.diagnose(prop, MUTANTS["pattern_missing_sqrt"], example, seed=0)
    assert found is not None and found.name == "scale-none" and found.agrees == found.examples
    assert found.counterexample_calls == 1 and found.reference_disagrees >= 1
    assert diagnosis.diagnose(prop, causes.derive("reference"), example, seed=0) is None


def named(bug: str) -> str | None:
    """The cause named for the bug's first failing property, or None."""
    from .planted_causes import failing

    result = failing(bug)
    failure = None if result is None else result.failure
    return None if failure is None or failure.cause is None else failure.cause.name


def test_examples_like_the_counterexample_keep_a_chance_agreement_from_being_named(monkeypatch) -> None:
    """Both ways: T = 0 dividing by zero fails on a near-tie, [0, 1e-9], where a tiny temperature's draw
    happens to pick the target's token, and no drawn example of the whole domain is at T = 0; without the
    counterexample's neighbours the tiny temperature is named, with them (T = 0 held, the logits redrawn)
    nothing is. The true cause of the same symptom is still named with them."""
    assert named("examples/bug_greedy_divides_by_zero.py") is None
    assert named("sample_argmax_half") == "sample-argmax-half"
    monkeypatch.setattr(evidence, "NEIGHBOURS", 0)
    assert named("examples/bug_greedy_divides_by_zero.py") == "sample-zero-as-tiny"


def test_many_draws_from_the_counterexamples_prompt_keep_a_pick_from_being_called_sampling(monkeypatch) -> None:
    """Both ways, for generate: picoGPT's greedy argmax planted as argmin gives two continuations a sampling
    rule could also give (any token has some probability); with the neighbour of 400 draws from the same
    prompt, one token drawn every time is no sampling and nothing is named, while minGPT's real sampling
    at T = 0 is still named."""
    assert named("family picogpt-greedy") is None
    assert named("family mingpt-greedy") == "generate-greedy-samples"
    monkeypatch.setattr(evidence, "NEIGHBOURS", 0)
    assert named("family picogpt-greedy") == "generate-greedy-samples"


def test_a_change_that_agrees_nowhere_is_not_named() -> None:
    """Only the scale causes offered: a wrong triangle agrees with none of them, and nothing is named."""
    from tests.properties.mutants import MUTANTS

    prop = get("agreement.attention_pattern")
    example = (np.ones((2, 3)), np.ones((2, 3)), True)
    scales = [causes.SCALE_NONE, causes.SCALE_1_D_HEAD]
    assert diagnosis.diagnose(prop, MUTANTS["mask_wrong_triangle"], example, 0, causes=scales) is None
    assert diagnosis.diagnose(prop, MUTANTS["pattern_missing_sqrt"], example, 0, causes=scales) is not None


def test_the_cause_is_a_line_of_the_panel_and_data_in_the_json() -> None:
    from gptspec.verification.report import Report

    cause = diagnosis.Diagnosis("scale-none", "the scores are not scaled", "attention_pattern", None, 50, 50, 1, 7)
    failure = Failure("does not hold", "expected 1, got 2", "attention_pattern", [], "gptspec verify x", cause=cause)
    result = PropertyResult("agreement.attention_pattern", "agreement", "s", ("attention_pattern",), "failed",
                            failure=failure)
    lines = [text for _, text in failure_lines(result)]
    assert ("likely cause: the scores are not scaled (the reference with that change agrees on 50 of 50 examples "
            "of attention_pattern, where the plain reference disagrees on 7)") in lines
    report = Report("t", "columns", "numpy", "default", 0, ("attention_pattern",), (), [result])
    data = report.to_dict()["results"][0]["failure"]
    assert data["cause"]["name"] == "scale-none" and data["cause"]["agrees"] == 50
    assert data["evidence"].startswith("the reference with that change agrees on 50 of 50")


def test_the_json_names_the_failing_function_of_a_property_that_does_not_hold() -> None:
    from gptspec.verification.report import Report

    failure = Failure("does not hold", "expected 1, got 2", None, [], "gptspec verify x")
    one = PropertyResult("causality.masked_entries_zero", "causality", "s", ("attention_pattern",), "failed",
                         failure=failure)
    needs = ("attention_head", "multi_head_attention")
    two = PropertyResult("head_concat.sum_of_heads", "head_concat", "s", needs, "failed",
                         failure=Failure("does not hold", "multi_head_attention(E) at [0, 1]: expected 1, got 2", None,
                                         [], "r"))
    three = PropertyResult("head_concat.sum_of_heads", "head_concat", "s", needs, "failed",
                           failure=Failure("does not hold", "the sum differs", None, [], "r"))
    data = Report("t", "columns", "numpy", "default", 0, (), (), [one, two, three]).to_dict()["results"]
    assert data[0]["failure"]["function"] == "attention_pattern"
    assert data[1]["failure"]["function"] == "multi_head_attention"  # of two, the one the message names first
    assert data[2]["failure"]["function"] == "attention_head"  # none named: the first it needs, never null
    assert "evidence" not in data[0]["failure"]


def test_the_cause_does_not_depend_on_the_order_the_properties_ran_in() -> None:
    """Two failures of one target's attention_pattern, diagnosed in both orders in one process (as a
    worker of ``--jobs`` runs whichever properties it is given): each names the same cause either way.
    Scores of −1e13 are explained by a mask written as −1e12 (a plain change, preferred to a fitted
    number); scores of −1e11 only by the fitted −1e10. A cause carried from one failure to the next
    would name −1e10 for both once the second ran first."""
    import types

    from tests.properties.mutants import MUTANTS

    constant = causes.REGISTRY["mask-constant"]
    fixed = causes.Cause("mask-minus-1e12", "the masked scores are −1e12, not −∞", constant.functions,
                         lambda g, fn, p: constant.change(g, fn, 1e12))
    prop = get("agreement.attention_pattern")
    impl = types.SimpleNamespace(**vars(MUTANTS["mask_minus_1e10"]))  # a target no other test diagnosed

    def scores(s: float) -> tuple[np.ndarray, np.ndarray, bool]:  # every score −s: the mask constant wins
        return np.full((1, 3), -np.sqrt(s)), np.full((1, 3), np.sqrt(s)), True

    def named(order: list[str]) -> dict[str, tuple[str, float | None] | None]:
        examples = {"-1e13": scores(1e13), "-1e11": scores(1e11)}
        found = {key: diagnosis.diagnose(prop, impl, examples[key], seed=0, n=5, causes=[constant, fixed])
                 for key in order}
        return {key: None if d is None else (d.name, d.value) for key, d in found.items()}

    expected = {"-1e13": ("mask-minus-1e12", None), "-1e11": ("mask-constant", -1e10)}
    assert named(["-1e13", "-1e11"]) == expected
    assert named(["-1e11", "-1e13"]) == expected


def test_drawn_examples_are_kept_per_declared_domain() -> None:
    """Both ways: the same target, function, seed and count give the kept cases again in the same scope,
    and fresh ones, drawn inside it, under a declared domain (float32 only here)."""
    from gptspec.properties import domain

    impl = causes.derive("reference")
    whole = diagnosis.drawn(impl, "softmax", 11, 6)
    assert diagnosis.drawn(impl, "softmax", 11, 6) is whole
    with domain.scoped(domain.parse(["float32"]), ("softmax",)):
        declared = diagnosis.drawn(impl, "softmax", 11, 6)
    assert declared is not whole
    assert declared and all(c.args[0].dtype == np.float32 for c in declared)
    assert any(c.args[0].dtype == np.float64 for c in whole)
