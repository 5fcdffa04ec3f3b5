"""A correct NumPy port of ``torch.nn.functional.scaled_dot_product_attention`` (no dropout).

The ``sdpa`` convention: one function with SDPA's signature and layout, as a custom kernel
written as a drop-in replacement has — query [batch heads L E], key [batch heads S E], value
[batch heads S Ev], returning [batch heads L Ev]. gptspec builds the spec's attention functions
around it and checks what the signature owes. Verify it with

    gptspec verify examples/sdpa_numpy_kernel.py:scaled_dot_product_attention --convention sdpa

(--framework numpy is detected: this module does not import torch).
"""

import math

import numpy as np


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
    """softmax(query · keyᵀ · scale + bias) · value, scale = 1/√E when None.

    The bias is −∞ where a bool ``attn_mask`` is False (True = attend) or above the diagonal of
    tril(ones(L, S)) with ``is_causal``; a float ``attn_mask`` is added as it is. A query row
    with every key masked gets zeros, as torch's own (safe) softmax gives.
    """
    if dropout_p != 0.0:
        raise NotImplementedError("this port has no dropout: dropout_p must be 0")
    length, keys = query.shape[-2], key.shape[-2]
    scale = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = (query @ key.swapaxes(-1, -2)) * scale
    if is_causal:
        scores = np.where(np.tril(np.ones((length, keys), dtype=bool)), scores, -np.inf)
    if attn_mask is not None:
        scores = np.where(attn_mask, scores, -np.inf) if attn_mask.dtype == bool else scores + attn_mask
    top = scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores - np.where(np.isfinite(top), top, 0))
    total = weights.sum(axis=-1, keepdims=True)
    weights = np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)
    return weights @ value
