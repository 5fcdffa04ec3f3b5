"""Bug: multi-head attention merges its heads in the wrong order.

The heads come out as [n_heads ctx d_head]; concatenating them must put head h's d_head values
side by side as block h, matching block h of W_O's rows. Reshaping after moving n_heads last
interleaves them instead (value i of every head, then value i + 1, ...), so W_O's blocks meet
the wrong heads. Invisible with one head or d_head = 1.

    gptspec verify examples/bug_heads_merged_wrong_order.py --layout rows
"""

import math

import numpy_rows as ok

attention_head = ok.attention_head  # correct: the per-head reference point


def multi_head_attention(E, W_Q, W_K, W_V_down, W_O, causal=True):
    q, k, v = E @ W_Q, E @ W_K, E @ W_V_down  # [n_heads ctx d_head]
    A = ok.masked_softmax(q @ k.swapaxes(-1, -2) / math.sqrt(q.shape[-1]), causal)
    heads = A @ v
    merged = heads.transpose(1, 2, 0).reshape(E.shape[0], -1)  # BUG: should be transpose(1, 0, 2)
    return merged @ W_O
