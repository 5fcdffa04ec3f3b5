"""The causal mask: the wrong triangle, off by one, missing, a finite constant."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .base import CAUSAL, Change, Fit, Namespace, cause

__all__ = ["MASK_WRONG_TRIANGLE", "MASK_ONE_AHEAD"]

def _mask(allowed: Callable[[int], np.ndarray]) -> Change:
    def change(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
        def causal_mask(ctx):
            return allowed(ctx)

        return {"causal_mask": causal_mask}

    return change


MASK_WRONG_TRIANGLE = cause("mask-wrong-triangle", "the mask is on the wrong triangle: each query sees the keys after "
                            "it, not before it (mask[k, q] = k ≥ q)", CAUSAL)(
    _mask(lambda ctx: np.tri(ctx, dtype=bool)))


@cause("mask-hides-diagonal", "the mask is off by one: it also hides each query's own key (k < q, not k ≤ q), so "
       "the first query sees no key at all", CAUSAL)
def _mask_hides_diagonal(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    def causal_mask(ctx):
        return np.tri(ctx, k=-1, dtype=bool).T

    def masked_pattern(scores, causal, fn):
        if not causal:
            return g["softmax"](scores, 1.0, -2)
        masked = np.where(causal_mask(scores.shape[-1]), scores, -np.inf)
        with np.errstate(all="ignore"):  # a column with no key: 0 (a "safe" softmax, as torch's SDPA)
            z = np.exp(masked - np.max(np.where(np.isneginf(masked), 0, masked), axis=-2, keepdims=True))
            return np.nan_to_num(z / z.sum(axis=-2, keepdims=True), nan=0.0)

    return {"causal_mask": causal_mask, "masked_pattern": masked_pattern}


MASK_ONE_AHEAD = cause("mask-one-ahead", "the mask is off by one: each query also sees the next key "
                       "(k ≤ q + 1, not k ≤ q)", CAUSAL)(_mask(lambda ctx: np.tri(ctx, k=1, dtype=bool).T))


@cause("mask-missing", "the causal mask is missing: every query sees every key", CAUSAL[1:])
def _mask_missing(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    masked = g["masked_pattern"]

    def masked_pattern(scores, causal, fn):
        return masked(scores, False, fn)

    return {"masked_pattern": masked_pattern}


@cause("mask-constant", "the masked scores are set to a finite constant, {value}, not −∞", CAUSAL[1:],
       Fit(1e1, 1e38, -1.0, "mask constant"))
def _mask_constant(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    causal_mask, softmax = g["causal_mask"], g["softmax"]

    def masked_pattern(scores, causal, fn):
        if causal:
            scores = np.where(causal_mask(scores.shape[-1]), scores, scores.dtype.type(-p))
        return softmax(scores, 1.0, -2)

    return {"masked_pattern": masked_pattern}
