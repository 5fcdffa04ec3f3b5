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
    ["attention_pattern printed 12 characters (captured), first line: 'hi'"],
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
        "attention_pattern printed 12 characters",
        "reproduce: gptspec verify mine.py --layout rows --only causality.masked_zero --seed 42",
        "FAIL mine.py (rows, numpy, profile quick, seed 42): 1 passed, 1 failed, 1 not provided",
    ):
        assert expected in text, expected
