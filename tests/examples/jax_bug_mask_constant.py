"""examples/jax_gpt.py with a finite mask constant (−1e5, TransformerLens' old one) instead of −∞:
once a query's allowed scores fall below it, the masked future gets the weight.

    gptspec verify tests/examples/jax_bug_mask_constant.py
"""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "examples"))

import jax.numpy as jnp  # noqa: E402

import jax_gpt as base  # noqa: E402
from jax_gpt import *  # noqa: E402,F401,F403


def masked_pattern(scores, causal):
    if causal:
        scores = jnp.where(causal_mask(scores.shape[-1]), scores, -1e5)  # BUG: finite, not −inf
    return softmax(scores, axis=-2)


base.masked_pattern = masked_pattern
