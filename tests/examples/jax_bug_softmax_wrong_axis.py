"""examples/jax_gpt.py with the pattern's softmax across each row (over queries, rows layout's axis)
instead of down each column (over keys): the columns no longer sum to 1.

    gptspec verify tests/examples/jax_bug_softmax_wrong_axis.py
"""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "examples"))

import jax.numpy as jnp  # noqa: E402

import jax_gpt as base  # noqa: E402
from jax_gpt import *  # noqa: E402,F401,F403


def masked_pattern(scores, causal):
    if causal:
        scores = jnp.where(causal_mask(scores.shape[-1]), scores, -jnp.inf)
    return softmax(scores, axis=-1)  # BUG: the last axis is the queries' in the columns layout


base.masked_pattern = masked_pattern
