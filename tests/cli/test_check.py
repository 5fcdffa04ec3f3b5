import pathlib

from gptspec.cli import main

EXAMPLE = pathlib.Path(__file__).parents[2] / "examples" / "bug_mha_output_transposed.py"


def run(capsys, *argv):
    code = main(["check", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_gpt3_passes_with_flow_memory_and_layer_count(capsys):
    code, out, _ = run(capsys, "--config", "gpt3", "--flow", "calls")
    assert code == 0
    assert "passed: 96 layers, logits [vocab ctx] = 50,257 × 2,048" in out
    assert "W_Q          [n_heads d_head d_model]   96 × 128 × 12,288" in out
    assert "weights" in out and "700.9 GB" in out and "350.4 GB" in out and "peak RSS" in out


def test_custom_dims_and_ctx(capsys):
    code, out, _ = run(capsys, "--config", "gpt2-small", "--n-layers", "2", "--ctx", "7", "--flow", "none")
    assert code == 0 and "passed: 2 layers, logits [vocab ctx] = 50,257 × 7" in out


def test_a_shape_bug_exits_1_naming_function_layer_and_dim(capsys):
    code, out, _ = run(capsys, "--target", str(EXAMPLE))
    assert code == 1
    assert "FAILED at full size (float32 weights): layer 0 › block › multi_head_attention: " in out
    assert "return value axis 0 is d_model = 12288 (bound by E), got 2048" in out


def test_target_functions_outside_the_forward_pass_are_called_alone(capsys, tmp_path):
    target = tmp_path / "one_head.py"
    target.write_text(
        "from gptspec import impl\n"
        "attention_head = impl.attention_head\n"
        "def sample(logits, temperature, rng):\n"
        "    return 0\n"
    )
    code, out, _ = run(capsys, "--config", "gpt2-small", "--target", str(target), "--flow", "none")
    assert code == 0
    assert "also called once at full size: attention_head" in out
    assert "not checked here: sample" in out


def test_bad_arguments_and_unloadable_targets_exit_2(capsys):
    for argv, says in (
        (["--target", "no_such_module_xyz"], "no module named 'no_such_module_xyz'"),
        (["--target", "missing/file.py"], "no such file"),
        (["--target", str(EXAMPLE.with_name("torch_sdpa.py"))], "uses torch; check runs NumPy implementations"),
        (["--layout", "rows"], "--layout rows is not supported by check"),
        (["--ctx", "0"], "--ctx must satisfy 1 <= ctx <= n_ctx = 2048"),
        (["--config", "nope"], "unknown config 'nope'"),
    ):
        code, _, err = run(capsys, *argv)
        assert code == 2 and says in err, argv
