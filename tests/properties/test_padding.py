"""The padding family: a NumPy padded batch over the reference (tests/properties/padded.py) satisfies
it, and every planted bug (positions that ignore the padding, pad keys not masked, a cached step whose
position counts the pads) is found by the property meant for it."""

import numpy as np

from gptspec import Config, impl

from .padded import padded_model
from .planting import family_tests

test_reference_satisfies, test_planted_bug_is_found, test_planted_bug_needs_what_it_is_marked_with = family_tests(
    "padding", references={"numpy": padded_model},
    provides={"numpy": ("forward", "forward_padded", "forward_padded_cached")},
)


def test_the_numpy_padded_batch_gives_each_sequence_what_it_gets_alone():
    from gptspec.properties.padding import pad

    w = impl.random_weights(Config(vocab=5, d_model=4, n_heads=2, d_head=2, n_ctx=6, n_layers=2, d_mlp=3), 1,
                            dtype=np.float64)
    sequences = (np.array([1, 2, 3]), np.array([4]))
    tokens, mask = pad(sequences, "left", 0)
    logits = padded_model().forward_padded(tokens, mask, w)
    np.testing.assert_allclose(logits[1][:, 2:], impl.forward(sequences[1], w), rtol=1e-12, atol=1e-12)
    wrong = padded_model(positions_ignore_padding=True).forward_padded(tokens, mask, w)
    assert not np.allclose(wrong[1][:, 2:], impl.forward(sequences[1], w))
