"""An attention layer in TransformerLens' parameter layout (HookedTransformer's classic ``Attention``:
``W_Q, W_K, W_V [n_heads d_model d_head]``, ``W_O [n_heads d_head d_model]``, ``b_Q``... and an
``IGNORE`` mask value), written out with einsum, for --convention transformer-lens. transformer-lens
4.3's own ``NativeAttention`` keeps ``nn.Linear`` q, k, v, o instead (W_Q is only a view of them)."""

import torch
from torch import nn


class Attention(nn.Module):
    def __init__(self, d_model, n_heads, d_head, n_ctx):
        super().__init__()
        self.W_Q = nn.Parameter(torch.empty(n_heads, d_model, d_head))
        self.W_K = nn.Parameter(torch.empty(n_heads, d_model, d_head))
        self.W_V = nn.Parameter(torch.empty(n_heads, d_model, d_head))
        self.W_O = nn.Parameter(torch.empty(n_heads, d_head, d_model))
        self.b_Q = nn.Parameter(torch.zeros(n_heads, d_head))
        self.b_K = nn.Parameter(torch.zeros(n_heads, d_head))
        self.b_V = nn.Parameter(torch.zeros(n_heads, d_head))
        self.b_O = nn.Parameter(torch.zeros(d_model))
        self.register_buffer("mask", torch.tril(torch.ones(n_ctx, n_ctx)).bool())
        self.register_buffer("IGNORE", torch.tensor(-torch.inf))
        self.attn_scale = d_head**0.5

    def forward(self, x):
        T = x.shape[1]
        q = torch.einsum("bpm,hmd->bphd", x, self.W_Q) + self.b_Q
        k = torch.einsum("bpm,hmd->bphd", x, self.W_K) + self.b_K
        v = torch.einsum("bpm,hmd->bphd", x, self.W_V) + self.b_V
        scores = torch.einsum("bqhd,bkhd->bhqk", q, k) / self.attn_scale
        scores = torch.where(self.mask[:T, :T], scores, self.IGNORE.to(scores.dtype))
        pattern = scores.softmax(-1)
        z = torch.einsum("bkhd,bhqk->bqhd", v, pattern)
        return torch.einsum("bqhd,hdm->bqm", z, self.W_O) + self.b_O


def make(d_model, n_heads, d_head, n_ctx):
    return Attention(d_model, n_heads, d_head, n_ctx)
