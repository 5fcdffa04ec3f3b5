"""The typed signature of every function of the spec: the published API users code against.

Each function here is a specification, not an implementation: its annotations give the shape of
every argument and of the result (in the video's orientation, columns are tokens), and its
docstring gives the formula. ``gptspec.impl`` provides all of them with exactly these names,
argument orders and defaults; a user's implementation provides some of them.

The bodies raise :class:`NotImplementedError`: call ``gptspec.impl`` to compute.
"""

from __future__ import annotations

import numpy as np

from .types import (
    AnyFloat,
    CrossDeltaE,
    DeltaE,
    EmbeddingMatrix,
    Embeddings,
    KeyMatrix,
    Keys,
    KeysK,
    KeysSoFar,
    KeyValueEmbeddings,
    KVCache,
    KVCacheAfter,
    CachedKeys,
    CachedValues,
    NewDeltaE,
    NewEmbeddings,
    NewLogits,
    NewTokens,
    ValuesSoFar,
    LayerNormBias,
    LayerNormGain,
    LogitVector,
    Logits,
    CausalMask,
    MLPDown,
    MLPDownBias,
    MLPUp,
    MLPUpBias,
    OutputMatrix,
    Pattern,
    Probabilities,
    QueryEmbeddings,
    QueryMatrix,
    QueriesQ,
    StackedKeyMatrix,
    StackedQueryMatrix,
    StackedValueDown,
    Tokens,
    UnembeddingMatrix,
    ValueDown,
    ValueUp,
)
from .weights import BlockWeights, Weights

__all__ = [
    "FUNCTIONS", "MODEL_FUNCTIONS", "SIGNATURES",
    "embed", "unembed", "softmax", "causal_mask", "attention_pattern", "attention_head",
    "cross_attention_head", "multi_head_attention", "mlp", "sample",
    "layer_norm", "block", "forward", "next_token_probs",
    "multi_head_attention_cached", "forward_cached",
]


def _spec_only(name: str) -> NotImplementedError:
    return NotImplementedError(f"gptspec.spec.{name} is a signature; call gptspec.impl.{name}")


def embed(tokens: Tokens, W_E: EmbeddingMatrix) -> Embeddings:
    """E = W_E · onehot(tokens): column i of E is column tokens[i] of W_E.

    Token ids must satisfy 0 <= id < vocab; a negative id is an error, never a wrap-around.
    """
    raise _spec_only("embed")


def unembed(E: Embeddings, W_U: UnembeddingMatrix) -> Logits:
    """logits = W_U E: one column of logits (over the vocabulary) per position."""
    raise _spec_only("unembed")


def softmax(x: AnyFloat, temperature: float = 1.0, axis: int = -1) -> AnyFloat:
    """softmax(x / T) along ``axis``: exp((x_i − max x) / T) / Σ_j exp((x_j − max x) / T).

    Any T with 0 < T < inf. −inf entries get probability 0. Same in both layouts.
    """
    raise _spec_only("softmax")


def causal_mask(ctx: int) -> CausalMask:
    """mask[k, q] = (k <= q): True where key position k may inform query position q.

    Keys down the rows, queries across the columns, so the lower-left (k > q) is masked.
    """
    raise _spec_only("causal_mask")


def attention_pattern(Q: QueriesQ, K: KeysK, causal: bool = True) -> Pattern:
    """A = softmax down each column of KᵀQ / √d_head, with masked entries at −inf.

    Columns (queries) sum to 1. ``causal=True`` is self-attention: ctx_q must equal ctx_k.
    """
    raise _spec_only("attention_pattern")


def attention_head(
    E: Embeddings,
    W_Q: QueryMatrix,
    W_K: KeyMatrix,
    W_V_down: ValueDown,
    W_V_up: ValueUp,
    causal: bool = True,
) -> DeltaE:
    """ΔE = W_V_up W_V_down E A with A = attention_pattern(W_Q E, W_K E, causal)."""
    raise _spec_only("attention_head")


def cross_attention_head(
    E_q: QueryEmbeddings,
    E_kv: KeyValueEmbeddings,
    W_Q: QueryMatrix,
    W_K: KeyMatrix,
    W_V_down: ValueDown,
    W_V_up: ValueUp,
) -> CrossDeltaE:
    """ΔE = W_V_up W_V_down E_kv A with A = attention_pattern(W_Q E_q, W_K E_kv, causal=False).

    No mask: every query sees every key.
    """
    raise _spec_only("cross_attention_head")


def multi_head_attention(
    E: Embeddings,
    W_Q: StackedQueryMatrix,
    W_K: StackedKeyMatrix,
    W_V_down: StackedValueDown,
    W_O: OutputMatrix,
    causal: bool = True,
) -> DeltaE:
    """ΔE = W_O · concat_h(W_V_down[h] E A_h) = Σ_h W_O[:, block h] W_V_down[h] E A_h.

    A_h = attention_pattern(W_Q[h] E, W_K[h] E, causal); column block h of W_O is head h's W_V_up.
    """
    raise _spec_only("multi_head_attention")


def multi_head_attention_cached(
    E: NewEmbeddings,
    W_Q: StackedQueryMatrix,
    W_K: StackedKeyMatrix,
    W_V_down: StackedValueDown,
    W_O: OutputMatrix,
    K_past: CachedKeys,
    V_past: CachedValues,
) -> tuple[NewDeltaE, KeysSoFar, ValuesSoFar]:
    """(ΔE, K, V): multi_head_attention of the ctx_new new columns E after ctx_past cached ones.

    K = [K_past | W_K E], V = [V_past | W_V_down E] along the positions (the cache, then the new);
    ΔE = W_O · concat_h(V_h A_h), A_h = softmax_cols(K_hᵀ (W_Q[h] E) / √d_head) with new query i
    (position ctx_past + i) seeing every cached key and the new keys up to itself: the causal mask
    of the whole sequence, its last ctx_new columns (aligned bottom-right). K_past, V_past are
    [n_heads d_head 0] before the first call; they are read, never modified.
    """
    raise _spec_only("multi_head_attention_cached")


def mlp(E: Embeddings, W_up: MLPUp, b_up: MLPUpBias, W_down: MLPDown, b_down: MLPDownBias) -> DeltaE:
    """ΔE = W_down · GELU(W_up E + b_up) + b_down, GELU in its tanh form (as GPT-2/3)."""
    raise _spec_only("mlp")


def sample(logits: LogitVector, temperature: float, rng: np.random.Generator) -> int:
    """A token id drawn from softmax(logits / T); T = 0 is greedy argmax.

    0 <= T <= 2; T < 0, T > 2 or NaN is an error.
    """
    raise _spec_only("sample")


# The model level


def layer_norm(E: Embeddings, gain: LayerNormGain, bias: LayerNormBias) -> Embeddings:
    """Each column normalised to mean 0 and variance 1 over d_model, then scaled and shifted."""
    raise _spec_only("layer_norm")


def block(E: Embeddings, weights: BlockWeights) -> Embeddings:
    """E + ΔE_attn, then + ΔE_mlp, each computed from the layer-normed residual (pre-LN)."""
    raise _spec_only("block")


def forward(tokens: Tokens, weights: Weights) -> Logits:
    """logits = W_U · LN_f(blocks(W_E · onehot(tokens) + W_pos[:, :ctx]))."""
    raise _spec_only("forward")


def next_token_probs(tokens: Tokens, weights: Weights, temperature: float = 1.0) -> Probabilities:
    """softmax(forward(tokens, weights)[:, −1] / T): the prediction uses the last column only."""
    raise _spec_only("next_token_probs")


def forward_cached(
    tokens: NewTokens, weights: Weights, cache: KVCache | None = None
) -> tuple[NewLogits, KVCacheAfter]:
    """(logits, cache'): forward on the new tokens, after the ctx_past positions ``cache`` holds.

    Positions continue at the cache's length (W_pos[:, ctx_past : ctx_past + ctx_new]); each layer
    attends with multi_head_attention_cached on its (K_past, V_past) and cache' holds its (K, V).
    None (or an empty sequence) is the empty cache. ctx_past + ctx_new > n_ctx is an error, never a
    wrap or a truncation; the cache passed in is not modified. For any split of tokens into chunks,
    feeding them one after another gives forward(tokens)'s logits, column for column.
    """
    raise _spec_only("forward_cached")


FUNCTIONS = (
    embed, unembed, softmax, causal_mask, attention_pattern, attention_head,
    cross_attention_head, multi_head_attention, mlp, sample, multi_head_attention_cached,
)
"""The functions of DESIGN's list: what a user's implementation may provide."""

MODEL_FUNCTIONS = (layer_norm, block, forward, next_token_probs, forward_cached)
"""The model level, specified by the spec's own weights container."""

SIGNATURES = {f.__name__: f for f in FUNCTIONS + MODEL_FUNCTIONS}
"""Every spec function by name."""
