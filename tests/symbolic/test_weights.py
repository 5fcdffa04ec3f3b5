import numpy as np

from gptspec import GPT2_SMALL, GPT3, tally
from gptspec.spec import has_values
from gptspec.symbolic.weights import shape_only_tokens, shape_only_weights


def test_shape_only_weights_hold_every_parameter_of_the_tally():
    for config in (GPT3, GPT2_SMALL):
        weights = shape_only_weights(config)
        assert weights.n_layers == config.n_layers
        assert weights.n_params() == tally(config).total_all


def test_shapes_and_dtype_follow_the_config():
    weights = shape_only_weights(GPT3, np.float16)
    assert weights.W_E.shape == (12288, 50257) and weights.W_U.shape == (50257, 12288)
    assert weights.blocks[95].W_O.shape == (12288, 96 * 128) and weights.blocks[0].W_up.shape == (49152, 12288)
    assert all(a.dtype == np.float16 and not has_values(a) for _, a in weights.arrays())


def test_tokens_have_a_length_and_an_integer_dtype_but_no_values():
    tokens = shape_only_tokens(2048)
    assert tokens.shape == (2048,) and tokens.dtype.kind == "i" and not has_values(tokens)
