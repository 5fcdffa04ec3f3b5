import json

import pytest

from gptspec import GPT2_SMALL, GPT3, Config, ConfigError, get_config
from gptspec.spec import config_from_file, config_from_mapping


def test_gpt3_has_the_video_numbers():
    assert (GPT3.vocab, GPT3.d_model, GPT3.n_heads, GPT3.d_head) == (50257, 12288, 96, 128)
    assert (GPT3.n_ctx, GPT3.n_layers, GPT3.d_mlp) == (2048, 96, 49152)


def test_gpt2_small_numbers():
    assert (GPT2_SMALL.d_model, GPT2_SMALL.n_heads, GPT2_SMALL.d_head, GPT2_SMALL.n_ctx) == (768, 12, 64, 1024)


@pytest.mark.parametrize("name, expected", [("gpt3", GPT3), ("GPT-3", GPT3), ("gpt2-small", GPT2_SMALL), ("gpt2_small", GPT2_SMALL)])
def test_lookup_by_name(name, expected):
    assert get_config(name) is expected


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ConfigError, match="known configs: gpt2-small, gpt3"):
        get_config("gpt4")


@pytest.mark.parametrize("field, value", [("d_model", 0), ("n_heads", -1), ("vocab", 2.5), ("d_head", True), ("n_ctx", "8")])
def test_fields_must_be_positive_integers_and_the_error_names_the_field(field, value):
    with pytest.raises(ConfigError, match=f"Config.{field} must be a positive integer"):
        GPT2_SMALL.replace(**{field: value})


def test_config_errors_are_value_errors():
    with pytest.raises(ValueError):
        Config(vocab=0, d_model=1, n_heads=1, d_head=1, n_ctx=1, n_layers=1, d_mlp=1)


def test_d_model_need_not_equal_heads_times_d_head():
    c = Config(vocab=10, d_model=10, n_heads=3, d_head=4, n_ctx=5, n_layers=1, d_mlp=7)
    assert c.d_attn == 12 != c.d_model


def test_mapping_overrides_a_base():
    c = config_from_mapping({"d_model": 64, "n_heads": 2, "d_head": 32}, base=GPT2_SMALL)
    assert (c.d_model, c.n_heads, c.d_head, c.vocab) == (64, 2, 32, 50257)


def test_mapping_rejects_unknown_and_missing_fields():
    with pytest.raises(ConfigError, match="unknown config field"):
        config_from_mapping({"d_modle": 3}, base=GPT3)
    with pytest.raises(ConfigError, match="missing field"):
        config_from_mapping({"d_model": 3})


def test_config_file(tmp_path):
    path = tmp_path / "small.json"
    path.write_text(json.dumps({"base": "gpt2-small", "n_layers": 2, "name": "two-layer"}))
    c = config_from_file(path)
    assert (c.n_layers, c.d_model, c.name) == (2, 768, "two-layer")


def test_config_file_errors_are_clear(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        config_from_file(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        config_from_file(bad)
