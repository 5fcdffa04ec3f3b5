"""The pytest plugin: inert without --gptspec-target; with it, one item per property, under xdist too."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

from gptspec.properties.catalogue import properties

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


def pytest_run(folder: pathlib.Path, *args: str) -> subprocess.CompletedProcess[str]:
    """pytest in a fresh process, in ``folder``, with the plugin loaded from its entry point."""
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rfEs", *args]
    return subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=120)


def test_without_a_target_the_plugin_adds_nothing(tmp_path):
    (tmp_path / "test_alone.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
    done = pytest_run(tmp_path, "--co")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "test_alone.py::test_one" in done.stdout and "gptspec" not in done.stdout
    assert "1 test collected" in done.stdout


def test_each_property_is_an_item_and_failures_carry_the_counterexample_under_xdist(tmp_path):
    target = EXAMPLES / "bug_softmax_wrong_axis.py"
    done = pytest_run(tmp_path, f"--gptspec-target={target}", "--gptspec-layout=rows", "--gptspec-profile=quick",
                      "-n", "2", "-m", "gptspec")
    out = done.stdout
    assert done.returncode == 1, out + done.stderr
    failed = sorted(set(re.findall(r"FAILED gptspec::(\S+)", out)))
    assert "causality.columns_sum_to_one" in failed
    provided = ("attention_pattern",)
    applicable = [p for p in properties() if all(n in provided for n in p.needs)]
    counts = dict((what, int(n)) for n, what in re.findall(r"(\d+) (passed|failed|skipped)", out))
    assert counts["passed"] + counts["failed"] == len(applicable)
    assert counts["skipped"] == len(properties()) - len(applicable)
    assert "not provided: softmax.sums_to_one needs softmax" in out
    assert "does not hold: " in out and "minimal counterexample (rows layout, as your functions receive these arrays: tokens are rows):" in out
    seeds = set(re.findall(r"reproduce: gptspec verify .* --only \S+ --seed (\d+)", out))
    assert len(seeds) == 1  # both workers searched with the controller's seed


def test_a_target_that_cannot_be_loaded_is_a_usage_error(tmp_path):
    done = pytest_run(tmp_path, "--gptspec-target=no_such_module_for_the_plugin")
    assert done.returncode == 4
    assert "--gptspec-target: no module named 'no_such_module_for_the_plugin'" in done.stderr


def test_loading_the_plugin_imports_neither_hypothesis_nor_the_engine():
    """pytest loads the plugin in every run where gptspec is installed: it must stay cheap."""
    probe = ("import sys, gptspec.verification.pytest_plugin as p, pytest; "
             "print(sorted(m for m in ('hypothesis', 'gptspec.verification.session', 'gptspec.properties.registry') "
             "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_a_hang_is_an_error_and_the_run_goes_on(tmp_path):
    target = pathlib.Path(__file__).resolve().parent / "targets" / "sleeps.py"
    done = pytest_run(tmp_path, f"--gptspec-target={target}", "--gptspec-profile=quick", "--gptspec-timeout=0.5",
                      "-m", "gptspec", "-k", "sums_to_one or non_negative")
    assert done.returncode == 1, done.stdout + done.stderr
    assert len(re.findall(r"FAILED gptspec::softmax\.(sums_to_one|non_negative)", done.stdout)) == 2
    assert "timed out in softmax: no answer in 0.5 s: killed" in done.stdout


def test_the_plugin_takes_the_declared_domain_and_strict(tmp_path):
    target = pathlib.Path(__file__).resolve().parents[1] / "examples" / "nanogpt_attention.py"
    done = pytest_run(tmp_path, "-p", "no:gptspec", "-p", "gptspec.verification.pytest_plugin",
                      f"--gptspec-target={target}", "--gptspec-layout=rows", "--gptspec-profile=quick",
                      "--gptspec-assume=causal-only", "--gptspec-assume", "d_model=n_heads*d_head", "--gptspec-strict",
                      "-m", "gptspec", "-k", "mha_rank or masked_entries or cross_attention_unmasked", "-v")
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "assuming causal-only, d_model=n_heads*d_head; strict" in out
    assert "not applicable: value.mha_rank_at_most_heads_times_d_head needs n_heads·d_head < d_model" in out
    assert "1 passed" in out


def test_an_unknown_assumption_is_a_usage_error(tmp_path):
    done = pytest_run(tmp_path, "-p", "no:gptspec", "-p", "gptspec.verification.pytest_plugin",
                      "--gptspec-target=gptspec.impl", "--gptspec-assume=causal")
    assert done.returncode == 4
    assert "unknown assumption 'causal'; known: causal-only" in done.stderr
