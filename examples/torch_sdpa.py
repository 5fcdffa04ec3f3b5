"""A correct GPT in PyTorch, rows layout, attention by ``scaled_dot_product_attention``.

Tensors are CPU tensors in the rows layout (nanoGPT's): E is [ctx d_model], stacked W_Q is
[n_heads d_model d_head], W_O is [n_heads·d_head d_model], the pattern is [ctx_q ctx_k].
``sample`` receives a ``numpy.random.Generator`` (gptspec passes NumPy's), and draws one
uniform number from it. Verify it with

    gptspec verify examples/torch_sdpa.py --layout rows        (--framework torch is detected)
"""

import math

import torch
import torch.nn.functional as F

T_MAX = 2.0


def embed(tokens, W_E):
    """E = W_E[tokens] (ids outside [0, vocab) refused: a negative id would wrap around)."""
    if (tokens < 0).any() or (tokens >= W_E.shape[0]).any():
        raise ValueError(f"token ids must lie in [0, {W_E.shape[0]})")
    return W_E[tokens]


def unembed(E, W_U):
    return E @ W_U


def softmax(x, temperature=1.0, axis=-1):
    """softmax((x − max x) / T): the shift first, so x / T cannot overflow."""
    if not 0 < temperature < math.inf:
        raise ValueError(f"temperature must satisfy 0 < T < inf, got {temperature}")
    return torch.softmax((x - x.amax(dim=axis, keepdim=True)) / temperature, dim=axis)


def causal_mask(ctx):
    return torch.ones(ctx, ctx, dtype=torch.bool).tril()


def attention_pattern(Q, K, causal=True):
    """softmax(Q Kᵀ / √d_head) over keys, the future masked with −inf: [ctx_q ctx_k]."""
    scores = Q @ K.T / math.sqrt(Q.shape[-1])
    if causal:
        scores = scores.masked_fill(~causal_mask(scores.shape[-1]), -math.inf)
    return torch.softmax(scores, dim=-1)


def attention_head(E, W_Q, W_K, W_V_down, W_V_up, causal=True):
    """SDPA(E W_Q, E W_K, E W_V_down) W_V_up."""
    return F.scaled_dot_product_attention(E @ W_Q, E @ W_K, E @ W_V_down, is_causal=causal) @ W_V_up


def cross_attention_head(E_q, E_kv, W_Q, W_K, W_V_down, W_V_up):
    return F.scaled_dot_product_attention(E_q @ W_Q, E_kv @ W_K, E_kv @ W_V_down) @ W_V_up


def multi_head_attention(E, W_Q, W_K, W_V_down, W_O, causal=True):
    """All heads in one SDPA call ([n_heads ctx d_head]), then side by side in head order, W_O."""
    heads = F.scaled_dot_product_attention(E @ W_Q, E @ W_K, E @ W_V_down, is_causal=causal)
    return heads.transpose(0, 1).reshape(E.shape[0], -1) @ W_O


def mlp(E, W_up, b_up, W_down, b_down):
    return F.gelu(E @ W_up + b_up, approximate="tanh") @ W_down + b_down


def sample(logits, temperature, rng):
    """argmax at T = 0, else invert the cumulative softmax(logits / T) at rng.random()."""
    if not 0 <= temperature <= T_MAX:
        raise ValueError(f"temperature must satisfy 0 <= T <= {T_MAX}, got {temperature}")
    if temperature == 0:
        return int(torch.argmax(logits))
    cdf = torch.cumsum(softmax(logits.double(), temperature), dim=0)
    u = torch.tensor([rng.random() * cdf[-1].item()], dtype=torch.float64)
    return min(int(torch.searchsorted(cdf, u, right=True)), logits.shape[0] - 1)


def layer_norm(E, gain, bias):
    return F.layer_norm(E, E.shape[-1:], gain, bias, eps=1e-5)


def block(E, weights):
    w = weights
    E = E + multi_head_attention(layer_norm(E, w.ln1_gain, w.ln1_bias), w.W_Q, w.W_K, w.W_V_down, w.W_O)
    return E + mlp(layer_norm(E, w.ln2_gain, w.ln2_bias), w.W_up, w.b_up, w.W_down, w.b_down)


def forward(tokens, weights):
    E = embed(tokens, weights.W_E) + weights.W_pos[: tokens.shape[0]]
    for layer in weights.blocks:
        E = block(E, layer)
    return unembed(layer_norm(E, weights.lnf_gain, weights.lnf_bias), weights.W_U)


def next_token_probs(tokens, weights, temperature=1.0):
    return softmax(forward(tokens, weights)[-1], temperature)
