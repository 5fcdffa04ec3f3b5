"""Hints for a target in an ecosystem convention given without --convention: the error names
the flag to add; hf:NAME implies --convention hf-attention on the command line."""

from __future__ import annotations

import pathlib

import pytest

from gptspec.cli import main
from gptspec.target import TargetError, load

pytest.importorskip("torch")

ROOT = pathlib.Path(__file__).resolve().parents[2]
TARGETS = ROOT / "tests" / "verification" / "targets"


@pytest.mark.parametrize(("target", "name", "seen", "convention"), [
    (TARGETS / "nanogpt_module.py", "make", r"c_attn.weight \[24, 8\]", "fused-linear"),
    (TARGETS / "hf_gpt2_attention.py", "make_eager", r"c_attn.weight \[8, 24\]", "hf-gpt2"),
    (TARGETS / "llama_attention.py", "make", r"q_proj.weight \[8, 8\]", "qkvo-linear"),
    (TARGETS / "tl_attention.py", "make", r"W_Q \[2, 8, 4\]", "transformer-lens"),
    (ROOT / "examples" / "hf_attention.py", "my_attention", "module, query, key, value, attention_mask", "hf-attention"),
])
def test_a_convention_target_without_its_flag_is_told_the_flag_to_add(target, name, seen, convention):
    with pytest.raises(TargetError, match=f"{name} provides none of the spec's functions .*{seen}.* "
                                          f"add --convention {convention}$"):
        load(f"{target}:{name}")


def test_a_function_of_no_convention_gets_no_hint(tmp_path):
    plain = tmp_path / "plain.py"
    plain.write_text("def helper(x, y):\n    return x + y\n")
    with pytest.raises(TargetError) as caught:
        load(f"{plain}:helper")
    assert "add --convention" not in str(caught.value)


def test_hf_name_on_the_command_line_implies_the_hf_attention_convention(capsys):
    pytest.importorskip("transformers")
    code = main(["verify", "hf:eager", "--profile", "quick", "--seed", "0", "--jobs", "1",
                 "--only", "agreement.multi_head_attention"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "PASS hf:eager" in out
