"""picogpt_style.py with queries and keys swapped in the scores: K Qᵀ instead of Q Kᵀ.

    gptspec verify tests/examples/picogpt_bug_qk_swapped.py --layout rows
"""

import numpy as np

import picogpt_style as base
from picogpt_style import *  # noqa: F401,F403


def scores_of(q, k):
    return k @ np.swapaxes(q, -1, -2) / np.sqrt(q.shape[-1])  # BUG: keys down the rows, in a rows layout


base.scores_of = scores_of
