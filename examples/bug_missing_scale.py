"""Bug: the scores are Q Kᵀ, without the 1/√d_head factor.

Every score is √d_head times too large, which sharpens the pattern (as a temperature of
1/√d_head would). Causality and normalisation still hold, so only agreement with the reference
catches it — and only for d_head > 1, where √d_head ≠ 1.

    gptspec verify examples/bug_missing_scale.py --layout rows
"""

import numpy as np

import numpy_rows as ok


def attention_pattern(Q, K, causal=True):
    scores = Q @ K.T  # BUG: should be Q @ K.T / sqrt(d_head)
    if causal:
        scores = np.where(ok.causal_mask(scores.shape[-1]), scores, -np.inf)
    return ok.softmax(scores, axis=-1)
