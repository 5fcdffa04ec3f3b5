"""A GPT written the way picoGPT writes it — NumPy, rows layout, W as [in, out] — with its two
numerical habits: an additive causal mask of −1e10 (not −∞) and a temperature applied as
``softmax(x / T)`` (the division before the max-subtraction, as nanoGPT's and Hugging Face's
``torch.softmax(logits / T)``).

Both are fine on every ordinary input and fail only beyond: the mask once attention scores
reach about 1e10 (real models reach 1e5), the temperature once ``logits / T`` overflows
(T = 5e-324). ``gptspec verify`` passes it with fragile findings and their onsets, and fails it
under ``--strict``:

    gptspec verify tests/examples/picogpt_style.py --layout rows
"""

import math

import numpy as np

MASK = -1e10  # picoGPT: (1 - np.tri(n)) * -1e10
T_MAX = 2.0


def embed(tokens, W_E):
    if np.any(tokens < 0) or np.any(tokens >= W_E.shape[0]):
        raise ValueError(f"token ids must lie in [0, {W_E.shape[0]})")
    return W_E[tokens]


def unembed(E, W_U):
    return E @ W_U


def softmax(x, temperature=1.0, axis=-1):
    if not 0 < temperature < np.inf:
        raise ValueError(f"temperature must satisfy 0 < T < inf, got {temperature}")
    x = x / temperature  # divided first: overflows once |x| / T passes the dtype's largest value
    exp_x = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return exp_x / np.sum(exp_x, axis=axis, keepdims=True)


def causal_mask(ctx):
    return np.tri(ctx, dtype=bool)  # [q, k]: k <= q allowed


def additive_mask(ctx, dtype):
    return (1 - np.tri(ctx, dtype=dtype)) * dtype.type(MASK)  # built in the scores' dtype: no upcast


def scores_of(q, k):
    return q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])


def masked_softmax(scores, causal):
    if causal:
        scores = scores + additive_mask(scores.shape[-1], scores.dtype)
    return softmax(scores, axis=-1)


def attention_pattern(Q, K, causal=True):
    return masked_softmax(scores_of(Q, K), causal)


def attention_head(E, W_Q, W_K, W_V_down, W_V_up, causal=True):
    return attention_pattern(E @ W_Q, E @ W_K, causal) @ (E @ W_V_down) @ W_V_up


def cross_attention_head(E_q, E_kv, W_Q, W_K, W_V_down, W_V_up):
    return attention_pattern(E_q @ W_Q, E_kv @ W_K, causal=False) @ (E_kv @ W_V_down) @ W_V_up


def multi_head_attention(E, W_Q, W_K, W_V_down, W_O, causal=True):
    q, k, v = E @ W_Q, E @ W_K, E @ W_V_down  # [n_head ctx d_head]
    heads = masked_softmax(scores_of(q, k), causal) @ v
    return np.hstack(list(heads)) @ W_O


def gelu(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


def mlp(E, W_up, b_up, W_down, b_down):
    return gelu(E @ W_up + b_up) @ W_down + b_down


def layer_norm(E, gain, bias, eps=1e-5):
    mean = np.mean(E, axis=-1, keepdims=True)
    variance = np.var(E, axis=-1, keepdims=True)
    return gain * (E - mean) / np.sqrt(variance + eps) + bias


def block(E, weights):
    w = weights
    E = E + multi_head_attention(layer_norm(E, w.ln1_gain, w.ln1_bias), w.W_Q, w.W_K, w.W_V_down, w.W_O)
    return E + mlp(layer_norm(E, w.ln2_gain, w.ln2_bias), w.W_up, w.b_up, w.W_down, w.b_down)


def forward(tokens, weights):
    E = embed(tokens, weights.W_E) + weights.W_pos[: len(tokens)]
    for layer in weights.blocks:
        E = block(E, layer)
    return unembed(layer_norm(E, weights.lnf_gain, weights.lnf_bias), weights.W_U)


def next_token_probs(tokens, weights, temperature=1.0):
    return softmax(forward(tokens, weights)[-1], temperature)


def sample(logits, temperature, rng):
    if not 0 <= temperature <= T_MAX:
        raise ValueError(f"temperature must satisfy 0 <= T <= {T_MAX}, got {temperature}")
    if temperature == 0:
        return int(np.argmax(logits))
    p = softmax(logits, temperature).astype(np.float64)
    return int(rng.choice(len(p), p=p / p.sum()))
