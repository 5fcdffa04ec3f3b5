"""A wrong softmax (no temperature, no max shift: it ignores T) that also replaces gptspec's
reference with itself, so that a verifier comparing in the same process would agree with the fake."""

import numpy as np

import gptspec.impl


def softmax(x, temperature=1.0, axis=-1):
    z = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return z / z.sum(axis=axis, keepdims=True)


gptspec.impl.softmax = softmax
