"""Bug: the mask uses a finite constant, −1e5, instead of −∞.

A masked score of −1e5 gets probability exp(−1e5 − max) ≈ 0 only while the allowed scores stay
well above −1e5. Real models' scores do not: when a query's allowed scores fall below −1e5, the
masked future outweighs the past (the bug TransformerLens shipped with −1e5, Hugging Face with
−1e4). Found only by inputs whose scores reach 1e5.

    gptspec verify examples/bug_mask_constant.py --layout rows
"""

import math

import numpy as np

import numpy_rows as ok

MASKED = -1e5  # BUG: should be -np.inf


def attention_pattern(Q, K, causal=True):
    scores = Q @ K.T / math.sqrt(Q.shape[-1])
    if causal:
        scores = np.where(ok.causal_mask(scores.shape[-1]), scores, MASKED)
    return ok.softmax(scores, axis=-1)
