"""Planted bug in nanoGPT-style attention: the mask forgotten (``is_causal=False``), so every
query sees the future. Caught under ``--assume causal-only --assume d_model=n_heads*d_head`` by
``causality.masked_entries_zero`` and ``causality.mha_future_independent``."""

import math

import torch
import torch.nn.functional as F

from nanogpt_attention import CausalSelfAttention, _only_causal, causal_mask  # noqa: F401


class Unmasked(CausalSelfAttention):
    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=False)  # the bug: no mask
        return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))


def multi_head_attention(E, W_Q, W_K, W_V_down, W_O, causal=True):
    _only_causal(causal)
    with torch.no_grad():
        return Unmasked(W_Q, W_K, W_V_down, W_O)(E[None])[0]


def attention_pattern(Q, K, causal=True):
    _only_causal(causal)
    return F.softmax((Q @ K.T) * (1.0 / math.sqrt(K.shape[-1])), dim=-1)  # the bug: no masked_fill
