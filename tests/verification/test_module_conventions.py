"""--convention fused-linear | hf-gpt2 | qkvo-linear | transformer-lens: a factory of an nn.Module in
that layout. Real modules (HF's GPT2Attention eager and sdpa, nanoGPT's CausalSelfAttention, a
Llama-style layer, a TransformerLens-layout layer) pass with no false alarm; planted bugs fail on the
property meant to catch them; a module that does not fit its layout says which parameter and why."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys
import textwrap

import pytest

from gptspec.cli import main
from gptspec.target import TargetError
from gptspec.verification import verify

TARGETS = pathlib.Path(__file__).resolve().parent / "targets"
EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"
BUGS = TARGETS / "module_bugs.py"
ERRORS = TARGETS / "module_layout_errors.py"
FAMILIES = ["agreement.multi_head_attention", "causality", "head_concat", "batch", "shapes", "value"]
APPLIES = {"agreement.multi_head_attention", "causality.mha_future_independent", "head_concat.head_permutation",
           "shapes.multi_head_attention", "batch.mha_entries_independent"}
RANK = "value.mha_rank_at_most_heads_times_d_head"  # needs n_heads·d_head < d_model
HEADS_FILL = ("causal-only", "d_model=n_heads*d_head")


def statuses(report):
    return {r.name: r.status for r in report.results if r.status != "not provided"}


def failures(report):
    return [(r.name, r.status, r.failure and r.failure.message) for r in report.results
            if r.status not in ("passed", "not provided", "not applicable")]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("target, convention, declared", [
    ("nanogpt_module.py:make", "fused-linear", HEADS_FILL),
    ("hf_gpt2_attention.py:make_eager", "hf-gpt2", HEADS_FILL),
    ("llama_attention.py:make", "qkvo-linear", ("causal-only",)),  # takes d_head: heads need not fill d_model
    ("tl_attention.py:make", "transformer-lens", ("causal-only",)),
])
def test_a_real_module_passes_every_property_that_applies_on_several_seeds(target, convention, declared, seed):
    report = verify(f"{TARGETS}/{target}", convention=convention, profile="quick", seed=seed, only=FAMILIES, jobs=1)
    assert report.framework == "torch" and report.provides == ("multi_head_attention", "batched_multi_head_attention")
    assert report.assumptions == declared
    got = statuses(report)
    assert failures(report) == []
    assert {n for n, s in got.items() if s == "passed"} >= APPLIES
    assert got[RANK] == ("not applicable" if "d_model=n_heads*d_head" in declared else "passed")
    assert report.exit_code == 0


@pytest.mark.parametrize("target, convention, rank", [
    (f"{TARGETS}/hf_gpt2_attention.py:make_sdpa", "hf-gpt2", "not applicable"),  # no mask (None), is_causal
    # examples/README's whole code: _attn_implementation unset, so GPT2Attention runs eager
    (f"{EXAMPLES}/hf_gpt2_attention.py:make", "hf-gpt2", "not applicable"),
    (f"{TARGETS}/nanogpt_module.py:make_slow", "fused-linear", "not applicable"),  # masked softmax, tril buffer
    (f"{TARGETS}/tl_native_attention.py:make", "qkvo-linear", "passed"),  # transformer-lens 4.3's own NativeAttention
])
def test_the_other_paths_of_those_modules_and_transformer_lens_own_attention_pass_too(target, convention, rank):
    report = verify(target, convention=convention, profile="quick", seed=0, only=FAMILIES, jobs=1)
    assert failures(report) == []
    assert {n for n, s in statuses(report).items() if s == "passed"} >= APPLIES
    assert statuses(report)[RANK] == rank


def test_the_declared_domain_makes_what_cannot_be_stated_not_applicable_with_its_reason(capsys):
    report = verify(f"{TARGETS}/nanogpt_module.py:make", convention="fused-linear", profile="quick", seed=0,
                    only=[RANK, "agreement.multi_head_attention"], jobs=1)
    results = {r.name: r for r in report.results}
    assert results[RANK].status == "not applicable"
    assert results[RANK].notes == [(f"not applicable: {RANK} needs n_heads·d_head < d_model (with d_model=n_heads*d_head "
                                    "the bound says nothing)")]
    assert results["agreement.multi_head_attention"].status == "passed"
    assert results["agreement.multi_head_attention"].narrowed == ("causal=True only; d_model = n_heads·d_head: heads 1–3 "
                                                                  "of d_head 1–4")
    assert main(["verify", f"{TARGETS}/nanogpt_module.py:make", "--convention", "fused-linear", "--profile", "quick",
                 "--only", RANK, "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "assuming: causal-only, d_model=n_heads*d_head" in out and "1 not applicable" in out


@pytest.mark.parametrize("factory, convention, prop", [
    ("mask_wrong_triangle", "fused-linear", "causality.mha_future_independent"),
    ("heads_merged_wrong_order", "fused-linear", "head_concat.head_permutation"),
    ("wrong_scale", "qkvo-linear", "agreement.multi_head_attention"),
    ("q_k_swapped", "fused-linear", "agreement.multi_head_attention"),
    ("batch_cross_talk", "fused-linear", "batch.mha_entries_independent"),
    ("hf_without_mask", "hf-gpt2", "causality.mha_future_independent"),  # the mask the convention passes matters
])
def test_a_planted_module_bug_fails_on_the_property_meant_to_catch_it(factory, convention, prop):
    report = verify(f"{BUGS}:{factory}", convention=convention, profile="quick", seed=0, only=[prop], jobs=1)
    (result,) = report.results
    assert result.status == "failed", (result.status, result.failure)
    assert result.failure.reproduce == (f"gptspec verify {BUGS}:{factory} --convention {convention} "
                                        f"--profile quick --only {prop} --seed 0")  # torch: the convention's own
    assert report.exit_code == 1


def test_batch_cross_talk_is_invisible_to_every_property_but_the_batch_one():
    report = verify(f"{BUGS}:batch_cross_talk", convention="fused-linear", profile="quick", seed=0, jobs=1,
                    only=["agreement.multi_head_attention", "causality.mha_future_independent", "head_concat"])
    assert {r.status for r in report.results if r.status != "not provided"} == {"passed"}


def test_the_batch_property_is_not_provided_for_other_targets():
    for target, convention in [("examples/numpy_rows.py", None),
                               ("examples/sdpa_numpy_kernel.py:scaled_dot_product_attention", "sdpa")]:
        report = verify(target, layout="rows" if convention is None else "columns", convention=convention,
                        profile="quick", seed=0, only=["batch.mha_entries_independent"], jobs=1)
        assert [r.status for r in report.results] == ["not provided"], target


def test_a_module_in_another_layout_names_the_missing_parameter_and_what_the_layout_needs():
    with pytest.raises(TargetError) as caught:
        verify(f"{ERRORS}:llama", convention="fused-linear", profile="quick", jobs=1)
    assert str(caught.value) == (
        f"{ERRORS}:llama: the module has no parameter 'c_attn.weight', which the fused-linear layout (nanoGPT/minGPT: "
        "nn.Linear c_attn [3·d_model, d_model] (q, k, v = split), nn.Linear c_proj) holds as [3·n_heads·d_head d_model]; "
        "its parameters: q_proj.weight (4, 4), q_proj.bias (4,), k_proj.weight (4, 4), k_proj.bias (4,), "
        "v_proj.weight (4, 4), v_proj.bias (4,), o_proj.weight (4, 4), o_proj.bias (4,)"
    )


def test_a_parameter_of_the_wrong_shape_says_expected_and_got_with_the_sizes():
    with pytest.raises(TargetError) as caught:
        verify(f"{ERRORS}:nanogpt", convention="hf-gpt2", profile="quick", jobs=1)
    assert str(caught.value) == (
        f"{ERRORS}:nanogpt: parameter 'c_attn.weight' has shape (12, 4); the hf-gpt2 layout needs "
        "[d_model 3·n_heads·d_head] = (4, 12) for d_model 4, 2 heads of d_head 2"
    )


def test_a_factory_that_cannot_be_called_or_is_no_factory_is_a_load_error_exit_2(capsys):
    assert main(["verify", f"{ERRORS}:needs_config", "--convention", "hf-gpt2"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"gptspec verify: {ERRORS}:needs_config needs the argument 'config', which gptspec does not give: the factory "
        "of the hf-gpt2 convention is called with keyword arguments among d_model, n_heads, d_head, n_ctx")
    with pytest.raises(TargetError, match=r":not_a_module\(d_model=4, n_heads=2\) returned dict, not a torch\.nn\.Module$"):
        verify(f"{ERRORS}:not_a_module", convention="fused-linear", jobs=1)
    with pytest.raises(TargetError, match=r":built is a built CausalSelfAttention, not a factory: the fused-linear "
                                          r"convention takes a function that builds the module"):
        verify(f"{ERRORS}:built", convention="fused-linear", jobs=1)


def test_the_verifier_imports_neither_torch_nor_transformers_for_a_module_convention(tmp_path):
    script = textwrap.dedent(f"""
        import sys
        from gptspec.cli import main
        if __name__ == "__main__":
            code = main(["verify", "{TARGETS}/hf_gpt2_attention.py:make_eager", "--convention", "hf-gpt2",
                         "--profile", "quick", "--only", "shapes.multi_head_attention", "--jobs", "1"])
            print(code, "torch" in sys.modules, "transformers" in sys.modules)
    """)
    path = tmp_path / "run_one.py"
    path.write_text(script)
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=300, check=False)
    assert done.stdout.strip().splitlines()[-1] == "0 False False", done.stdout[-2000:] + done.stderr[-2000:]


def test_verify_help_lists_the_module_conventions(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "10000")  # argparse wraps at hyphens ("fused- linear") on a narrow terminal
    assert main(["verify", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--convention {sdpa,hf-attention,fused-linear,hf-gpt2,qkvo-linear,transformer-lens}" in text
    assert "fused-linear: PATH.py:NAME is a factory make(d_model, n_heads, [d_head, n_ctx]) of a torch.nn.Module" in text
    assert "transformer-lens: PATH.py:NAME is a factory of a module with TransformerLens' parameters W_Q" in text


def test_the_module_conventions_refuse_another_framework_or_layout():
    from gptspec.verification import OptionError

    with pytest.raises(OptionError, match="the qkvo-linear convention is torch's: --framework must be torch"):
        verify(f"{TARGETS}/llama_attention.py:make", convention="qkvo-linear", framework="numpy")
    with pytest.raises(OptionError, match="the fused-linear convention fixes its own layout"):
        verify(f"{TARGETS}/nanogpt_module.py:make", convention="fused-linear", layout="rows")


def test_the_pytest_plugin_takes_a_module_convention(tmp_path):
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:gptspec", "-p",
               "gptspec.verification.pytest_plugin", "-q", f"--gptspec-target={TARGETS}/tl_attention.py:make",
               "--gptspec-convention=transformer-lens", "--gptspec-profile=quick", "-m", "gptspec", "-k", "batch"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout


README = pathlib.Path(__file__).resolve().parents[2] / "README.md"
LAYERS = {"model.py": "nanogpt_module.py", "my_llama_layer.py": "llama_attention.py", "my_tl_layer.py": "tl_attention.py"}


def readme_module_blocks():
    """The README's module-convention examples: (file name, its code, the command's arguments, the verdict)."""
    text = README.read_text(encoding="utf-8")
    start = text.index("**nn.Modules in the common layouts.**")
    section = text[start : text.index("\n**", start + 10)]
    blocks = []
    for block in re.findall(r"```\n(# (my_\w+\.py).*?)```", section, re.DOTALL):
        body, name = block
        code, command, verdict = re.fullmatch(r"(.*?)\n\n\$ gptspec verify (.*?)\n(PASS .*?)\n", body, re.DOTALL).groups()
        blocks.append((name, code, command.split(), verdict))
    return blocks


def test_the_readme_module_examples_are_real_and_print_their_verdicts(tmp_path, monkeypatch, capsys):
    blocks = readme_module_blocks()
    assert [command[2] for _, _, command, _ in blocks] == ["hf-gpt2", "fused-linear", "qkvo-linear", "transformer-lens"]
    for file, layer in LAYERS.items():
        (tmp_path / file).write_text((TARGETS / layer).read_text())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "10000")
    for name, code, command, verdict in blocks:
        (tmp_path / name).write_text(code.split("\n", 1)[1])  # the code after its "# file.py" comment
        assert main(["verify", *command, "--profile", "quick", "--seed", "0", "--hide-missing", "--jobs", "1"]) == 0
        printed = capsys.readouterr().out.strip().splitlines()[-1]
        assert re.sub(r" in [\d.]+ s$", "", printed) == re.sub(r" in [\d.]+ s$", "", verdict)
