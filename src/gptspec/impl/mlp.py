"""The MLP of a block: up-projection, GELU, down-projection."""

from __future__ import annotations

import contextvars
import math

import numpy as np

from ..spec import implements
from ..spec import signatures as S
from ..spec.types import DeltaE, Embeddings, MLPDown, MLPDownBias, MLPUp, MLPUpBias

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


GELU_FORM: contextvars.ContextVar[str] = contextvars.ContextVar("gptspec_gelu_form", default="tanh")
"""The GELU the reference computes: "tanh" (the spec's, GPT-2's) or "erf" (the ``gelu=erf``
variant a target declares: :func:`gptspec.properties.domain.scoped` sets it for a run)."""

_ERF = np.vectorize(math.erf, otypes=[np.float64])


def gelu(x: np.ndarray) -> np.ndarray:
    """GELU, tanh form: ½ x (1 + tanh(√(2/π) (x + 0.044715 x³))); erf form under ``GELU_FORM``
    "erf": ½ x (1 + erf(x / √2)) (math.erf per element, in float64)."""
    if GELU_FORM.get() == "erf":
        return (0.5 * x * (1.0 + _ERF(x / math.sqrt(2.0)).astype(x.dtype))).astype(x.dtype)
    return 0.5 * x * (1.0 + np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x**3)))


@implements(S.mlp)
def mlp(E: Embeddings, W_up: MLPUp, b_up: MLPUpBias, W_down: MLPDown, b_down: MLPDownBias) -> DeltaE:
    """ΔE = W_down · GELU(W_up E + b_up) + b_down (biases added to every column)."""
    return W_down @ gelu(W_up @ E + b_up[:, None]) + b_down[:, None]
