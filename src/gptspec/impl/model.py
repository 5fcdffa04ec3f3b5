"""The model level: layer norm, a block, the forward pass, the next-token distribution."""

from __future__ import annotations

import numpy as np

from ..spec import BlockWeights, Weights, implements, located
from ..spec import signatures as S
from ..spec.types import Embeddings, LayerNormBias, LayerNormGain, Logits, Probabilities, Tokens
from . import validate
from .embedding import embed, unembed
from .mlp import mlp
from .multihead import multi_head_attention
from .softmax import softmax

LAYER_NORM_EPS = 1e-5


@implements(S.layer_norm)
def layer_norm(E: Embeddings, gain: LayerNormGain, bias: LayerNormBias) -> Embeddings:
    """(E − mean) / √(var + ε) per column, over d_model, then · gain + bias."""
    mean = E.mean(axis=0, keepdims=True)
    var = E.var(axis=0, keepdims=True)
    return (E - mean) / np.sqrt(var + LAYER_NORM_EPS) * gain[:, None] + bias[:, None]


@implements(S.block)
def block(E: Embeddings, weights: BlockWeights) -> Embeddings:
    """E ← E + MHA(LN₁(E)); E ← E + MLP(LN₂(E))."""
    w = weights
    E = E + multi_head_attention(layer_norm(E, w.ln1_gain, w.ln1_bias), w.W_Q, w.W_K, w.W_V_down, w.W_O)
    return mlp_residual(E, w)


def mlp_residual(E: np.ndarray, w: BlockWeights) -> np.ndarray:
    """E + MLP(LN₂(E)): a block's second half."""
    return E + mlp(layer_norm(E, w.ln2_gain, w.ln2_bias), w.W_up, w.b_up, w.W_down, w.b_down)


def final_residual(tokens: Tokens, weights: Weights, fn: str) -> Embeddings:
    """LN_f(blocks(W_E · onehot(tokens) + W_pos[:, :ctx])): the columns the unembedding reads."""
    validate.tokens_in_vocab(fn, tokens, weights.W_E.shape[1])
    ctx = tokens.shape[0]
    validate.context_fits(fn, ctx, weights.W_pos.shape[1])
    E = embed(tokens, weights.W_E) + weights.W_pos[:, :ctx]
    for i, layer in enumerate(weights.blocks):
        with located(f"layer {i}"):
            E = block(E, layer)
    return layer_norm(E, weights.lnf_gain, weights.lnf_bias)


@implements(S.forward)
def forward(tokens: Tokens, weights: Weights) -> Logits:
    """logits = W_U · LN_f(blocks(W_E · onehot(tokens) + W_pos[:, :ctx]))."""
    return unembed(final_residual(tokens, weights, "forward"), weights.W_U)


@implements(S.next_token_probs)
def next_token_probs(tokens: Tokens, weights: Weights, temperature: float = 1.0) -> Probabilities:
    """softmax(W_U · LN_f(...)[:, −1] / T): only the last column is unembedded."""
    validate.softmax_temperature("next_token_probs", temperature)
    E = final_residual(tokens, weights, "next_token_probs")
    return softmax(unembed(E[:, -1:], weights.W_U)[:, 0], temperature)
