"""The report: statuses decide the exit code; JSON and the terminal show the same failures."""

from __future__ import annotations

import json

from rich.console import Console

from gptspec.verification import Failure, PropertyResult, Report, render


def report(*results, interrupted=False):
    return Report("mine.py", "rows", "numpy", "quick", 42, ("softmax", "attention_pattern"),
                  ("embed",), list(results), 1.5, interrupted)


PASSED = PropertyResult("softmax.sums_to_one", "softmax", "Σ = 1", ("softmax",), "passed", 10, 0.1)
MISSING = PropertyResult("embedding.one_hot", "embedding", "W_E onehot", ("embed",), "not provided")
FAILED = PropertyResult(
    "causality.masked_zero", "causality", "masked entries are 0", ("attention_pattern",), "failed", 17, 0.3,
    Failure("does not hold", "A[1, 0]: expected exactly 0, got 0.5", None, ["Q: float32[1 2] [[0.0, 1.0]]"],
            "gptspec verify mine.py --layout rows --only causality.masked_zero --seed 42"),
    ["attention_pattern printed 12 bytes (captured), first line: 'hi'"],
)


def test_exit_code_is_0_when_every_applicable_property_passed_1_on_a_failure_130_when_interrupted():
    assert report(PASSED, MISSING).exit_code == 0
    assert report(PASSED, FAILED).exit_code == 1
    errored = PropertyResult("x.y", "x", "s", ("softmax",), "error")
    assert report(PASSED, errored).exit_code == 1
    assert report(PASSED, interrupted=True).exit_code == 130


def test_by_function_counts_the_properties_needing_each_function():
    table = report(PASSED, MISSING, FAILED).by_function()
    assert list(table) == ["embed", "softmax", "attention_pattern"]  # the spec's order
    assert table["attention_pattern"]["failed"] == 1 and table["softmax"]["passed"] == 1
    assert table["embed"]["not provided"] == 1


def test_json_holds_the_same_results_counts_and_failure(tmp_path):
    path = tmp_path / "report.json"
    report(PASSED, MISSING, FAILED).write_json(path)
    data = json.loads(path.read_text())
    assert data["exit_code"] == 1 and data["ok"] is False and data["seed"] == 42
    assert data["counts"]["failed"] == 1 and data["counts"]["not provided"] == 1
    failure = data["results"][2]["failure"]
    assert failure["message"] == "A[1, 0]: expected exactly 0, got 0.5"
    assert failure["reproduce"].endswith("--only causality.masked_zero --seed 42")


def test_the_terminal_report_shows_tables_the_failure_panel_and_the_verdict():
    console = Console(record=True, width=160)
    render(report(PASSED, MISSING, FAILED), console)
    text = console.export_text()
    for expected in (
        "Spec functions", "Properties", "failed: causality.masked_zero", "needs embed",
        "does not hold: A[1, 0]: expected exactly 0, got 0.5", "Q: float32[1 2] [[0.0, 1.0]]",
        "attention_pattern printed 12 bytes",
        "reproduce: gptspec verify mine.py --layout rows --only causality.masked_zero --seed 42",
        "FAIL mine.py (rows, numpy, profile quick, seed 42): 1 passed, 1 failed, 1 not provided",
    ):
        assert expected in text, expected


# ---------------------------------------------------------------------------------------------
# In the user's terms: their layout, the contract apart from the math, the missing functions summed up


def _text(r, **kwargs):
    console = Console(width=200, record=True, color_system=None)
    render(r, console, **kwargs)
    return console.export_text()


def test_a_rows_counterexample_is_shown_transposed_and_the_heading_says_so():
    import numpy as np

    from gptspec.properties.strategies import MultiHead
    from gptspec.verification.runner import _failure
    from gptspec.properties.registry import PropertyFailure

    example = MultiHead(np.zeros((4, 3)), np.zeros((2, 1, 4)), np.zeros((2, 1, 4)), np.zeros((2, 1, 4)),
                        np.zeros((4, 2)), 1.0)
    _, columns = _failure(PropertyFailure("no"), example, "cmd")
    assert columns.heading == "minimal counterexample (spec layout, columns are tokens):"
    shapes = [line.split(" [[")[0].split(" all")[0] for line in columns.counterexample]
    assert shapes[:2] == ["E: float64[4 3]", "W_Q: float64[2 1 4]"]
    _, rows = _failure(PropertyFailure("no"), example, "cmd", layout="rows", framework="torch")
    assert rows.heading == "minimal counterexample (rows layout, as your functions receive these torch tensors: tokens are rows):"
    shapes = [line.split(" [[")[0].split(" all")[0] for line in rows.counterexample]
    # [ctx d_model], [n_heads d_model d_head], [n_heads·d_head d_model]: as the adapters pass them
    assert shapes == ["E: float64[3 4]", "W_Q: float64[2 4 1]", "W_K: float64[2 4 1]", "W_V_down: float64[2 4 1]",
                      "W_O: float64[2 4]", "magnitude: 1.0"]


def test_a_contract_property_is_reported_as_the_specs_input_contract_not_a_bug():
    contract = PropertyResult(
        "temperature.invalid_rejected", "temperature", "softmax refuses T <= 0, NaN and ±inf", ("softmax",), "failed",
        3, 0.1, Failure("does not hold", "softmax(x, T=inf): expected an exception", None, [], "cmd"),
        tags=("contract",))
    text = _text(report(PASSED, contract))
    assert "failed (the spec's input contract): temperature.invalid_rejected" in text
    assert "not the math" in text and "--skip contract skips these checks" in text
    assert "failed (contract)" in text  # in the property table


def test_many_missing_functions_are_one_summary_row_and_hide_missing_leaves_them_out():
    missing = [PropertyResult(f"embedding.p{i}", "embedding", "s", ("embed",), "not provided") for i in range(6)]
    few = _text(report(PASSED, *missing[:2]))
    assert "embedding.p0" in few and "more" not in few
    many = _text(report(PASSED, *missing))
    assert "embedding.p0" not in many and "… 6 more" in many and "need embed (--hide-missing" in many
    hidden = _text(report(PASSED, *missing), hide_missing=True)
    assert "embedding.p0" not in hidden and "more" not in hidden
    assert "1 passed, 6 not provided" in hidden  # the verdict still counts them


def test_a_not_applicable_property_shows_why_and_the_narrowed_ones_how():
    na = PropertyResult("causality.cross_attention_unmasked", "causality", "s", ("attention_head",), "not applicable",
                        notes=["not applicable: causality.cross_attention_unmasked needs causal=False, which causal-only excludes"])
    narrowed = PropertyResult("causality.columns_sum_to_one", "causality", "Σ_k A = 1", ("attention_pattern",), "passed",
                              25, 0.1, narrowed="causal=True only")
    r = report(narrowed, na)
    r.assumptions = ("causal-only",)
    text = _text(r)
    assert "assuming: causal-only" in text and "narrowed (1 property): causal=True only" in text
    assert "needs causal=False, which causal-only excludes" in text
    assert r.exit_code == 0 and "1 passed, 1 not applicable" in text


def test_many_missing_properties_are_one_row_naming_spec_functions_then_entry_points():
    """More than five not provided: one summary row. It once crashed on a convention's entry point
    (sdpa_kernel is no spec function), so every ordinary target's report failed to render."""
    missing = [PropertyResult(f"fam.p{i}", "fam", "s", (need,), "not provided")
               for i, need in enumerate(["sdpa_kernel", "embed", "batched_attention", "mlp", "embed", "forward"])]
    console = Console(width=200, record=True)
    render(report(PASSED, *missing), console)
    text = console.export_text()
    assert "… 6 more" in text and "need embed, mlp, forward, batched_attention, sdpa_kernel" in text
