"""--convention sdpa and hf-attention: real torch SDPA and HF's own functions pass, planted kernel
bugs fail on the property meant to catch them, and the verifier never imports torch for them."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import textwrap

import pytest

from gptspec.cli import main
from gptspec.properties.catalogue import properties
from gptspec.target import TargetError, address, load_object
from gptspec.verification import OptionError, verify

ROOT = pathlib.Path(__file__).resolve().parents[2]
KERNELS = ROOT / "tests" / "properties" / "kernels.py"
SDPA = "torch.nn.functional:scaled_dot_product_attention"
ATTENTION = ("attention_pattern", "attention_head", "cross_attention_head", "multi_head_attention")


def test_torch_sdpa_itself_passes_every_property_that_applies_to_it():
    report = verify(SDPA, convention="sdpa", profile="quick", seed=0, jobs=2)
    assert report.framework == "torch" and set(report.provides) == {*ATTENTION, "batched_attention", "sdpa_kernel"}
    ran = [r for r in report.results if r.status != "not provided"]
    assert {r.status for r in ran} == {"passed"}, [(r.name, r.failure) for r in report.failures()]
    families = {r.family for r in ran}
    assert {"sdpa", "batch", "causality", "head_concat", "agreement", "shapes", "value"} <= families
    assert len(ran) == len([p for p in properties() if set(p.needs) <= set(report.provides)])
    assert report.exit_code == 0


@pytest.mark.parametrize("name", ["hf:eager", "hf:sdpa"])
def test_hf_own_attention_functions_pass_with_the_mask_hf_builds_for_them(name):
    only = ["agreement.attention_pattern", "agreement.multi_head_attention", "causality.masked_entries_zero",
            "causality.cross_attention_unmasked", "head_concat.sum_of_heads", "batch"]
    report = verify(name, convention="hf-attention", profile="quick", seed=0, only=only)
    assert report.framework == "torch" and "sdpa_kernel" not in report.provides
    ran = [r for r in report.results if r.name != "batch.mha_entries_independent"]  # a module convention's
    assert [r.status for r in ran] == ["passed"] * 7, [(r.name, r.failure) for r in report.failures()]


@pytest.mark.parametrize("kernel, prop", [
    ("kernel_scale_by_length", "sdpa.default_scale"),
    ("kernel_mask_transposed", "sdpa.is_causal_equals_causal_mask"),
    ("kernel_causal_off_by_one", "causality.columns_sum_to_one"),
    ("kernel_batch_cross_talk", "batch.entries_independent"),
    ("kernel_ignores_scale", "sdpa.scale_multiplies_scores"),  # an example that is a tuple: reported as it is
])
def test_a_planted_kernel_bug_fails_on_the_property_meant_to_catch_it(kernel, prop):
    report = verify(f"{KERNELS}:{kernel}", convention="sdpa", profile="quick", seed=0, only=[prop])
    (result,) = report.results
    assert result.status == "failed", (result.status, result.failure)
    assert result.failure.reproduce == (
        f"gptspec verify {KERNELS}:{kernel} --convention sdpa --framework torch --profile quick --only {prop} --seed 0"
    )
    # the kernel's own [batch heads L D] arrays are not shown as if they were the spec's columns
    kernel_arrays = prop.split(".")[0] in ("sdpa", "batch")
    assert ("as the convention's kernel receives them" in result.failure.heading) == kernel_arrays
    assert ("spec layout, columns are tokens" in result.failure.heading) == (not kernel_arrays)
    assert report.exit_code == 1


def test_the_verifier_imports_neither_torch_nor_transformers_for_a_numpy_target_a_convention_or_a_model(tmp_path):
    script = textwrap.dedent(f"""
        import sys
        from gptspec.cli import main
        if __name__ == "__main__":
            codes = [
                main(["verify", "{ROOT}/examples/numpy_rows.py", "--layout", "rows", "--profile", "quick",
                      "--only", "causality.mask_is_upper_triangle", "--jobs", "1"]),
                main(["verify", "{ROOT}/examples/sdpa_numpy_kernel.py:scaled_dot_product_attention", "--convention",
                      "sdpa", "--profile", "quick", "--only", "sdpa.default_scale", "--jobs", "1"]),
                main(["verify", "hf:eager", "--convention", "hf-attention", "--profile", "quick",
                      "--only", "batch.heads_independent", "--jobs", "1"]),
                main(["verify", "hf:gpt2", "--profile", "quick", "--only", "shapes.forward", "--jobs", "1"]),
                main(["verify", "tl:gpt2", "--profile", "quick", "--only", "shapes.forward", "--jobs", "1"]),
            ]
            loaded = [name in sys.modules for name in ("torch", "transformers", "transformer_lens")]
            print(codes, *loaded)
    """)
    path = tmp_path / "run_three.py"
    path.write_text(script)
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=300)
    assert done.stdout.strip().splitlines()[-1] == "[0, 0, 0, 0, 0] False False False", \
        done.stdout[-2000:] + done.stderr[-2000:]


def test_an_unknown_convention_or_contradicting_options_are_option_errors():
    with pytest.raises(OptionError, match=r"^unknown convention 'flash'; conventions: sdpa, hf-attention, fused-linear, hf-gpt2, "
                                          r"qkvo-linear, transformer-lens$"):
        verify(SDPA, convention="flash")
    with pytest.raises(OptionError, match="the sdpa convention fixes its own layout"):
        verify(SDPA, convention="sdpa", layout="rows")
    with pytest.raises(OptionError, match="the hf-attention convention is torch's"):
        verify("hf:eager", convention="hf-attention", framework="numpy")
    with pytest.raises(OptionError, match=r"hf:eager names a function registered with Hugging Face transformers' "
                                          r"AttentionInterface: verify it with --convention hf-attention"):
        verify("hf:eager")


def test_a_target_without_the_named_attribute_or_not_a_function_says_so_and_exits_2(capsys):
    with pytest.raises(TargetError, match=r"^examples/sdpa_numpy_kernel\.py has no attribute 'attention'$"):
        load_object("examples/sdpa_numpy_kernel.py:attention")
    with pytest.raises(TargetError, match=r"^hf:nope: no attention function is registered under 'nope'"):
        load_object("hf:nope")
    assert main(["verify", f"{ROOT}/examples/sdpa_numpy_kernel.py:attention", "--convention", "sdpa"]) == 2
    assert capsys.readouterr().err.strip() == f"gptspec verify: {ROOT}/examples/sdpa_numpy_kernel.py has no attribute 'attention'"
    assert main(["verify", f"{ROOT}/examples/sdpa_numpy_kernel.py", "--convention", "sdpa"]) == 2
    assert "is a module, not a function: the sdpa convention takes one function" in capsys.readouterr().err


def test_an_attribute_is_selected_by_a_trailing_colon_name_and_a_drive_letter_is_not_one():
    where = address(f"{KERNELS}:kernel_ignores_scale")
    assert (where.kind, where.value, where.attribute) == ("path", str(KERNELS), "kernel_ignores_scale")
    assert address("torch.nn.functional:scaled_dot_product_attention").kind == "module"
    assert address("hf:sdpa").kind == "hf"
    assert address(str(ROOT / "examples" / "numpy_rows.py")).attribute is None


def test_verify_help_lists_the_conventions(capsys):
    assert main(["verify", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--convention {sdpa,hf-attention," in text  # then the module conventions (test_module_conventions)
    assert "sdpa: PATH.py:NAME or module:NAME is a function with torch.nn.functional.scaled_dot_product_attention's" in text
    assert "hf-attention: PATH.py:NAME, module:NAME or hf:NAME (hf:eager, hf:sdpa)" in text


def test_the_pytest_plugin_takes_the_convention(tmp_path):
    target = f"{ROOT}/examples/sdpa_numpy_kernel.py:scaled_dot_product_attention"
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:gptspec", "-p",
               "gptspec.verification.pytest_plugin", "-q", f"--gptspec-target={target}", "--gptspec-convention=sdpa",
               "--gptspec-profile=quick", "-m", "gptspec", "-k", "sdpa or batch"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "8 passed" in done.stdout  # sdpa.*: 6 with sdpa.query_block_after_cache; batch.*: 2 of 3


def test_a_failure_of_an_entry_point_property_keeps_its_example_as_drawn():
    from gptspec.properties.catalogue import get
    from gptspec.verification.runner import as_arguments

    example = ("inputs", 0.5)  # sdpa_kernel has no spec signature whose parameter names could label it
    assert as_arguments(get("sdpa.scale_multiplies_scores"), example) is example


def test_an_example_is_named_by_the_signature_only_where_it_binds_to_it():
    """Both ways: agreement.sample's example is sample's (logits, T, seed of the rng) and is named so; a
    tuple that leaves a parameter without a default unfilled is kept as drawn, never misnamed."""
    import numpy as np

    from gptspec.properties.catalogue import get
    from gptspec.verification.runner import as_arguments

    logits = np.array([0.0, 1e-9])
    named = as_arguments(get("agreement.sample"), (logits, 0.0, 13400))
    assert list(named) == ["logits", "temperature", "rng"] and named["temperature"] == 0.0
    short = (logits, 13400)  # what agreement.sample drew before: 13400 was once shown as the temperature
    assert as_arguments(get("agreement.sample"), short) is short
    softmax_only_x = (logits,)  # softmax's temperature and axis have defaults: x alone binds
    assert list(as_arguments(get("agreement.softmax"), softmax_only_x)) == ["x"]
