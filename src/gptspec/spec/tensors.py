"""The tensor table of the design: every tensor of the spec, its jaxtyping type and meaning.

Shapes come from :mod:`gptspec.spec.hints`: ``hints.shape_for(hint, config, ctx)`` evaluates any
jaxtyping type of the spec with a config's sizes ("n_heads*d_head" included), so every tool —
``gptspec explain``, the flow, the shape-only weights, the property strategies — gets numbers
from the symbols in one way. ``dim_sizes`` and ``hint_shape`` are that module's, kept here by
their old names.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from . import hints
from . import types as T
from .config import Config
from .hints import dim_sizes
from .hints import shape as hint_shape

__all__ = ["Tensor", "TENSORS", "dim_sizes", "hint_shape", "shape_under"]


@dataclasses.dataclass(frozen=True)
class Tensor:
    name: str
    hint: Any  # a jaxtyping type from gptspec.spec.types
    meaning: str
    kind: str  # "input", "weight", "activation" or "cache"
    per: str = ""  # for weights: "once", "per layer"; stacked per-head weights are per layer

    @property
    def dims(self) -> str:
        return hints.dim_text(self.hint)


TENSORS: tuple[Tensor, ...] = (
    Tensor("tokens", T.Tokens, "token ids, 0 <= id < vocab", "input"),
    Tensor("W_E", T.EmbeddingMatrix, "embedding matrix; column t is token t's vector", "weight", "once"),
    Tensor("W_pos", T.PositionMatrix, "position embedding; column p is added at position p", "weight", "once"),
    Tensor("E", T.Embeddings, "embeddings, one column per position", "activation"),
    Tensor("W_Q", T.StackedQueryMatrix, "query matrices, one slice per head", "weight", "per layer"),
    Tensor("W_K", T.StackedKeyMatrix, "key matrices, one slice per head", "weight", "per layer"),
    Tensor("Q", T.Queries, "queries of one head, W_Q[h] E", "activation"),
    Tensor("K", T.Keys, "keys of one head, W_K[h] E", "activation"),
    Tensor("scores", T.Scores, "KᵀQ / √d_head: keys down, queries across", "activation"),
    Tensor("mask", T.Mask, "True where key <= query; the lower-left is masked", "activation"),
    Tensor("A", T.Pattern, "attention pattern, softmax down each column", "activation"),
    Tensor("W_V_down", T.StackedValueDown, "value-down matrices, one slice per head", "weight", "per layer"),
    Tensor("W_V_up", T.ValueUp, "value-up of one head = column block h of W_O", "activation"),
    Tensor("W_O", T.OutputMatrix, "output matrix: the heads' value-ups side by side", "weight", "per layer"),
    Tensor("ΔE", T.DeltaE, "what attention (or the MLP) adds to each column", "activation"),
    Tensor("ln gain, bias", T.LayerNormGain, "layer-norm scale and shift (×2 per block, ×2 each)", "weight", "4 per layer"),
    Tensor("W_up", T.MLPUp, "MLP up-projection", "weight", "per layer"),
    Tensor("b_up", T.MLPUpBias, "MLP up bias", "weight", "per layer"),
    Tensor("W_down", T.MLPDown, "MLP down-projection", "weight", "per layer"),
    Tensor("b_down", T.MLPDownBias, "MLP down bias", "weight", "per layer"),
    Tensor("W_U", T.UnembeddingMatrix, "unembedding matrix, the reverse of W_E", "weight", "once"),
    Tensor("logits", T.Logits, "W_U E; prediction reads the last column", "activation"),
    Tensor("probs", T.Probabilities, "softmax(logits[:, −1] / T)", "activation"),
    Tensor("K_past", T.CachedKeys, "KV cache: W_K E of the ctx_past = n_ctx − ctx positions already seen",
           "cache", "per layer"),
    Tensor("V_past", T.CachedValues, "KV cache: W_V_down E of them; a call appends its ctx_new = ctx columns",
           "cache", "per layer"),
)


def shape_under(tensor: Tensor, config: Config, ctx: int | None = None) -> tuple[int, ...]:
    """The tensor's shape with the config's sizes (ctx, ctx_q, ctx_k = ``ctx`` or n_ctx)."""
    return hints.shape_for(tensor.hint, config, ctx)
