"""The examples: verify passes the correct implementations and fails each buggy one on the
property meant to catch its bug; the command exits 0, 1 and 2 as documented."""

from __future__ import annotations

import json
import re
import pathlib
import subprocess
import sys

import pytest

from gptspec.cli import main
from gptspec.properties.catalogue import CONVENTION_FAMILIES
from gptspec.properties.catalogue import get, properties
from gptspec.verification import verify

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


def properties_needs(name: str) -> tuple[str, ...]:
    return get(name).needs

CATCHES = {
    "bug_mask_wrong_triangle.py": "causality.masked_entries_zero",
    "bug_mask_constant.py": "causality.masked_entries_zero",
    "bug_softmax_wrong_axis.py": "causality.columns_sum_to_one",
    "bug_missing_scale.py": "agreement.attention_pattern",
    "bug_heads_merged_wrong_order.py": "head_concat.sum_of_heads",
    "bug_token_wraps.py": "embedding.invalid_tokens_rejected",
    "bug_greedy_divides_by_zero.py": "temperature.sample_greedy_at_zero",
    "bug_cache_positions_restart.py": "decode.chunks_equal_forward",
}
"""Each buggy example and the property meant to catch its bug (the docstring of each says why)."""


CACHED = ("multi_head_attention_cached", "forward_cached")
"""The incremental-decoding functions: numpy_kv_cache.py adds them to numpy_rows.py."""


@pytest.mark.parametrize("example, missing", [("numpy_kv_cache.py", ()), ("numpy_rows.py", CACHED),
                                              ("torch_sdpa.py", CACHED)])
def test_a_correct_rows_implementation_passes_every_property(example, missing):
    report = verify(EXAMPLES / example, layout="rows", profile="quick", seed=0)
    assert report.missing == missing
    spec = [r for r in report.results if r.family not in CONVENTION_FAMILIES]
    lacking = [r for r in spec if set(missing) & set(properties_needs(r.name))]
    assert {r.status for r in lacking} <= {"not provided"} and (not missing or lacking)
    assert {r.status for r in spec if r not in lacking} == {"passed"}, [(r.name, r.failure) for r in report.failures()]
    assert {r.status for r in report.results if r.family in CONVENTION_FAMILIES} == {"not provided"}
    assert len(report.results) == len(properties()) and report.exit_code == 0


@pytest.mark.parametrize("example, prop", sorted(CATCHES.items()))
def test_a_buggy_implementation_fails_on_the_property_meant_to_catch_it(example, prop):
    report = verify(EXAMPLES / example, layout="rows", profile="quick", seed=0, only=[prop])
    (result,) = report.results
    assert result.status == "failed", (result.status, result.failure)
    assert result.failure.counterexample and result.failure.reproduce.endswith(f"--only {prop} --seed 0")
    assert report.exit_code == 1


def test_a_mapping_module_brings_other_names_and_argument_orders_to_the_spec():
    report = verify(EXAMPLES / "my_attention_mapping.py", layout="rows", profile="quick", seed=0)
    assert report.provides == ("softmax", "attention_pattern", "multi_head_attention")
    assert report.ok and {r.status for r in report.results} == {"passed", "not provided"}
    passed = {r.name for r in report.results if r.status == "passed"}
    assert {"agreement.softmax", "agreement.attention_pattern", "agreement.multi_head_attention"} <= passed


def test_every_buggy_example_is_listed_with_the_property_that_catches_it():
    assert sorted(p.name for p in EXAMPLES.glob("bug_*.py") if "--layout rows" in p.read_text()) == sorted(CATCHES)


def test_the_command_exits_0_on_a_correct_example_and_writes_the_json(tmp_path, capsys):
    out = tmp_path / "report.json"
    code = main(["verify", str(EXAMPLES / "numpy_rows.py"), "--layout", "rows", "--profile", "quick",
                 "--only", "causality.mask_is_upper_triangle,causality.columns_sum_to_one", "--seed", "5",
                 "--json", str(out)])
    assert code == 0
    assert "PASS" in capsys.readouterr().out
    data = json.loads(out.read_text())
    assert data["exit_code"] == 0 and data["seed"] == 5 and data["layout"] == "rows"
    assert {r["status"] for r in data["results"]} == {"passed"}


def test_the_command_exits_1_on_a_buggy_example_naming_the_property_and_how_to_reproduce(tmp_path, capsys):
    target, out = str(EXAMPLES / "bug_softmax_wrong_axis.py"), tmp_path / "report.json"
    code = main(["verify", target, "--layout", "rows", "--only", "causality.columns_sum_to_one", "--seed", "2",
                 "--profile", "quick", "--json", str(out)])
    captured = capsys.readouterr()
    printed = captured.out
    assert code == 1
    assert "failed: causality.columns_sum_to_one" in printed and "reproduce:" in printed
    assert captured.err.startswith("failed: causality.columns_sum_to_one (does not hold: ")  # streamed as found
    (result,) = json.loads(out.read_text())["results"]
    assert result["failure"]["reproduce"] == (
        f"gptspec verify {target} --layout rows --profile quick --only causality.columns_sum_to_one --seed 2"
    )


def test_an_unimportable_target_exits_2_with_a_clear_message(tmp_path, capsys):
    broken = tmp_path / "broken_impl.py"
    broken.write_text("import numpy as np\nfrom numpy import no_such_name\n")
    done = subprocess.run([sys.executable, "-m", "gptspec", "verify", str(broken)], capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith(
        f"gptspec verify: importing {broken} raised ImportError: cannot import name 'no_such_name' from 'numpy'"
    )
    assert main(["verify", "no_such_module_anywhere"]) == 2
    assert capsys.readouterr().err.startswith("gptspec verify: no module named 'no_such_module_anywhere'")


@pytest.mark.parametrize("example, convention", [
    ("sdpa_numpy_kernel.py:scaled_dot_product_attention", "sdpa"),
    ("hf_attention.py:my_attention", "hf-attention"),
])
def test_a_correct_function_in_a_convention_passes_every_property_that_applies_to_it(example, convention):
    report = verify(f"{EXAMPLES}/{example}", convention=convention, profile="quick", seed=0, jobs=2)
    ran = [r for r in report.results if r.status != "not provided"]
    assert ran and {r.status for r in ran} == {"passed"}, [(r.name, r.failure) for r in report.failures()]
    assert {"batch", "causality", "head_concat", "agreement"} <= {r.family for r in ran}
    assert ("sdpa" in {r.family for r in ran}) == (convention == "sdpa")
    assert report.framework == ("numpy" if convention == "sdpa" else "torch") and report.exit_code == 0


def test_the_command_renders_a_report_with_many_missing_functions(capsys):
    """The report's summary row of missing functions is drawn by the command end to end."""
    code = main(["verify", str(EXAMPLES / "bug_mask_constant.py"), "--layout", "rows", "--profile", "quick",
                 "--only", "softmax,sdpa,causality.mask_is_upper_triangle", "--seed", "0"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert re.search(r"… \d+ more +│ not provided", printed)  # its needs include sdpa_kernel, no spec function
