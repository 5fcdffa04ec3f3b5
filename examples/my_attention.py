"""Someone's own attention code, rows layout, with its own names and argument orders.

It is correct, but it does not speak the spec's language: ``probs`` takes the axis before the
temperature, ``attention_weights`` takes keys before queries, and ``self_attention`` is
nanoGPT's: one fused ``c_attn`` matrix for queries, keys and values, and the head count as an
argument. ``my_attention_mapping.py`` maps it to the spec's names in a few lines.
"""

import math

import numpy as np


def probs(logits, dim=-1, temp=1.0):
    if not 0 < temp < math.inf:
        raise ValueError(f"temp must be in (0, inf), got {temp}")
    z = np.exp((logits - logits.max(axis=dim, keepdims=True)) / temp)
    return z / z.sum(axis=dim, keepdims=True)


def attention_weights(k, q, mask=True):
    """[n_q n_k] weights of queries over keys."""
    scores = q @ k.swapaxes(-1, -2) / math.sqrt(q.shape[-1])
    if mask:
        n = scores.shape[-1]
        scores = np.where(np.tril(np.ones((n, n), dtype=bool)), scores, -np.inf)
    return probs(scores)


def self_attention(x, c_attn, c_proj, n_head, causal=True):
    """nanoGPT: q, k, v = split(x c_attn) in thirds, n_head heads each, then c_proj."""
    q, k, v = np.split(x @ c_attn, 3, axis=-1)  # [T n_head·d_head] each
    T = x.shape[0]
    q, k, v = (t.reshape(T, n_head, -1).transpose(1, 0, 2) for t in (q, k, v))  # [n_head T d_head]
    y = attention_weights(k, q, causal) @ v
    return y.transpose(1, 0, 2).reshape(T, -1) @ c_proj
