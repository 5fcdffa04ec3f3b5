"""The strategies reach what the spec and the issue ask for, stay legal, and shrink to small examples."""

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis.errors import NoSuchExample

from gptspec.properties.registry import PropertyFailure, get
from gptspec.properties.strategies import (
    Recipe,
    arguments,
    configs,
    heads,
    logit_vectors,
    models,
    reach,
    sample_temperatures,
    temperatures,
)
from gptspec.spec import SIGNATURES, Config, Weights, bind, check_call
from gptspec.spec import signatures as S

from .mutants import MUTANTS

SEARCH = settings(
    max_examples=300, database=None, derandomize=True, suppress_health_check=list(HealthCheck),
    phases=[Phase.generate],  # found is enough; shrinking is tested below
)
SHRINK = settings(SEARCH, phases=[Phase.generate, Phase.shrink], print_blob=False)


def max_score(h):
    Q, K = h.W_Q.astype(np.float64) @ h.E, h.W_K.astype(np.float64) @ h.E
    return float(np.max(np.abs(K.T @ Q))) / np.sqrt(Q.shape[0])


def test_configs_include_d_model_unequal_and_equal_to_heads_times_d_head():
    find(configs(), lambda c: c.d_model != c.n_heads * c.d_head, settings=SEARCH)
    find(configs(), lambda c: c.d_model == c.n_heads * c.d_head and c.n_heads > 1, settings=SEARCH)


def test_heads_reach_ctx_1_and_scores_of_1e5_and_beyond():
    find(heads(), lambda h: h.E.shape[1] == 1, settings=SEARCH)
    find(heads(), lambda h: max_score(h) >= 1e5 and h.E.dtype == np.float32, settings=SEARCH)
    find(heads(), lambda h: max_score(h) >= 1e5 and h.E.dtype == np.float64, settings=SEARCH)


def test_without_extremes_scores_stay_small():
    with reach(extremes=False), pytest.raises(NoSuchExample):
        find(heads(), lambda h: max_score(h) > 1e3, settings=SEARCH)


def gap_at_top(x):
    top = np.sort(x.astype(np.float64))[::-1]
    return top[0] - top[1] if x.shape[0] > 1 else np.inf


def test_logits_have_ties_and_near_ties_at_the_top_and_only_with_near_ties():
    find(logit_vectors(), lambda x: gap_at_top(x) == 0, settings=SEARCH)
    find(logit_vectors(), lambda x: 0 < gap_at_top(x) < 1e-6 * max(1.0, np.max(np.abs(x))), settings=SEARCH)
    with reach(near_ties=False, extremes=False), pytest.raises(NoSuchExample):
        find(logit_vectors(), lambda x: 0 < gap_at_top(x) < 0.25, settings=SEARCH)


def test_temperatures_reach_near_zero_and_near_the_sample_bounds():
    find(temperatures(), lambda t: 0 < t <= 1e-6, settings=SEARCH)
    find(sample_temperatures(), lambda t: 1.999 <= t <= 2.0, settings=SEARCH)
    find(sample_temperatures(), lambda t: 0 < t <= 1e-6, settings=SEARCH)


@pytest.mark.parametrize("name", list(SIGNATURES))
def test_arguments_drawn_from_a_signature_satisfy_it(name):
    @settings(max_examples=15, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    @given(arguments(SIGNATURES[name]))
    def check(args):
        check_call(SIGNATURES[name], *args)

    check()


@settings(max_examples=15, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(models())
def test_models_are_legal_under_their_own_config(m):
    with bind(m.config):
        check_call(S.forward, m.tokens, m.weights)


def test_a_recipe_rebuilds_the_same_weights():
    config = Config(vocab=3, d_model=4, n_heads=2, d_head=3, n_ctx=5, n_layers=2, d_mlp=6)
    r = Recipe(seed=3, kind="integers", magnitude=10.0)
    a, b = r.build(Weights, config, np.dtype(np.float32)), r.build(Weights, config, np.dtype(np.float32))
    assert all(np.array_equal(x, y) for (_, x), (_, y) in zip(a.arrays(), b.arrays()))
    assert {float(v) for _, x in a.arrays() for v in np.unique(x)} <= {10.0 * k for k in range(-3, 4)}


def shrunk(prop_name, bug):
    """The counterexample Hypothesis ends on (shrinking on) for a property and a planted bug."""
    seen = []
    test = get(prop_name).hypothesis_test(MUTANTS[bug], settings=SHRINK, on_example=seen.append)
    with pytest.raises(PropertyFailure):
        test()
    return seen[-1]


def test_shrinking_a_wrong_triangle_ends_on_one_dim_two_positions_and_zeros():
    qk = shrunk("causality.masked_entries_zero", "mask_wrong_triangle")
    assert qk.Q.shape == (1, 2) and qk.K.shape == (1, 2)
    assert not qk.Q.any() and not qk.K.any()  # even all-zero scores expose the wrong triangle


def test_shrinking_a_finite_mask_ends_on_two_positions_and_one_large_score():
    qk = shrunk("causality.masked_entries_zero", "mask_minus_1e4")
    assert qk.Q.shape[1] == 2 and qk.Q.shape[0] <= 2
    assert np.count_nonzero(qk.Q) + np.count_nonzero(qk.K) <= 2
    scores = qk.K.astype(np.float64).T @ qk.Q
    assert np.min(np.diag(scores)) <= -1e4  # the query's only allowed score sits below the mask constant
