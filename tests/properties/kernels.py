"""Planted bugs in kernels of the ``sdpa`` convention: torch's SDPA wrapped with one mistake each.

Each has SDPA's signature and states its bug in its docstring; ``mutants.PLANTED`` says which
property must catch it, and the verify tests run ``gptspec verify tests/properties/kernels.py:NAME
--convention sdpa`` on the four that stand for a whole class of kernel bugs.
"""

import math

import torch
import torch.nn.functional as F


def _sdpa(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
    return F.scaled_dot_product_attention(query, key, value, attn_mask=attn_mask, dropout_p=dropout_p,
                                          is_causal=is_causal, scale=scale)


def kernel_scale_by_length(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
    """scale=None taken as 1/√L, the query length, instead of 1/√E, the head dim."""
    if scale is None:
        scale = 1 / math.sqrt(query.shape[-2])
    return _sdpa(query, key, value, attn_mask, dropout_p, is_causal, scale)


def kernel_ignores_scale(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
    """An explicit scale is ignored: always 1/√E."""
    return _sdpa(query, key, value, attn_mask, dropout_p, is_causal, None)


def kernel_bool_mask_added(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
    """A bool mask is cast to the scores' dtype and added: True adds 1, False masks nothing."""
    if attn_mask is not None and attn_mask.dtype == torch.bool:
        attn_mask = attn_mask.to(query.dtype)
    return _sdpa(query, key, value, attn_mask, dropout_p, is_causal, scale)


def kernel_mask_transposed(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
    """The mask is read as [S L] (keys first, as in a columns layout): transposed."""
    if attn_mask is not None:
        attn_mask = attn_mask.transpose(-2, -1)
    return _sdpa(query, key, value, attn_mask, dropout_p, is_causal, scale)


def kernel_causal_off_by_one(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
    """is_causal masks the diagonal too (key s < query l instead of s <= l): query 0 sees nothing."""
    if is_causal:
        length, keys = query.shape[-2], key.shape[-2]
        attn_mask, is_causal = torch.ones(length, keys, dtype=torch.bool).tril(diagonal=-1), False
    return _sdpa(query, key, value, attn_mask, dropout_p, is_causal, scale)


def kernel_dropout_by_default(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
    """dropout_p=0 read as "use the default rate" 0.1 (``dropout_p or 0.1``)."""
    return _sdpa(query, key, value, attn_mask, dropout_p or 0.1, is_causal, scale)


def kernel_batch_cross_talk(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
    """Keys and values of batch entry 0 serve every entry (a broadcast written for a batch of one)."""
    key, value = key[:1].expand_as(key), value[:1].expand_as(value)
    return _sdpa(query, key, value, attn_mask, dropout_p, is_causal, scale)


def kernel_heads_share_keys(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
    """Every head reads head 0's keys and values (a multi-query broadcast where heads have their own)."""
    key, value = key[:, :1].expand_as(key), value[:, :1].expand_as(value)
    return _sdpa(query, key, value, attn_mask, dropout_p, is_causal, scale)


KERNELS = tuple(name for name in dir() if name.startswith("kernel_"))


def kernel_mask_cropped_top_left(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
    """A bool mask is replaced by a causal buffer cropped to [:L, :S] (nanoGPT's ``bias[:, :, :T, :T]``):
    with fewer queries than keys, query l sees keys 0 … l, not the cached keys and itself."""
    if attn_mask is not None and attn_mask.dtype == torch.bool:
        length, keys = query.shape[-2], key.shape[-2]
        attn_mask = torch.ones(max(length, keys), max(length, keys), dtype=torch.bool).tril()[:length, :keys]
    return _sdpa(query, key, value, attn_mask, dropout_p, is_causal, scale)
