"""A correct GPT in NumPy, rows layout (picoGPT's convention): every token is a row.

E is [ctx d_model], W_Q is [d_model d_head] (stacked: [n_heads d_model d_head]), the pattern is
[ctx_q ctx_k] with its softmax over the last axis (over keys) and the upper-right masked.
Verify it with

    gptspec verify examples/numpy_rows.py --layout rows
"""

import math

import numpy as np

T_MAX = 2.0  # sample accepts 0 <= T <= 2


def embed(tokens, W_E):
    """E = W_E[tokens]: row i is the embedding of token i (ids outside [0, vocab) refused)."""
    if np.any(tokens < 0) or np.any(tokens >= W_E.shape[0]):
        raise ValueError(f"token ids must lie in [0, {W_E.shape[0]})")
    return W_E[tokens]


def unembed(E, W_U):
    """logits = E W_U: one row of logits per position."""
    return E @ W_U


def softmax(x, temperature=1.0, axis=-1):
    """exp((x − max x) / T) / Σ exp((x − max x) / T) along ``axis``."""
    if not 0 < temperature < np.inf:
        raise ValueError(f"temperature must satisfy 0 < T < inf, got {temperature}")
    z = np.exp((x - np.max(x, axis=axis, keepdims=True)) / temperature)
    return z / np.sum(z, axis=axis, keepdims=True)


def causal_mask(ctx):
    """mask[q, k] = k <= q: each query sees itself and the past (lower triangle)."""
    return np.tril(np.ones((ctx, ctx), dtype=bool))


def masked_softmax(scores, causal):
    """softmax over keys (last axis) of [..., ctx_q, ctx_k] scores, the future at −inf."""
    if causal:
        scores = np.where(causal_mask(scores.shape[-1]), scores, -np.inf)
    return softmax(scores, axis=-1)


def attention_pattern(Q, K, causal=True):
    """A = softmax(Q Kᵀ / √d_head) over keys: [ctx_q ctx_k]."""
    return masked_softmax(Q @ K.T / math.sqrt(Q.shape[-1]), causal)


def attention_head(E, W_Q, W_K, W_V_down, W_V_up, causal=True):
    """ΔE = A (E W_V_down) W_V_up."""
    A = attention_pattern(E @ W_Q, E @ W_K, causal)
    return A @ (E @ W_V_down) @ W_V_up


def cross_attention_head(E_q, E_kv, W_Q, W_K, W_V_down, W_V_up):
    """ΔE = A (E_kv W_V_down) W_V_up with A = attention_pattern(E_q W_Q, E_kv W_K), no mask."""
    A = attention_pattern(E_q @ W_Q, E_kv @ W_K, causal=False)
    return A @ (E_kv @ W_V_down) @ W_V_up


def multi_head_attention(E, W_Q, W_K, W_V_down, W_O, causal=True):
    """ΔE = concat_h(A_h E W_V_down[h]) W_O, heads side by side in head order."""
    q, k, v = E @ W_Q, E @ W_K, E @ W_V_down  # [n_heads ctx d_head]
    A = masked_softmax(q @ k.swapaxes(-1, -2) / math.sqrt(q.shape[-1]), causal)
    heads = A @ v  # [n_heads ctx d_head]
    return np.concatenate(list(heads), axis=-1) @ W_O


def gelu(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def mlp(E, W_up, b_up, W_down, b_down):
    """ΔE = GELU(E W_up + b_up) W_down + b_down."""
    return gelu(E @ W_up + b_up) @ W_down + b_down


def sample(logits, temperature, rng):
    """A token id from softmax(logits / T); T = 0 is argmax."""
    if not 0 <= temperature <= T_MAX:
        raise ValueError(f"temperature must satisfy 0 <= T <= {T_MAX}, got {temperature}")
    if temperature == 0:
        return int(np.argmax(logits))
    p = softmax(logits.astype(np.float64), temperature)
    return int(min(np.searchsorted(np.cumsum(p), rng.random() * p.sum(), side="right"), len(p) - 1))


def layer_norm(E, gain, bias, eps=1e-5):
    """Each row to mean 0, variance 1, then · gain + bias."""
    mean = E.mean(axis=-1, keepdims=True)
    var = E.var(axis=-1, keepdims=True)
    return (E - mean) / np.sqrt(var + eps) * gain + bias


def block(E, weights):
    """E + MHA(LN₁(E)), then + MLP(LN₂(E))."""
    w = weights
    E = E + multi_head_attention(layer_norm(E, w.ln1_gain, w.ln1_bias), w.W_Q, w.W_K, w.W_V_down, w.W_O)
    return E + mlp(layer_norm(E, w.ln2_gain, w.ln2_bias), w.W_up, w.b_up, w.W_down, w.b_down)


def forward(tokens, weights):
    """logits = LN_f(blocks(W_E[tokens] + W_pos[:ctx])) W_U: [ctx vocab]."""
    E = embed(tokens, weights.W_E) + weights.W_pos[: len(tokens)]
    for layer in weights.blocks:
        E = block(E, layer)
    return unembed(layer_norm(E, weights.lnf_gain, weights.lnf_bias), weights.W_U)


def next_token_probs(tokens, weights, temperature=1.0):
    """softmax(logits[−1] / T): the last position predicts the next token."""
    return softmax(forward(tokens, weights)[-1], temperature)
