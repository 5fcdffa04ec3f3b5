"""A picoGPT-style implementation (−1e10 additive mask, softmax(x / T)) passes with fragile
findings and their onsets, fails under --strict, and its planted bugs fail."""

from __future__ import annotations

import json
import pathlib
import re

import pytest

from gptspec.cli import main
from gptspec.verification.conventions import ENTRY_POINTS
from gptspec.verification import verify

HERE = pathlib.Path(__file__).resolve().parent
PICO = HERE / "picogpt_style.py"
FRAGILE = ["causality.masked_entries_zero", "temperature.sample_follows_softmax", "shapes.sample"]


@pytest.fixture(scope="module")
def fragile_report():
    return verify(PICO, layout="rows", profile="default", seed=0, only=FRAGILE, jobs=1)


def test_picogpt_passes_with_fragile_findings_whose_onsets_are_right(fragile_report):
    report = fragile_report
    status = {r.name: r for r in report.results}
    assert {r.status for r in report.results} == {"fragile"}, [(r.name, r.status, r.notes) for r in report.results]
    assert report.exit_code == 0 and report.ok
    mask = status["causality.masked_entries_zero"].onset
    assert mask is not None and mask.quantity == "|scores|" and 3e9 <= mask.holds_up_to <= mask.fails_from <= 3e10
    assert "finite constant" in (mask.cause or "")
    for name in ("temperature.sample_follows_softmax", "shapes.sample"):
        onset = status[name].onset
        assert onset is not None and onset.quantity == "T" and onset.below and onset.holds_up_to < 1e-30
        assert "logits / T" in (onset.cause or "")
        assert status[name].failure.kind == "raised"  # rng.choice refuses the NaN probabilities


def test_picogpt_fails_under_strict_and_the_json_holds_the_onset(tmp_path, capsys):
    out = tmp_path / "report.json"
    args = ["verify", str(PICO), "--layout", "rows", "--only", FRAGILE[0], "--seed", "0", "--jobs", "1"]
    assert main(args + ["--strict", "--json", str(out)]) == 1
    printed = capsys.readouterr().out
    assert "Fragile beyond the ordinary domain (--strict: counted as failed)" in printed and "FAIL" in printed
    data = json.loads(out.read_text())
    (result,) = data["results"]
    assert data["strict"] and data["exit_code"] == 1
    assert result["status"] == "fragile" and 3e9 <= result["onset"]["fails_from"] <= 3e10


def test_picogpt_has_no_failure_on_any_property():
    report = verify(PICO, layout="rows", profile="quick", seed=0)
    cached = ("multi_head_attention_cached", "forward_cached")  # picoGPT has no KV cache
    assert report.missing == cached
    spec_properties = [r for r in report.results if not set(r.needs) & (set(ENTRY_POINTS) | set(cached))]
    assert {r.status for r in spec_properties} <= {"passed", "fragile"}, [(r.name, r.status) for r in report.failures()]
    assert {r.status for r in report.results if r not in spec_properties} == {"not provided"}  # a convention's only
    assert report.exit_code == 0


@pytest.mark.parametrize("example, prop", [
    ("picogpt_bug_not_causal.py", "causality.masked_entries_zero"),
    ("picogpt_bug_qk_swapped.py", "agreement.attention_pattern"),
])
def test_a_planted_bug_in_picogpt_fails_not_fragile(example, prop):
    report = verify(HERE / example, layout="rows", profile="quick", seed=0, only=[prop], jobs=1)
    (result,) = report.results
    assert result.status == "failed" and result.onset is None, (result.status, result.notes)
    assert report.exit_code == 1


def test_the_readme_table_says_which_examples_fail_and_which_are_fragile():
    from .test_examples import CATCHES

    readme = (HERE.parents[1] / "README.md").read_text()
    cells = [re.split(r"(?<!\\)\|", line) for line in readme.splitlines() if line.startswith("| `")]
    rows = {c[1].strip().strip("`"): c[-2] for c in cells if c[1].strip().endswith(".py`")}
    assert all(rows[example].strip().startswith("failed") for example in CATCHES)
    assert rows["tests/examples/picogpt_style.py"].strip().startswith("fragile")
