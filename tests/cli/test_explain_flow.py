"""`gptspec explain --flow`: one block step by step, with symbols and the config's sizes."""

from __future__ import annotations

from gptspec.cli import main
from gptspec.spec.flow import block_flow


def flow_rows(capsys, *argv: str) -> dict[str, str]:
    """The printed table's rows by step name (first cell), from the captured output."""
    assert main(["explain", "--flow", *argv]) == 0
    rows = {}
    for line in capsys.readouterr().out.splitlines():
        cells = [c.strip() for c in line.split("│")]
        if len(cells) > 2 and cells[1]:
            rows[cells[1]] = line
    return rows


def test_every_step_is_printed_with_its_symbols_and_gpt2_small_sizes(capsys):
    rows = flow_rows(capsys, "--config", "gpt2-small", "--ctx", "5")
    for step in block_flow():
        assert step.name in rows, step.name
        assert f"[{step.dims}]" in rows[step.name]
    assert "768 × 5" in rows["E"]
    assert "64 × 5  (× 12 heads)" in rows["Q_h"]
    assert "5 × 5  (× 12 heads)" in rows["A_h"]
    assert "Pattern" in rows["A_h"]
    assert "3,072 × 5" in rows["GELU"]


def test_d_model_and_the_concatenated_heads_are_told_apart(capsys):
    sizes = ("--d-model", "10", "--n-heads", "3", "--d-head", "4", "--ctx", "2")
    rows = flow_rows(capsys, "--config", "gpt2-small", *sizes)
    assert "12 × 2" in rows["concat_h"]
    assert "10 × 2" in rows["ΔE_attn"]


def test_without_flow_explain_prints_the_tensor_tables_not_the_flow(capsys):
    assert main(["explain", "--config", "gpt2-small"]) == 0
    out = capsys.readouterr().out
    assert "Parameters of gpt2-small" in out
    assert "step by step" not in out
