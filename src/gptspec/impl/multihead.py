"""Multi-head attention: every head at once, merged by the output matrix."""

from __future__ import annotations

import math

from ..spec import implements
from ..spec import signatures as S
from ..spec.types import DeltaE, Embeddings, OutputMatrix, StackedKeyMatrix, StackedQueryMatrix, StackedValueDown
from .attention import masked_pattern


@implements(S.multi_head_attention)
def multi_head_attention(
    E: Embeddings,
    W_Q: StackedQueryMatrix,
    W_K: StackedKeyMatrix,
    W_V_down: StackedValueDown,
    W_O: OutputMatrix,
    causal: bool = True,
) -> DeltaE:
    """ΔE = W_O · concat_h(W_V_down[h] E A_h), A_h = softmax_cols(K_hᵀ Q_h / √d_head), masked.

    The heads are stacked on axis 0; concatenating them stacks head h's d_head rows as block h,
    matching column block h of W_O.
    """
    n_heads, d_head, _ = W_Q.shape
    Q, K, V = W_Q @ E, W_K @ E, W_V_down @ E  # [n_heads d_head ctx] each
    A = masked_pattern(K.swapaxes(-1, -2) @ Q / math.sqrt(d_head), causal, "multi_head_attention")
    heads = V @ A  # [n_heads d_head ctx]: head h's W_V_down E A_h
    return W_O @ heads.reshape(n_heads * d_head, E.shape[1])
