"""picogpt_style.py with its additive mask on the wrong triangle: every query sees the future.

    gptspec verify tests/examples/picogpt_bug_not_causal.py --layout rows
"""

import numpy as np

import picogpt_style as base
from picogpt_style import *  # noqa: F401,F403


def additive_mask(ctx, dtype):
    return (1 - np.tri(ctx, dtype=dtype)).T * dtype.type(base.MASK)  # BUG: masks the past, not the future


base.additive_mask = additive_mask
