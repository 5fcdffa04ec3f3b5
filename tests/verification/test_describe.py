"""Counterexamples in a few lines: tiny arrays whole, others by shape, dtype and what matters."""

from __future__ import annotations

import dataclasses

import numpy as np

from gptspec import Config
from gptspec.verification.describe import array_summary, counterexample_lines


def test_a_tiny_array_is_shown_whole():
    assert array_summary(np.array([[1.0, -0.5], [np.nan, np.inf]])) == "float64[2 2] [[1.0, -0.5], [nan, inf]]"


def test_a_mostly_zero_array_shows_its_nonzero_entries_with_their_indices():
    a = np.zeros((3, 4), np.float32)
    a[0, 1], a[2, 0] = 1e5, -1.5
    assert array_summary(a) == "float32[3 4] nonzero: [0,1]=100000.0, [2,0]=-1.5; 0 elsewhere"
    assert array_summary(np.zeros(9)) == "float64[9] all 0"


def test_a_full_array_shows_its_range_nans_and_first_entries():
    a = np.arange(12.0).reshape(3, 4)
    a[1, 1] = np.nan
    assert array_summary(a) == "float64[3 4] from 0.0 to 11.0, 1 NaN; first entries 0.0, 1.0, 2.0, 3.0, …"


def test_a_bool_array_counts_its_true_entries():
    assert array_summary(np.tril(np.ones((3, 3), bool))) == "bool[3 3] 6 True of 9"


@dataclasses.dataclass
class Example:
    config: Config
    E: np.ndarray
    temperature: float
    rng: np.random.Generator


def test_an_example_is_one_line_per_field_with_configs_on_one_line():
    ex = Example(Config(3, 2, 1, 2, 4, 1, 5), np.ones((2, 1)), 0.25, np.random.default_rng(0))
    assert counterexample_lines(ex) == [
        "config: Config(vocab=3, d_model=2, n_heads=1, d_head=2, n_ctx=4, n_layers=1, d_mlp=5)",
        "E: float64[2 1] [[1.0], [1.0]]",
        "temperature: 0.25",
        "rng: numpy Generator",
    ]
    assert counterexample_lines((np.zeros(2), {"T": 2e-9})) == ["example[0]: float64[2] [0.0, 0.0]", "example[1].T: 2e-09"]
    assert counterexample_lines([3, 0.5, True]) == ["example: [3, 0.5, True]"]
