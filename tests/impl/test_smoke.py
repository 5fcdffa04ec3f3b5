import numpy as np

from gptspec import Config, impl


def test_forward_runs_on_a_tiny_config():
    config = Config(vocab=11, d_model=8, n_heads=2, d_head=3, n_ctx=6, n_layers=2, d_mlp=16)
    logits = impl.forward(np.array([1, 2, 3]), impl.random_weights(config, 0))
    assert logits.shape == (11, 3)
