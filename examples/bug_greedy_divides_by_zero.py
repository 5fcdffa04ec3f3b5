"""Bug: sample divides the logits by T before looking at T, so T = 0 is not greedy.

logits / 0 is ±inf (or NaN for a zero logit), the softmax of that is NaN, and the draw returns
whatever index the NaN cumulative sum gives — not the argmax (nanoGPT had this crash).

    gptspec verify examples/bug_greedy_divides_by_zero.py --layout rows
"""

import numpy as np

import numpy_rows as ok


def sample(logits, temperature, rng):
    if not 0 <= temperature <= ok.T_MAX:
        raise ValueError(f"temperature must satisfy 0 <= T <= {ok.T_MAX}, got {temperature}")
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.exp(logits / temperature - np.max(logits / temperature))  # BUG: no T = 0 case
    cdf = np.cumsum(z / z.sum())
    return int(min(np.searchsorted(cdf, rng.random(), side="right"), len(z) - 1))
