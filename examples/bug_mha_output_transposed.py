"""Bug: multi-head attention returns ΔE transposed, [ctx d_model] instead of [d_model ctx].

Everything inside is right; only the last line flips the result to the rows convention. Adding
it to the residual stream E would broadcast or fail far from the cause. At full size the shape
check names the function, the layer and the dim:

    gptspec check --config gpt3 --target examples/bug_mha_output_transposed.py
"""

import math

import numpy as np


def multi_head_attention(E, W_Q, W_K, W_V_down, W_O, causal=True):
    n_heads, d_head, _ = W_Q.shape
    ctx = E.shape[1]
    Q, K, V = W_Q @ E, W_K @ E, W_V_down @ E  # [n_heads d_head ctx]
    scores = K.swapaxes(-1, -2) @ Q / math.sqrt(d_head)  # [n_heads ctx_k ctx_q]
    if causal:
        scores = np.where(np.tri(ctx, dtype=bool).T, scores, -np.inf)
    A = np.exp(scores - scores.max(axis=-2, keepdims=True))
    A = A / A.sum(axis=-2, keepdims=True)  # softmax down each column
    return (W_O @ (V @ A).reshape(n_heads * d_head, ctx)).T  # BUG: columns must be tokens
