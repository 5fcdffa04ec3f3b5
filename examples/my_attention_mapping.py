"""The spec's names for ``my_attention.py``: the few lines a user writes to run gptspec verify.

Each function takes the spec's arguments in the spec's order (in the rows layout, as
``--layout rows`` hands them over) and calls the user's code. Functions not named here are
reported as "not provided", not as failures.

    gptspec verify examples/my_attention_mapping.py --layout rows
"""

import numpy as np

import my_attention as mine


def softmax(x, temperature=1.0, axis=-1):
    return mine.probs(x, axis, temperature)


def attention_pattern(Q, K, causal=True):
    return mine.attention_weights(K, Q, causal)


def multi_head_attention(E, W_Q, W_K, W_V_down, W_O, causal=True):
    """Stacked [n_heads d_model d_head] weights side by side, as nanoGPT's fused c_attn."""
    fused = [W.transpose(1, 0, 2).reshape(E.shape[-1], -1) for W in (W_Q, W_K, W_V_down)]
    return mine.self_attention(E, np.concatenate(fused, axis=-1), W_O, W_Q.shape[0], causal)
