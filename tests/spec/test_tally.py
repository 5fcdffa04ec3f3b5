import numpy as np

from gptspec import GPT3, tally
from gptspec.impl import random_weights
from tests.helpers import TINY


def test_gpt3_by_category_matches_the_video():
    t = tally(GPT3)
    assert t["embedding"] == 617_558_016
    for name in ("key", "query", "value-down", "value-up (output)"):
        assert t[name] == 14_495_514_624
    assert t["MLP up"] == t["MLP down"] == 57_982_058_496
    assert t["unembedding"] == 617_558_016
    assert t.total == 175_181_291_520


def test_total_all_adds_biases_norms_positions():
    t = tally(GPT3)
    extras = 96 * (49152 + 12288) + (2 * 96 + 1) * 2 * 12288 + 12288 * 2048
    assert t.total_all == t.total + extras


def test_total_all_counts_exactly_the_numbers_of_a_weights_container():
    for config in (TINY, TINY.replace(d_model=10, n_heads=3, d_head=4)):
        weights = random_weights(config, 0, dtype=np.float32)
        assert tally(config).total_all == weights.n_params()


def test_output_matrix_uses_n_heads_times_d_head_not_d_model():
    c = TINY.replace(d_model=10, n_heads=3, d_head=4)
    assert tally(c)["value-up (output)"] == c.n_layers * 10 * 12
