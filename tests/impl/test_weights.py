import numpy as np

from gptspec import tally
from gptspec.impl import random_weights
from tests.helpers import TINY


def test_random_weights_have_the_spec_shapes_and_dtype():
    w = random_weights(TINY.replace(d_model=10, n_heads=3, d_head=4), 1, dtype=np.float64)
    assert w.W_E.shape == (10, 13) and w.W_U.shape == (13, 10) and w.W_pos.shape == (10, 6)
    assert w.blocks[0].W_Q.shape == (3, 4, 10) and w.blocks[0].W_O.shape == (10, 12)
    assert all(a.dtype == np.float64 for _, a in w.arrays())
    assert w.n_layers == 2


def test_seeded_and_reproducible():
    a, b = random_weights(TINY, 7), random_weights(TINY, 7)
    assert all(np.array_equal(x, y) for (_, x), (_, y) in zip(a.arrays(), b.arrays()))
    assert not np.array_equal(random_weights(TINY, 8).W_E, a.W_E)


def test_count_matches_tally():
    assert random_weights(TINY, 0).n_params() == tally(TINY).total_all
