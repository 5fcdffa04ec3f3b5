"""The MLP of a block: up-projection, GELU, down-projection."""

from __future__ import annotations

import math

import numpy as np

from ..spec import implements
from ..spec import signatures as S
from ..spec.types import DeltaE, Embeddings, MLPDown, MLPDownBias, MLPUp, MLPUpBias

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def gelu(x: np.ndarray) -> np.ndarray:
    """GELU, tanh form: ½ x (1 + tanh(√(2/π) (x + 0.044715 x³)))."""
    return 0.5 * x * (1.0 + np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x**3)))


@implements(S.mlp)
def mlp(E: Embeddings, W_up: MLPUp, b_up: MLPUpBias, W_down: MLPDown, b_down: MLPDownBias) -> DeltaE:
    """ΔE = W_down · GELU(W_up E + b_up) + b_down (biases added to every column)."""
    return W_down @ gelu(W_up @ E + b_up[:, None]) + b_down[:, None]
