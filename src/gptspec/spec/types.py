"""jaxtyping aliases for every tensor of the spec, in the video's orientation (columns are tokens).

Each alias is a jaxtyping array type whose dims name the symbols of :mod:`gptspec.spec.dims`.
Reading this module top to bottom is reading the shape table of the design.
"""

from __future__ import annotations

import numpy as np
from jaxtyping import Bool, Float, Int

__all__ = [
    "Tokens", "EmbeddingMatrix", "Embeddings", "UnembeddingMatrix", "Logits", "LogitVector",
    "Probabilities", "QueryMatrix", "KeyMatrix", "Queries", "Keys", "QueriesQ", "KeysK",
    "Scores", "Mask", "CausalMask", "Pattern", "ValueDown", "ValueUp", "DeltaE", "QueryEmbeddings",
    "KeyValueEmbeddings", "CrossDeltaE", "StackedQueryMatrix", "StackedKeyMatrix",
    "StackedValueDown", "OutputMatrix", "MLPUp", "MLPUpBias", "MLPDown", "MLPDownBias",
    "LayerNormGain", "LayerNormBias", "PositionMatrix", "AnyFloat",
    "NewTokens", "NewEmbeddings", "NewDeltaE", "NewLogits", "CachedKeys", "CachedValues", "KeysSoFar",
    "ValuesSoFar", "LayerCache", "LayerCacheAfter", "KVCache", "KVCacheAfter",
]

Array = np.ndarray

# Tokens and the embedding
Tokens = Int[Array, "ctx"]  # token ids, 0 <= id < vocab
EmbeddingMatrix = Float[Array, "d_model vocab"]  # W_E: column t is token t's vector
Embeddings = Float[Array, "d_model ctx"]  # E: one column per position
PositionMatrix = Float[Array, "d_model n_ctx"]  # W_pos: column p is position p's vector

# Unembedding and prediction
UnembeddingMatrix = Float[Array, "vocab d_model"]  # W_U: "the reverse of W_E"
Logits = Float[Array, "vocab ctx"]  # W_U E
LogitVector = Float[Array, "vocab"]  # one column of the logits
Probabilities = Float[Array, "vocab"]  # softmax of a logit vector

# One attention head (self-attention: queries and keys cover the same positions)
QueryMatrix = Float[Array, "d_head d_model"]  # W_Q
KeyMatrix = Float[Array, "d_head d_model"]  # W_K
Queries = Float[Array, "d_head ctx"]  # Q = W_Q E
Keys = Float[Array, "d_head ctx"]  # K = W_K E
QueriesQ = Float[Array, "d_head ctx_q"]  # Q, when queries and keys may differ in length
KeysK = Float[Array, "d_head ctx_k"]  # K, likewise
Scores = Float[Array, "ctx_k ctx_q"]  # K^T Q / sqrt(d_head): keys down, queries across
Mask = Bool[Array, "ctx_k ctx_q"]  # True where key <= query (allowed)
CausalMask = Bool[Array, "ctx ctx"]  # the causal mask of self-attention
Pattern = Float[Array, "ctx_k ctx_q"]  # A: softmax down each column
ValueDown = Float[Array, "d_head d_model"]  # W_V_down
ValueUp = Float[Array, "d_model d_head"]  # W_V_up; W_V = W_V_up W_V_down
DeltaE = Float[Array, "d_model ctx"]  # what attention (or the MLP) adds to each column

# Cross-attention: queries from one sequence, keys and values from another
QueryEmbeddings = Float[Array, "d_model ctx_q"]  # E_q
KeyValueEmbeddings = Float[Array, "d_model ctx_k"]  # E_kv
CrossDeltaE = Float[Array, "d_model ctx_q"]

# Multi-head attention: one slice per head, and the output matrix
StackedQueryMatrix = Float[Array, "n_heads d_head d_model"]
StackedKeyMatrix = Float[Array, "n_heads d_head d_model"]
StackedValueDown = Float[Array, "n_heads d_head d_model"]
OutputMatrix = Float[Array, "d_model n_heads*d_head"]  # W_O: column block h is head h's W_V_up

# The MLP (GELU, tanh form) and layer norm
MLPUp = Float[Array, "d_mlp d_model"]
MLPUpBias = Float[Array, "d_mlp"]
MLPDown = Float[Array, "d_model d_mlp"]
MLPDownBias = Float[Array, "d_model"]
LayerNormGain = Float[Array, "d_model"]
LayerNormBias = Float[Array, "d_model"]

# softmax takes any float array and returns one of the same shape
AnyFloat = Float[Array, "*shape"]

# Incremental decoding (the KV cache): ctx_new positions fed after ctx_past already seen
NewTokens = Int[Array, "ctx_new"]  # the tokens of this call
NewEmbeddings = Float[Array, "d_model ctx_new"]  # E of the new positions only
NewDeltaE = Float[Array, "d_model ctx_new"]  # what attention adds to each new column
NewLogits = Float[Array, "vocab ctx_new"]  # one column of logits per new position
CachedKeys = Float[Array, "n_heads d_head ctx_past"]  # K_past: W_K E of the positions already seen, per head
CachedValues = Float[Array, "n_heads d_head ctx_past"]  # V_past: W_V_down E of them
KeysSoFar = Float[Array, "n_heads d_head ctx_past+ctx_new"]  # K after the call: the cached keys, then the new
ValuesSoFar = Float[Array, "n_heads d_head ctx_past+ctx_new"]  # V after the call, likewise
LayerCache = tuple[CachedKeys, CachedValues]  # one layer's (K_past, V_past)
LayerCacheAfter = tuple[KeysSoFar, ValuesSoFar]  # one layer's (K, V) after the call
KVCache = tuple[LayerCache, ...]  # the cache: one (K_past, V_past) per layer (a list of pairs is accepted)
KVCacheAfter = tuple[LayerCacheAfter, ...]  # the cache forward_cached returns, ctx_new positions longer
