"""The strategies reach what the spec and the issue ask for, stay legal, and shrink to small examples."""

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from gptspec.properties.catalogue import get
from gptspec.properties.registry import PropertyFailure
from gptspec.properties.strategies import (
    Recipe,
    arguments,
    arrays,
    configs,
    heads,
    logit_vectors,
    models,
    multi_heads,
    reach,
    sample_temperatures,
    softmax_inputs,
    temperatures,
    tokens,
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


@given(st.data())
@settings(max_examples=60, database=None, suppress_health_check=list(HealthCheck))
def test_configs_draw_only_the_fields_a_caller_uses_and_leave_the_rest_where_any_ctx_fits(data):
    full = data.draw(configs())
    assert 1 <= full.n_ctx <= 5 and 1 <= full.vocab <= 6
    c = data.draw(configs(uses=("d_head",)))
    assert (c.vocab, c.d_model, c.n_heads, c.n_layers, c.d_mlp) == (1, 1, 1, 1, 1)
    assert c.n_ctx == 5  # a bound nobody draws is at its largest: every ctx from 1 to 5 fits it


def test_only_the_drawn_fields_vary_and_each_costs_one_choice():
    from hypothesis.control import current_build_context

    lengths = {}
    for uses in (("d_head",), ("d_model", "n_heads", "d_head"), None):
        strategy = configs() if uses is None else configs(uses=uses)

        @given(strategy)
        @settings(max_examples=5, database=None, phases=[Phase.generate])
        def choices(c):
            lengths[uses] = len(current_build_context().data.choices)

        choices()
    assert lengths == {("d_head",): 1, ("d_model", "n_heads", "d_head"): 3, None: 7}


def test_config_fields_are_read_from_the_annotations():
    from gptspec.properties.strategies import CONFIG_FIELDS, config_fields
    from gptspec.spec import BlockWeights
    from gptspec.spec.hints import Plan

    def of(fn):
        return {f for hint in Plan.of(fn).hints for f in config_fields(hint)}

    assert config_fields(Weights) == CONFIG_FIELDS  # W_pos reads n_ctx, the blocks n_layers
    assert set(config_fields(BlockWeights)) == {"d_model", "n_heads", "d_head", "d_mlp"}
    assert of(S.attention_head) == {"d_model", "d_head"}  # ctx only bounded by n_ctx
    assert of(S.multi_head_attention) == {"d_model", "n_heads", "d_head"}
    assert of(S.softmax) == set() and of(S.mlp) == {"d_model", "d_mlp"}


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


# ---------------------------------------------------------------------------------------------
# Arrays from code bytes: what they hold, how they shrink, and that strategies are built once

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)


def is_small_integer(a):
    return np.isin(a, np.arange(-3, 4))


@settings(max_examples=60, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(dtype=st.sampled_from([F32, F64]), shape=st.lists(st.integers(1, 5), min_size=1, max_size=3),
       magnitude=st.sampled_from([1.0, 1e-3, 1e1, 1e5]), data=st.data())
def test_arrays_hold_small_integers_or_floats_in_minus_4_to_4_times_the_magnitude(dtype, shape, magnitude, data):
    a = data.draw(arrays(dtype, tuple(shape), magnitude))
    assert a.shape == tuple(shape) and a.dtype == dtype
    v = a.astype(np.float64) / magnitude
    assert np.all(np.abs(v) < 4 * (1 + 1e-6))


def test_arrays_mix_integers_and_floats_and_reach_every_small_integer():
    find(arrays(F64, (4, 5)), lambda a: 5 <= is_small_integer(a).sum() <= 15, settings=SEARCH)
    for k in range(-3, 4):
        find(arrays(F64, (3,)), lambda a, k=k: (a == k).any(), settings=SEARCH)
    find(arrays(F32, (3,)), lambda a: np.all(~is_small_integer(a)), settings=SEARCH)


def test_shrinking_an_array_ends_on_few_nonzero_small_integers():
    a = find(arrays(F64, (4, 6)), lambda a: np.count_nonzero(a) >= 3, settings=SHRINK)
    assert np.count_nonzero(a) == 3 and set(a[a != 0]) == {1.0}
    a = find(arrays(F64, (4, 6)), lambda a: np.abs(a).sum() >= 5, settings=SHRINK)
    assert np.count_nonzero(a) <= 2 and is_small_integer(a).all()
    a = find(arrays(F64, (3, 3)), lambda a: not is_small_integer(a).all(), settings=SHRINK)
    assert np.count_nonzero(a) == 1 and abs(a[a != 0][0]) < 4 / 64  # one float, and a small one


def test_shrinking_a_shape_keeps_the_entries_that_matter():
    shaped = st.integers(1, 6).flatmap(lambda n: arrays(F64, (n,)))
    a = find(shaped, lambda a: a.shape[0] >= 3 and (a == -3).sum() >= 2, settings=SHRINK)
    assert a.shape == (3,) and sorted(a.tolist()) == [-3.0, -3.0, 0.0]


def test_any_finite_softmax_inputs_reach_the_dtypes_largest_values_and_stay_finite():
    find(softmax_inputs(any_finite=True), lambda s: s.x.dtype == F32 and np.max(np.abs(s.x)) == np.finfo(F32).max,
         settings=SEARCH)
    find(softmax_inputs(any_finite=True), lambda s: s.x.dtype == F64 and 1e200 < np.max(np.abs(s.x)) < 1e308,
         settings=SEARCH)

    @settings(max_examples=100, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    @given(softmax_inputs(any_finite=True))
    def finite(s):
        assert np.isfinite(s.x).all()

    finite()


def test_tokens_cover_every_id_and_shrink_to_id_0():
    find(tokens(6, 4), lambda t: set(t.tolist()) == {2, 3, 4, 5}, settings=SEARCH)
    assert find(tokens(6, 4), lambda t: True, settings=SHRINK).tolist() == [0, 0, 0, 0]
    find(tokens(1000, 3), lambda t: t.max() == 999, settings=SEARCH)  # beyond 256 ids: drawn id by id


def test_strategies_are_built_once_per_arguments_and_reach():
    assert arrays(F32, (2, 3), 10.0) is arrays(F32, (2, 3), 10.0)
    assert multi_heads(min_ctx=2) is multi_heads(min_ctx=2) and heads() is heads()
    wide = models()
    with reach(extremes=False):
        narrow = models()
        assert narrow is not wide and narrow is models()
        with pytest.raises(NoSuchExample):  # the reach holds though a strategy built outside it exists
            find(models(), lambda m: m.recipe.magnitude != 1.0, settings=SEARCH)
    find(models(), lambda m: m.recipe.magnitude != 1.0, settings=SEARCH)


def test_shrinking_a_multi_head_counterexample_ends_on_one_dim_of_d_model_and_few_ones():
    h = shrunk("head_concat.sum_of_heads", "mha_heads_interleaved")
    assert h.E.shape == (1, 1) and h.W_Q.shape[0] == 2 and h.W_O.shape[1] <= 4  # 2 heads: the least to interleave
    assert sum(np.count_nonzero(a) for a in h.args) <= 3 and all(is_small_integer(a).all() for a in h.args)
