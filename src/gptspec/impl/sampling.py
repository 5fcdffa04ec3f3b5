"""Drawing the next token from the logits."""

from __future__ import annotations

import numpy as np

from ..spec import SoftmaxInputError, implements, spec_error
from ..spec import signatures as S
from ..spec.types import LogitVector
from . import validate
from .softmax import softmax


@implements(S.sample)
def sample(logits: LogitVector, temperature: float, rng: np.random.Generator) -> int:
    """A token id from softmax(logits / T); T = 0 is argmax (the first maximum on ties).

    The draw inverts the cumulative distribution at one uniform number, so a token of
    probability 0 is never drawn.
    """
    T = validate.sample_temperature("sample", temperature)
    if np.isnan(logits).any():
        raise spec_error(SoftmaxInputError, "sample", "logits contain NaN")
    if T == 0.0:
        return int(np.argmax(logits))
    p = softmax(logits.astype(np.float64), T)
    cdf = np.cumsum(p)
    i = int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"))
    return min(i, logits.shape[0] - 1)
