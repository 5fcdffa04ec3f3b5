"""NumPy's global generator is seeded once per search, not per example (verification.prng)."""

from __future__ import annotations

import ast
import pathlib

import numpy as np
from hypothesis import given, settings, strategies as st
from hypothesis.internal import entropy

import gptspec
from gptspec.verification import prng


def test_the_installed_hypothesis_lets_the_search_seed_numpy_once():
    assert prng.active()


def test_within_a_search_hypothesis_leaves_numpys_generator_alone_and_the_block_restores_it():
    drawn = []

    @settings(max_examples=5, database=None)
    @given(st.integers())
    def draws(_):
        drawn.append(np.random.random())

    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    draws()  # Hypothesis alone: every example starts from the same seeded state
    assert len(set(drawn)) == 1
    drawn.clear()
    with prng.seeded_once(7):
        draws()
        assert not any(isinstance(r, entropy.NumpyRandomWrapper) for r in entropy.RANDOMS_TO_MANAGE.values())
    np.random.seed(7)
    assert drawn == [np.random.random() for _ in range(5)]  # one sequence, seeded once: the same for a seed
    assert any(isinstance(r, entropy.NumpyRandomWrapper) for r in entropy.RANDOMS_TO_MANAGE.values())
    np.random.seed(123)
    np.testing.assert_array_equal(np.random.get_state()[1], before)


def test_the_block_restores_the_state_it_found():
    np.random.seed(5)
    state = np.random.get_state()[1].copy()
    with prng.seeded_once(1):
        np.random.random(10)
    np.testing.assert_array_equal(np.random.get_state()[1], state)


def test_no_module_of_gptspec_draws_from_numpys_global_generator():
    """What makes seeding it once per search safe: nothing of ours reads it per example."""
    global_draws = {"rand", "randn", "random", "randint", "random_sample", "normal", "uniform", "choice",
                    "permutation", "shuffle", "integers", "standard_normal", "seed", "get_state", "set_state"}
    found = []
    for path in sorted(pathlib.Path(gptspec.__file__).parent.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Attribute) and node.attr in global_draws and isinstance(node.value, ast.Attribute)
                    and node.value.attr == "random" and isinstance(node.value.value, ast.Name)
                    and node.value.value.id in {"np", "numpy"}):
                found.append((path.name, node.attr))
    assert sorted(found) == [("prng.py", "get_state"), ("prng.py", "seed"), ("prng.py", "set_state")]


def test_the_installed_hypothesis_lets_a_search_ignore_imported_modules_constants():
    assert prng.constants_fixed()


PLANTED_CONSTANT = 987_653
"""An integer no module of ours and none of Hypothesis's own pool holds: where it is drawn, it came
from the local pool planted below."""


def _seeded_draws() -> list[int]:
    drawn: list[int] = []

    @settings(max_examples=300, database=None, derandomize=True)
    @given(st.integers(0, 10**7))
    def draws(n):
        drawn.append(n)

    draws()
    return drawn


def test_a_search_draws_the_same_examples_whatever_the_process_has_imported(monkeypatch):
    """The two ways: Hypothesis alone draws a literal of an imported ("local") module's source, so a
    seed's examples depend on what was imported first; within fixed_constants they do not."""
    from hypothesis.internal.conjecture import providers

    polluted = providers.Constants(integers={PLANTED_CONSTANT})
    with prng.fixed_constants():
        clean = _seeded_draws()
    monkeypatch.setattr(providers, "_get_local_constants", lambda: polluted)
    providers.CONSTANTS_CACHE.cache.clear()
    try:
        assert PLANTED_CONSTANT in _seeded_draws()  # the mechanism is real: the pool reaches the examples
        with prng.fixed_constants():
            assert _seeded_draws() == clean  # and within the block it does not
        assert providers._get_local_constants() is polluted  # the block puts back what it found
    finally:
        providers.CONSTANTS_CACHE.cache.clear()
    assert PLANTED_CONSTANT not in clean
