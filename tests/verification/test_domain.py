"""Declared domains: the words, generating inside them (never rejecting), "not applicable" both
ways, the narrowing a report shows, the module's GPTSPEC_ASSUME, and suggestions made only
when a target's errors cluster where a declaration would exclude them."""

from __future__ import annotations

import contextlib
import types

import hypothesis

import numpy as np
import pytest
from hypothesis import strategies as st

from gptspec import impl
from gptspec.cli import main
from gptspec.properties import domain
from gptspec.properties.catalogue import get
from gptspec.properties.registry import Property, PropertyFailure
from gptspec.properties.strategies import arguments, configs, heads, multi_heads
from gptspec.spec import SIGNATURES
from gptspec.verification import PROFILES, OptionError, PropertyResult, adapt, run_property, verify
from gptspec.verification.session import Options, suggestions


def run(prop, functions, assume=(), *, layout="columns"):
    target = types.SimpleNamespace(**functions)
    adapted = adapt(target, tuple(functions))
    return run_property(prop, adapted, PROFILES["quick"], 3, f"reproduce {prop.name}",
                        domain=domain.parse(assume), layout=layout)


# ---------------------------------------------------------------------------------------------
# The words


def test_the_words_have_one_canonical_form_each():
    d = domain.parse(["causal-only", "d_model = n_heads·d_head", "FLOAT32", "max_ctx=4", "max-ctx=3", "causal-only"])
    assert d.words == ("causal-only", "d_model=n_heads*d_head", "float32", "max-ctx=3")
    assert domain.parse(["float32", "float64"]).words == ()  # both dtypes: the spec's own domain
    assert not domain.parse([])


@pytest.mark.parametrize("word", ["causal", "d_model=n_heads+d_head", "max-ctx=0", "max-ctx=lots", "bfloat16"])
def test_an_unknown_word_is_an_option_error_listing_the_known_ones(word):
    with pytest.raises(OptionError, match="causal-only, d_model=n_heads\\*d_head, float32, float64, max-ctx=N|max-ctx"):
        Options(assume=(word,))


def test_an_unknown_word_on_the_command_line_exits_2(capsys):
    assert main(["verify", "gptspec.impl", "--assume", "causal-onyl", "--only", "causality.masked_entries_zero"]) == 2
    err = capsys.readouterr().err
    assert "unknown assumption 'causal-onyl'" in err and "known: causal-only, d_model=n_heads*d_head" in err


# ---------------------------------------------------------------------------------------------
# Generating inside the domain: every example inside, none rejected, and the report says how


def _recorder(check):
    """A property over multi_head_attention's drawn arguments whose body checks each example."""
    def body(target, args):
        check(args)
        target.multi_head_attention(*args)

    return Property("toy.inside", "toy", ("multi_head_attention",), "inside", body,
                    lambda: arguments(SIGNATURES["multi_head_attention"]))


def _heads_fill(args):
    E, W_Q, *_, causal = args
    if E.shape[0] != W_Q.shape[0] * W_Q.shape[1]:
        raise PropertyFailure(f"d_model {E.shape[0]} ≠ {W_Q.shape[0]}·{W_Q.shape[1]}")
    if not causal:
        raise PropertyFailure("causal=False")
    if E.dtype != np.float32 or E.shape[1] > 2:
        raise PropertyFailure(f"{E.dtype}, ctx {E.shape[1]}")


def test_the_strategies_generate_only_inside_the_declared_domain_and_count_every_example():
    prop = _recorder(_heads_fill)
    outside = run(prop, {"multi_head_attention": impl.multi_head_attention})
    assert outside.status == "failed"  # by default the search does leave the domain
    inside = run(prop, {"multi_head_attention": impl.multi_head_attention},
                 ["causal-only", "d_model=n_heads*d_head", "float32", "max-ctx=2"])
    assert inside.status == "passed", inside.failure
    assert inside.examples == PROFILES["quick"].max_examples  # generated inside, never rejected
    assert inside.narrowed == "causal=True only; d_model = n_heads·d_head: heads 1–3 of d_head 1–4; float32 only; ctx ≤ 2"


def _drawn(strategy, declared=None):
    seen = []

    @hypothesis.seed(7)
    @hypothesis.settings(max_examples=30, database=None)
    @hypothesis.given(strategy)
    def test(example):
        seen.append(repr(example))

    with domain.scoped(declared) if declared is not None else contextlib.nullcontext():
        test()
    return seen


def test_a_scope_without_declarations_draws_exactly_what_no_scope_draws():
    """No declaration, no change: a seed keeps reproducing the verdict it did."""
    both = st.tuples(configs(), multi_heads(), heads(), arguments(SIGNATURES["attention_pattern"]))
    assert _drawn(both, domain.Domain()) == _drawn(both)
    assert _drawn(configs(), domain.parse(["d_model=n_heads*d_head"])) != _drawn(configs())


def test_the_heads_rule_bears_only_on_properties_that_split_d_model_into_heads():
    declared = domain.parse(["d_model=n_heads*d_head"])
    head_only = run(get("agreement.attention_head"), {"attention_head": impl.attention_head}, declared.words)
    assert head_only.status == "passed" and head_only.narrowed is None  # one head of any d_head
    one_head = run(get("head_concat.one_head"), {"attention_head": impl.attention_head,
                                                 "multi_head_attention": impl.multi_head_attention}, declared.words)
    assert one_head.status == "passed" and one_head.narrowed == "d_model = n_heads·d_head: 1 head of d_head 1–4"


# ---------------------------------------------------------------------------------------------
# Not applicable, both ways


FUNCTIONS = {name: getattr(impl, name) for name in SIGNATURES}


@pytest.mark.parametrize("name, assume, reason", [
    ("causality.cross_attention_unmasked", "causal-only", "needs causal=False, which causal-only excludes"),
    ("value.mha_rank_at_most_heads_times_d_head", "d_model=n_heads*d_head", "needs n_heads·d_head < d_model"),
    ("causality.next_token_sees_only_prefix", "float32", "is stated in float64 only"),
    ("causality.head_future_independent", "max-ctx=1", "needs ctx >= 2"),
])
def test_an_assumption_that_excludes_what_a_property_needs_makes_it_not_applicable(name, assume, reason):
    result = run(get(name), FUNCTIONS, [assume])
    assert result.status == "not applicable" and result.examples == 0
    assert reason in result.notes[0]


@pytest.mark.parametrize("name, assume", [
    ("causality.cross_attention_unmasked", "d_model=n_heads*d_head"),  # not about causality
    ("value.mha_rank_at_most_heads_times_d_head", "causal-only"),
    ("causality.next_token_sees_only_prefix", "float64"),
    ("causality.head_future_independent", "max-ctx=2"),
    ("value.head_rank_at_most_d_head", "d_model=n_heads*d_head"),  # one head: the bound still has teeth
])
def test_an_assumption_that_leaves_what_a_property_needs_lets_it_run(name, assume):
    result = run(get(name), FUNCTIONS, [assume])
    assert result.status == "passed" and result.examples > 0, result.failure


@pytest.mark.parametrize("name", ["embedding.invalid_tokens_rejected", "temperature.invalid_rejected",
                                  "temperature.sample_rejects_out_of_range"])
def test_invalid_input_properties_apply_under_every_assumption(name):
    every = ["causal-only", "d_model=n_heads*d_head", "float32", "max-ctx=1"]
    result = run(get(name), FUNCTIONS, every)
    assert result.status == "passed" and result.examples > 0


def test_not_applicable_is_neither_a_failure_nor_a_pass_and_the_header_lists_the_assumptions(capsys):
    code = main(["verify", "gptspec.impl", "--assume", "causal-only", "--profile", "quick", "--seed", "1", "--jobs", "1",
                 "--only", "causality.cross_attention_unmasked,causality.columns_sum_to_one"])
    out = capsys.readouterr().out
    assert code == 0
    assert "assuming: causal-only" in out and "1 passed, 1 not applicable" in out
    assert "narrowed (1 property): causal=True only" in out
    assert "not applicable (1): causality.cross_attention_unmasked" in out


# ---------------------------------------------------------------------------------------------
# The module's own declaration, and the worker processes


def test_a_modules_gptspec_assume_combines_with_the_options(tmp_path):
    target = tmp_path / "declares.py"
    target.write_text("from gptspec.impl import attention_head, cross_attention_head, multi_head_attention\n"
                      "GPTSPEC_ASSUME = ['causal-only']\n")
    report = verify(target, profile="quick", seed=0, jobs=2, assume=["max-ctx=3"],
                    only=["causality.cross_attention_unmasked", "shapes.multi_head_attention", "head_concat.one_head"])
    assert report.assumptions == ("causal-only", "max-ctx=3")
    statuses = {r.name: r.status for r in report.results}
    assert statuses == {"causality.cross_attention_unmasked": "not applicable", "shapes.multi_head_attention": "passed",
                        "head_concat.one_head": "passed"}
    narrowed = {r.name: r.narrowed for r in report.results}
    assert narrowed["shapes.multi_head_attention"] == "causal=True only; ctx ≤ 3"  # reached the workers


def test_the_reproduce_command_repeats_the_declared_words():
    from gptspec.verification.runner import reproducer

    command = reproducer("mine.py", "rows", "torch", "quick", 5.0, 9, ("causal-only", "d_model=n_heads*d_head"))
    assert command("x.y") == ("gptspec verify mine.py --assume causal-only --assume 'd_model=n_heads*d_head' "
                              "--layout rows --framework torch --profile quick --only x.y --seed 9")


@pytest.mark.parametrize("jobs", [1, 2])  # 2: read by a worker, raised as itself here
def test_an_unknown_word_in_the_module_is_an_option_error(tmp_path, jobs):
    target = tmp_path / "bad_word.py"
    target.write_text("from gptspec.impl import softmax\nGPTSPEC_ASSUME = ['causal-onyl']\n")
    with pytest.raises(OptionError, match="GPTSPEC_ASSUME in .*bad_word.py: unknown assumption 'causal-onyl'"):
        verify(target, profile="quick", jobs=jobs)


# ---------------------------------------------------------------------------------------------
# Suggestions


def _errored(cluster, inside=()):
    return PropertyResult("x.y", "x", "s", ("multi_head_attention",), "error", error_cluster=cluster, ran_inside=inside)


def test_a_suggestion_needs_every_error_inside_the_cluster_and_evidence_the_code_works_inside():
    heads, causal = domain.HEADS_FILL, domain.CAUSAL_ONLY
    none = domain.Domain()
    (text,) = suggestions([_errored((causal,), (causal, heads)), _errored((heads,))], none)
    assert "came only on examples with causal=False or d_model ≠ n_heads·d_head" in text
    assert "add --assume causal-only --assume d_model=n_heads*d_head" in text
    assert suggestions([_errored((causal,), (causal,)), _errored(())], none) == []  # one error is not explained
    assert suggestions([_errored((causal,))], none) == []  # no example with causal=True ever answered
    assert suggestions([_errored((causal,), (causal,))], domain.parse([causal])) == []  # declared already
    passed = PropertyResult("x.z", "x", "s", ("softmax",), "passed", ran_inside=(causal,))
    assert suggestions([passed], none) == []  # no errors, nothing to suggest


def _only_causal(Q, K, causal=True):
    if not causal:
        raise NotImplementedError("causal only")
    return impl.attention_pattern(Q, K, causal)


def _always_raises(Q, K, causal=True):
    raise RuntimeError("broken")


def test_errors_only_on_causal_false_cluster_and_errors_everywhere_do_not():
    prop = get("causality.columns_sum_to_one")
    clustered = run(prop, {"attention_pattern": _only_causal})
    assert clustered.status == "error" and clustered.error_cluster == ("causal-only",)
    assert "causal-only" in clustered.ran_inside
    everywhere = run(prop, {"attention_pattern": _always_raises})
    assert everywhere.status == "error" and everywhere.ran_inside == ()
    assert suggestions([everywhere], domain.Domain()) == []
    assert suggestions([clustered], domain.Domain())
