"""A Llama-style attention layer (separate q_proj, k_proj, v_proj, o_proj; no rotary embedding), for
--convention qkvo-linear. Its head_dim is its own, so n_heads·head_dim may differ from hidden_size."""

import math

import torch
from torch import nn


class Attention(nn.Module):
    def __init__(self, hidden_size, num_heads, head_dim, bias=False):
        super().__init__()
        self.num_heads, self.head_dim = num_heads, head_dim
        self.scaling = head_dim**-0.5
        self.q_proj = nn.Linear(hidden_size, num_heads * head_dim, bias=bias)
        self.k_proj = nn.Linear(hidden_size, num_heads * head_dim, bias=bias)
        self.v_proj = nn.Linear(hidden_size, num_heads * head_dim, bias=bias)
        self.o_proj = nn.Linear(num_heads * head_dim, hidden_size, bias=bias)

    def forward(self, hidden_states):
        B, T, _ = hidden_states.shape
        shape = (B, T, self.num_heads, self.head_dim)
        q = self.q_proj(hidden_states).view(shape).transpose(1, 2)
        k = self.k_proj(hidden_states).view(shape).transpose(1, 2)
        v = self.v_proj(hidden_states).view(shape).transpose(1, 2)
        scores = torch.matmul(q, k.transpose(2, 3)) * self.scaling
        future = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
        weights = torch.softmax(scores.masked_fill(future, -math.inf), dim=-1)
        out = torch.matmul(weights, v).transpose(1, 2).reshape(B, T, -1)
        return self.o_proj(out), weights


def make(d_model, n_heads, d_head):
    return Attention(d_model, n_heads, d_head, bias=True)
