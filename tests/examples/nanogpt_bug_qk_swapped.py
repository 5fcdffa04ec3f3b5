"""Planted bug in nanoGPT-style attention: queries and keys swapped (``c_attn`` split as k, q, v),
so the pattern is the transpose of the right one's scores. Caught under ``--assume causal-only
--assume d_model=n_heads*d_head`` by the agreement and head-concat properties."""

import math

import torch
import torch.nn.functional as F

from nanogpt_attention import CausalSelfAttention, _only_causal, causal_mask  # noqa: F401


class Swapped(CausalSelfAttention):
    def forward(self, x):
        B, T, C = x.size()
        k, q, v = self.c_attn(x).split(self.n_embd, dim=2)  # the bug: q and k swapped
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))


def multi_head_attention(E, W_Q, W_K, W_V_down, W_O, causal=True):
    _only_causal(causal)
    with torch.no_grad():
        return Swapped(W_Q, W_K, W_V_down, W_O)(E[None])[0]


def attention_pattern(Q, K, causal=True):
    _only_causal(causal)
    T = Q.shape[0]
    att = (K @ Q.T) * (1.0 / math.sqrt(K.shape[-1]))  # the bug: keys where the queries go
    return F.softmax(att.masked_fill(~torch.tril(torch.ones(T, T, dtype=torch.bool)), float("-inf")), dim=-1)
