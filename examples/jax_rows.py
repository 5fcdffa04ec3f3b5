"""A correct GPT in JAX, rows layout (nanoGPT's and Flax's convention): every token is a row.

E is [ctx d_model], W_Q is [d_model d_head] (stacked: [n_heads d_model d_head]), the pattern is
[ctx_q ctx_k] with its softmax over the last axis (over keys) and the upper-right masked. JAX's
64-bit mode is left off, as by default: JAX computes in float32, so the verifier declares the
float32 domain for this module (the report lists it) instead of failing its float64 examples.
Verify it with

    gptspec verify examples/jax_rows.py --layout rows        (--framework jax is detected)
"""

import math

import jax.numpy as jnp

T_MAX = 2.0  # sample accepts 0 <= T <= 2


def embed(tokens, W_E):
    """E = W_E[tokens]: row i is the embedding of token i (JAX clamps an index out of range, so
    ids outside [0, vocab) are refused first)."""
    if jnp.any(tokens < 0) or jnp.any(tokens >= W_E.shape[0]):
        raise ValueError(f"token ids must lie in [0, {W_E.shape[0]})")
    return W_E[tokens]


def unembed(E, W_U):
    """logits = E W_U: one row of logits per position."""
    return E @ W_U


def softmax(x, temperature=1.0, axis=-1):
    """exp((x − max x) / T) / Σ exp((x − max x) / T) along ``axis``."""
    if not 0 < temperature < math.inf:
        raise ValueError(f"temperature must satisfy 0 < T < inf, got {temperature}")
    z = jnp.exp((x - jnp.max(x, axis=axis, keepdims=True)) / temperature)
    return z / jnp.sum(z, axis=axis, keepdims=True)


def causal_mask(ctx):
    """mask[q, k] = k <= q: each query sees itself and the past (lower triangle)."""
    return jnp.tril(jnp.ones((ctx, ctx), dtype=bool))


def masked_softmax(scores, causal):
    """softmax over keys (last axis) of [..., ctx_q, ctx_k] scores, the future at −inf."""
    if causal:
        scores = jnp.where(causal_mask(scores.shape[-1]), scores, -jnp.inf)
    return softmax(scores, axis=-1)


def attention_pattern(Q, K, causal=True):
    """A = softmax(Q Kᵀ / √d_head) over keys: [ctx_q ctx_k]."""
    return masked_softmax(Q @ K.T / math.sqrt(Q.shape[-1]), causal)


def attention_head(E, W_Q, W_K, W_V_down, W_V_up, causal=True):
    """ΔE = A (E W_V_down) W_V_up."""
    return attention_pattern(E @ W_Q, E @ W_K, causal) @ (E @ W_V_down) @ W_V_up


def cross_attention_head(E_q, E_kv, W_Q, W_K, W_V_down, W_V_up):
    """ΔE = A (E_kv W_V_down) W_V_up with A = attention_pattern(E_q W_Q, E_kv W_K), no mask."""
    return attention_pattern(E_q @ W_Q, E_kv @ W_K, causal=False) @ (E_kv @ W_V_down) @ W_V_up


def multi_head_attention(E, W_Q, W_K, W_V_down, W_O, causal=True):
    """ΔE = concat_h(A_h E W_V_down[h]) W_O, heads side by side in head order."""
    q, k, v = E @ W_Q, E @ W_K, E @ W_V_down  # [n_heads ctx d_head]
    heads = masked_softmax(q @ jnp.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1]), causal) @ v
    return jnp.concatenate(list(heads), axis=-1) @ W_O


def mlp(E, W_up, b_up, W_down, b_down):
    """ΔE = GELU(E W_up + b_up) W_down + b_down, GELU in its tanh form (GPT-2's)."""
    x = E @ W_up + b_up
    return 0.5 * x * (1 + jnp.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))) @ W_down + b_down


def sample(logits, temperature, rng):
    """argmax at T = 0, else invert the cumulative softmax(logits / T) at one rng.random()."""
    if not 0 <= temperature <= T_MAX:
        raise ValueError(f"temperature must satisfy 0 <= T <= {T_MAX}, got {temperature}")
    if temperature == 0:
        return int(jnp.argmax(logits))
    cdf = jnp.cumsum(softmax(logits, temperature))
    return min(int(jnp.searchsorted(cdf, rng.random() * cdf[-1], side="right")), logits.shape[0] - 1)


def layer_norm(E, gain, bias, eps=1e-5):
    """Each row to mean 0, variance 1, then · gain + bias."""
    mean, var = jnp.mean(E, axis=-1, keepdims=True), jnp.var(E, axis=-1, keepdims=True)
    return (E - mean) / jnp.sqrt(var + eps) * gain + bias


def block(E, weights):
    """E + MHA(LN₁(E)), then + MLP(LN₂(E))."""
    w = weights
    E = E + multi_head_attention(layer_norm(E, w.ln1_gain, w.ln1_bias), w.W_Q, w.W_K, w.W_V_down, w.W_O)
    return E + mlp(layer_norm(E, w.ln2_gain, w.ln2_bias), w.W_up, w.b_up, w.W_down, w.b_down)


def forward(tokens, weights):
    """logits = LN_f(blocks(W_E[tokens] + W_pos[:ctx])) W_U: [ctx vocab]."""
    E = embed(tokens, weights.W_E) + weights.W_pos[: tokens.shape[0]]
    for layer in weights.blocks:
        E = block(E, layer)
    return unembed(layer_norm(E, weights.lnf_gain, weights.lnf_bias), weights.W_U)


def next_token_probs(tokens, weights, temperature=1.0):
    """softmax(logits[−1] / T): the last position predicts the next token."""
    return softmax(forward(tokens, weights)[-1], temperature)
