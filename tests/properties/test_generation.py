"""The generation family: a NumPy generate over the reference satisfies it, and every planted bug
(the argmax of the first column, sampling at T = 0, logits times T, the k + 1 largest kept) is found."""

from .mutants import GENERATORS
from .planting import family_tests

test_reference_satisfies, test_planted_bug_is_found, test_planted_bug_needs_what_it_is_marked_with = family_tests(
    "generation", references={"numpy": lambda: GENERATORS["generate"]}, provides={"numpy": ("generate",)}
)


def test_spread_scales_the_last_logits_to_the_width_asked_and_leaves_equal_logits_alone():
    import dataclasses

    import numpy as np
    from hypothesis import given, settings

    from gptspec import impl
    from gptspec.properties.generation import spread
    from gptspec.properties.strategies import configs, recipes
    from gptspec.properties.coded import UNIT
    from gptspec.spec import Weights

    @settings(max_examples=20, deadline=None, database=None)
    @given(configs(min_vocab=3), recipes(UNIT))
    def check(c, recipe):
        weights = recipe.build(Weights, c, np.dtype("float64"))
        tokens = np.arange(min(2, c.n_ctx)) % c.vocab
        before = impl.forward(tokens, weights)[:, -1]
        after = impl.forward(tokens, spread(weights, tokens, 2.0))[:, -1]
        width = float(np.ptp(before))
        if 2.0 / 100.0 <= width:  # within the most it scales by: the width asked, the order kept
            assert np.isclose(np.ptp(after), 2.0, rtol=1e-9)
            assert np.array_equal(np.argsort(after, kind="stable"), np.argsort(before, kind="stable"))
        flat = dataclasses.replace(weights, W_U=np.zeros_like(weights.W_U))  # every logit 0: nothing to spread
        assert spread(flat, tokens, 2.0) is flat

    check()
