"""A correct GPT in JAX, the spec's columns layout: every token is a column, written with jax.numpy.

E is [d_model ctx], W_Q is [d_head d_model] (stacked: [n_heads d_head d_model]), the pattern is
[ctx_k ctx_q] with its softmax down each column (over keys) and the lower-left masked. The module
turns on JAX's 64-bit mode, so it computes in float64 when given float64 and every property
applies; without it JAX computes in float32 and the verifier declares that dtype (see
examples/jax_rows.py). ``sample`` receives a ``numpy.random.Generator`` and draws one uniform
number from it. Verify it with

    gptspec verify examples/jax_gpt.py              (--framework jax is detected)
"""

import math

import jax
import jax.numpy as jnp

jax.config.update("jax_enable_x64", True)

T_MAX = 2.0  # sample accepts 0 <= T <= 2
LAYER_NORM_EPS = 1e-5


def embed(tokens, W_E):
    """E = W_E · onehot(tokens): column i is column tokens[i] of W_E (JAX clamps an index out of
    range, so ids outside [0, vocab) are refused first)."""
    if jnp.any(tokens < 0) or jnp.any(tokens >= W_E.shape[1]):
        raise ValueError(f"token ids must lie in [0, {W_E.shape[1]})")
    return W_E[:, tokens]


def unembed(E, W_U):
    """logits = W_U E: one column of logits per position."""
    return W_U @ E


def softmax(x, temperature=1.0, axis=-1):
    """exp((x − max x) / T) / Σ exp((x − max x) / T) along ``axis``: the shift first, so x / T
    cannot overflow."""
    if not 0 < temperature < math.inf:
        raise ValueError(f"temperature must satisfy 0 < T < inf, got {temperature}")
    z = jnp.exp((x - jnp.max(x, axis=axis, keepdims=True)) / temperature)
    return z / jnp.sum(z, axis=axis, keepdims=True)


def causal_mask(ctx):
    """mask[k, q] = k <= q: each query (column) sees the keys up to itself (upper triangle)."""
    return jnp.triu(jnp.ones((ctx, ctx), dtype=bool))


def masked_pattern(scores, causal):
    """softmax down each column (over keys, axis −2) of [..., ctx_k, ctx_q] scores, the future at −inf."""
    if causal:
        scores = jnp.where(causal_mask(scores.shape[-1]), scores, -jnp.inf)
    return softmax(scores, axis=-2)


def attention_pattern(Q, K, causal=True):
    """A = softmax down each column of KᵀQ / √d_head: [ctx_k ctx_q]."""
    return masked_pattern(K.T @ Q / math.sqrt(Q.shape[0]), causal)


def attention_head(E, W_Q, W_K, W_V_down, W_V_up, causal=True):
    """ΔE = W_V_up W_V_down E A."""
    A = attention_pattern(W_Q @ E, W_K @ E, causal)
    return W_V_up @ (W_V_down @ E @ A)


def cross_attention_head(E_q, E_kv, W_Q, W_K, W_V_down, W_V_up):
    """ΔE = W_V_up W_V_down E_kv A with A = attention_pattern(W_Q E_q, W_K E_kv), no mask."""
    A = attention_pattern(W_Q @ E_q, W_K @ E_kv, causal=False)
    return W_V_up @ (W_V_down @ E_kv @ A)


def multi_head_attention(E, W_Q, W_K, W_V_down, W_O, causal=True):
    """ΔE = W_O · concat_h(W_V_down[h] E A_h): head h's d_head rows are block h of the concatenation."""
    n_heads, d_head, _ = W_Q.shape
    Q, K, V = W_Q @ E, W_K @ E, W_V_down @ E  # [n_heads d_head ctx]
    A = masked_pattern(jnp.swapaxes(K, -1, -2) @ Q / math.sqrt(d_head), causal)
    return W_O @ (V @ A).reshape(n_heads * d_head, E.shape[1])


def gelu(x):
    """GELU, tanh form (GPT-2's): ½ x (1 + tanh(√(2/π) (x + 0.044715 x³)))."""
    return 0.5 * x * (1 + jnp.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def mlp(E, W_up, b_up, W_down, b_down):
    """ΔE = W_down GELU(W_up E + b_up) + b_down, the biases added to every column."""
    return W_down @ gelu(W_up @ E + b_up[:, None]) + b_down[:, None]


def sample(logits, temperature, rng):
    """argmax at T = 0, else invert the cumulative softmax(logits / T) at one rng.random()."""
    if not 0 <= temperature <= T_MAX:
        raise ValueError(f"temperature must satisfy 0 <= T <= {T_MAX}, got {temperature}")
    if temperature == 0:
        return int(jnp.argmax(logits))
    cdf = jnp.cumsum(softmax(logits, temperature))
    i = int(jnp.searchsorted(cdf, rng.random() * cdf[-1], side="right"))
    return min(i, logits.shape[0] - 1)


def layer_norm(E, gain, bias):
    """(E − mean) / √(var + ε) down each column (over d_model), then · gain + bias."""
    mean = jnp.mean(E, axis=0, keepdims=True)
    var = jnp.var(E, axis=0, keepdims=True)
    return (E - mean) / jnp.sqrt(var + LAYER_NORM_EPS) * gain[:, None] + bias[:, None]


def block(E, weights):
    """E ← E + MHA(LN₁(E)); E ← E + MLP(LN₂(E))."""
    w = weights
    E = E + multi_head_attention(layer_norm(E, w.ln1_gain, w.ln1_bias), w.W_Q, w.W_K, w.W_V_down, w.W_O)
    return E + mlp(layer_norm(E, w.ln2_gain, w.ln2_bias), w.W_up, w.b_up, w.W_down, w.b_down)


def final_residual(tokens, weights):
    """LN_f(blocks(W_E · onehot(tokens) + W_pos[:, :ctx]))."""
    E = embed(tokens, weights.W_E) + weights.W_pos[:, : tokens.shape[0]]
    for layer in weights.blocks:
        E = block(E, layer)
    return layer_norm(E, weights.lnf_gain, weights.lnf_bias)


def forward(tokens, weights):
    """logits = W_U · LN_f(blocks(...)): [vocab ctx]."""
    return unembed(final_residual(tokens, weights), weights.W_U)


def next_token_probs(tokens, weights, temperature=1.0):
    """softmax(W_U · LN_f(...)[:, −1] / T): only the last column is unembedded."""
    return softmax(unembed(final_residual(tokens, weights)[:, -1:], weights.W_U)[:, 0], temperature)
