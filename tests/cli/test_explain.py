import json

from gptspec.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_gpt3_table_by_category_and_total(capsys):
    code, out, _ = run(capsys, "explain", "--config", "gpt3")
    assert code == 0
    for text in ("617,558,016", "14,495,514,624", "57,982,058,496", "175,181,291,520", "175,217,098,752"):
        assert text in out
    for name in ("embedding", "key", "query", "value-down", "value-up (output)", "MLP up", "MLP down", "unembedding"):
        assert name in out
    assert "[d_model vocab]" in out and "12,288 × 50,257" in out


def test_custom_dims_from_flags(capsys):
    code, out, _ = run(capsys, "explain", "--config", "gpt2-small", "--n-layers", "2", "--ctx", "8")
    assert code == 0
    assert "768 × 8" in out  # E under ctx = 8


def test_config_file(capsys, tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"vocab": 10, "d_model": 6, "n_heads": 2, "d_head": 4, "n_ctx": 5, "n_layers": 1, "d_mlp": 12}))
    code, out, _ = run(capsys, "explain", "--config-file", str(path))
    assert code == 0 and "6 × 8" in out  # W_O is d_model × n_heads·d_head


def test_bad_config_exits_2_with_a_clear_message(capsys):
    code, _, err = run(capsys, "explain", "--config", "nope")
    assert code == 2 and "unknown config 'nope'" in err
    code, _, err = run(capsys, "explain", "--d-model", "0")
    assert code == 2 and "d_model must be a positive integer" in err


def test_unknown_command_exits_2(capsys):
    code, _, _ = run(capsys, "frobnicate")
    assert code == 2


def test_the_kv_cache_is_listed_with_what_the_context_has_left(capsys):
    code, out, _ = run(capsys, "explain", "--config", "gpt2-small", "--ctx", "1000")
    assert code == 0
    rows = [line for line in out.splitlines() if "K_past" in line or "V_past" in line]
    assert len(rows) == 2 and all("[n_heads d_head ctx_past]" in r and "12 × 64 × 24" in r for r in rows)
    assert all("cache, per layer" in r for r in rows)
