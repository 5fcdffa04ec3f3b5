"""nanoGPT's ``CausalSelfAttention``, as a user would bring it to ``gptspec verify``.

The heads are split by reshaping: ``.view(B, T, n_heads, d_model // n_heads)``, so this code
supports only d_model = n_heads·d_head; and attention is ``scaled_dot_product_attention(...,
is_causal=True)``, so it supports only causal attention (``causal=False`` is refused, as nanoGPT
has no such switch). Rows layout, torch. Verify it with

    gptspec verify tests/examples/nanogpt_attention.py --layout rows \\
        --assume causal-only --assume d_model=n_heads*d_head

Without the two ``--assume`` the report errors on the examples outside that domain and says
which ``--assume`` to add. The planted bugs (``nanogpt_bug_*.py``) import this module and change
one thing each.
"""

import math

import torch
import torch.nn.functional as F
from torch.nn.utils import skip_init


class CausalSelfAttention(torch.nn.Module):
    """nanoGPT's module, with the spec's stacked per-head weights copied into ``c_attn``/``c_proj``."""

    def __init__(self, W_Q, W_K, W_V_down, W_O):
        super().__init__()
        n_heads, d_model, d_head = W_Q.shape  # rows layout: W_Q is [n_heads d_model d_head]
        self.n_head, self.n_embd = n_heads, d_model
        # c_attn: d_model → 3·d_model, the heads' query, key and value columns side by side
        stacked = [w.permute(1, 0, 2).reshape(d_model, n_heads * d_head) for w in (W_Q, W_K, W_V_down)]
        # skip_init: the weights are copied in below (a random init would cost ~4 ms a call)
        self.c_attn = skip_init(torch.nn.Linear, d_model, 3 * n_heads * d_head, bias=False, dtype=W_Q.dtype)
        self.c_proj = skip_init(torch.nn.Linear, n_heads * d_head, d_model, bias=False, dtype=W_Q.dtype)
        with torch.no_grad():
            self.c_attn.weight.copy_(torch.cat(stacked, dim=1).T)
            self.c_proj.weight.copy_(W_O.T)

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)  # nanoGPT: each is C wide
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


def _only_causal(causal):
    if not causal:
        raise NotImplementedError("CausalSelfAttention is causal only")


def multi_head_attention(E, W_Q, W_K, W_V_down, W_O, causal=True):
    _only_causal(causal)
    with torch.no_grad():
        return CausalSelfAttention(W_Q, W_K, W_V_down, W_O)(E[None])[0]


def attention_pattern(Q, K, causal=True):
    """softmax(Q Kᵀ / √d_head) over keys with the future at −inf: [ctx_q ctx_k], as nanoGPT's slow path."""
    _only_causal(causal)
    T = Q.shape[0]
    att = (Q @ K.T) * (1.0 / math.sqrt(K.shape[-1]))
    bias = torch.tril(torch.ones(T, T, dtype=torch.bool))
    return F.softmax(att.masked_fill(~bias, float("-inf")), dim=-1)


def causal_mask(ctx):
    return torch.tril(torch.ones(ctx, ctx, dtype=torch.bool))
