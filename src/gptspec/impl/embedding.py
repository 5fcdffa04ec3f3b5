"""Embedding and unembedding: tokens to columns, columns to logits."""

from __future__ import annotations

from ..spec import implements
from ..spec import signatures as S
from ..spec.types import EmbeddingMatrix, Embeddings, Logits, Tokens, UnembeddingMatrix
from . import validate


@implements(S.embed)
def embed(tokens: Tokens, W_E: EmbeddingMatrix) -> Embeddings:
    """E = W_E · onehot(tokens): column i of E is column tokens[i] of W_E."""
    validate.tokens_in_vocab("embed", tokens, W_E.shape[1])
    return W_E[:, tokens]


@implements(S.unembed)
def unembed(E: Embeddings, W_U: UnembeddingMatrix) -> Logits:
    """logits = W_U E."""
    return W_U @ E
