"""Bug: the causal mask hides the wrong triangle, so every query sees the future.

In the rows layout the pattern is [ctx_q ctx_k] and query q may see keys k <= q: the lower
triangle. This file keeps the spec's columns-layout mask (``np.triu``, right for [ctx_k ctx_q])
while computing rows-layout scores, so each query attends to itself and the *later* tokens.

    gptspec verify examples/bug_mask_wrong_triangle.py --layout rows
"""

import math

import numpy as np

import numpy_rows as ok


def causal_mask(ctx):
    return np.triu(np.ones((ctx, ctx), dtype=bool))  # BUG: rows layout needs np.tril


def attention_pattern(Q, K, causal=True):
    scores = Q @ K.T / math.sqrt(Q.shape[-1])
    if causal:
        scores = np.where(causal_mask(scores.shape[-1]), scores, -np.inf)
    return ok.softmax(scores, axis=-1)


def attention_head(E, W_Q, W_K, W_V_down, W_V_up, causal=True):
    return attention_pattern(E @ W_Q, E @ W_K, causal) @ (E @ W_V_down) @ W_V_up
