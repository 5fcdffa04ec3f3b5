"""Bug: the pattern's softmax runs over queries instead of keys.

In the rows layout the pattern is [ctx_q ctx_k]: each query's row must sum to 1 over the keys
(axis −1). This normalises each key's column over the queries (axis 0), so a query's weights do
not sum to 1 — a classic slip when porting code between layouts.

    gptspec verify examples/bug_softmax_wrong_axis.py --layout rows
"""

import math

import numpy as np

import numpy_rows as ok


def attention_pattern(Q, K, causal=True):
    scores = Q @ K.T / math.sqrt(Q.shape[-1])
    if causal:
        scores = np.where(ok.causal_mask(scores.shape[-1]), scores, -np.inf)
    return ok.softmax(scores, axis=0)  # BUG: keys are the last axis in the rows layout
