"""A nanoGPT-style CausalSelfAttention (``tests/examples/nanogpt_attention.py``): it supports only
d_model = n_heads·d_head and only causal attention. Declared so, it passes; undeclared, its errors
come with the --assume that declares it; its planted bugs fail inside the declared domain."""

from __future__ import annotations

import pathlib

import pytest

from gptspec.cli import main
from gptspec.verification import verify

HERE = pathlib.Path(__file__).resolve().parent
NANOGPT = HERE / "nanogpt_attention.py"
DECLARED = ["causal-only", "d_model=n_heads*d_head"]

pytest.importorskip("torch")


def test_declared_it_passes_every_property_it_provides_on_every_worker():
    report = verify(NANOGPT, layout="rows", profile="quick", seed=0, jobs=2, assume=DECLARED)
    assert report.framework == "torch" and report.assumptions == tuple(DECLARED)
    statuses = {r.name: r.status for r in report.results if r.status != "not provided"}
    assert set(statuses.values()) == {"passed", "not applicable"}, [(r.name, r.failure) for r in report.failures()]
    assert statuses["value.mha_rank_at_most_heads_times_d_head"] == "not applicable"
    assert report.exit_code == 0 and report.suggestions == []
    narrowed = {r.name: r.narrowed for r in report.results}
    assert narrowed["head_concat.sum_of_heads"] is None  # needs attention_head, which this file lacks: not provided
    assert narrowed["shapes.multi_head_attention"] == "causal=True only; d_model = n_heads·d_head: heads 1–3 of d_head 1–4"


def test_undeclared_it_errors_and_the_report_prints_the_assumptions_to_add(capsys):
    code = main(["verify", str(NANOGPT), "--layout", "rows", "--profile", "quick", "--seed", "0", "--jobs", "2",
                 "--only", "shapes.multi_head_attention,causality.columns_sum_to_one,head_concat.head_permutation"])
    out = " ".join(capsys.readouterr().out.replace("│", " ").split())  # rich wraps long lines in panels
    assert code == 1
    assert "error: shapes.multi_head_attention" in out and "NotImplementedError: CausalSelfAttention is causal only" in out
    assert "(the example has d_model 1 ≠ n_heads·d_head 2: 1 head of d_head 2)" in out  # the config dims, by name
    assert ("suggestion: the errors of" in out and "came only on examples with causal=False or d_model ≠ n_heads·d_head"
            in out and "add --assume causal-only --assume d_model=n_heads*d_head" in out)
    assert "rows layout, as your functions receive these torch tensors: tokens are rows" in out


def test_declared_halfway_the_suggestion_names_only_what_is_left():
    report = verify(NANOGPT, layout="rows", profile="quick", seed=0, jobs=2, assume=["causal-only"],
                    only=["shapes.multi_head_attention", "head_concat.head_permutation"])
    assert {r.status for r in report.results} >= {"error"}
    (suggestion,) = report.suggestions
    assert "add --assume d_model=n_heads*d_head " in suggestion and "causal-only" not in suggestion.split("add")[1]


@pytest.mark.parametrize("bug, caught_by", [
    ("nanogpt_bug_not_causal.py", {"causality.masked_entries_zero", "causality.mha_future_independent"}),
    ("nanogpt_bug_qk_swapped.py", {"agreement.attention_pattern", "agreement.multi_head_attention"}),
])
def test_its_planted_bugs_fail_inside_the_declared_domain(bug, caught_by):
    report = verify(HERE / bug, layout="rows", profile="quick", seed=0, jobs=2, assume=DECLARED,
                    only=sorted(caught_by))
    assert {r.name: r.status for r in report.results} == {name: "failed" for name in caught_by}
    assert report.exit_code == 1 and report.suggestions == []
