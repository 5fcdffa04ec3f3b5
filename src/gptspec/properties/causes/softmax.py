"""The softmax: its axis, its max shift, its temperature, its form."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .base import PATTERN, SOFTMAX, Change, Fit, Namespace, cause

__all__ = ["TEMPERATURE_MULTIPLIED", "SOFTMAX_LOG", "SOFTMAX_NEGATED", "SOFTMAX_EXP2", "SOFTMAX_PLUS_ONE"]

@cause("pattern-softmax-over-queries", "the pattern's softmax runs along each row (over queries), not down each "
       "column (over keys)", PATTERN)
def _pattern_over_queries(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    causal_mask, softmax = g["causal_mask"], g["softmax"]

    def masked_pattern(scores, causal, fn):
        if causal:  # each row k keeps its entry q = k: no row is all −∞
            scores = np.where(causal_mask(scores.shape[-1]), scores, -np.inf)
        return softmax(scores, 1.0, -1)

    return {"masked_pattern": masked_pattern}


@cause("softmax-axis-0", "softmax ignores its axis and normalises along axis 0", ("softmax",))
def _softmax_axis_zero(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    softmax = g["softmax"]

    def softmax_axis_zero(x, temperature=1.0, axis=-1):
        return softmax(x, temperature, 0)

    return {"softmax": softmax_axis_zero}


@cause("softmax-axis-last", "softmax ignores its axis and normalises along the last axis", ("softmax",))
def _softmax_axis_last(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    softmax = g["softmax"]

    def softmax_axis_last(x, temperature=1.0, axis=-1):
        return softmax(x, temperature, -1)

    return {"softmax": softmax_axis_last}


@cause("softmax-no-max-shift", "softmax does not subtract the maximum before exp: exp(x / T) overflows to inf "
       "(and inf / inf is NaN) for large x", SOFTMAX)
def _softmax_no_max_shift(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    def softmax(x, temperature=1.0, axis=-1):
        with np.errstate(all="ignore"):
            z = np.exp(x / x.dtype.type(temperature) if x.dtype.kind == "f" else x / temperature)
            return z / z.sum(axis=axis, keepdims=True)

    return {"softmax": softmax}


def _softmax_of(transform: Callable[[np.ndarray, float, int, Callable[..., np.ndarray]], np.ndarray]) -> Change:
    def change(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
        softmax = g["softmax"]

        def changed_softmax(x, temperature=1.0, axis=-1):
            with np.errstate(all="ignore"):
                return transform(x, temperature, axis, softmax)

        return {"softmax": changed_softmax}

    return change


def _times_T(x: np.ndarray, T: float, axis: int, softmax: Callable[..., np.ndarray]) -> np.ndarray:
    if T <= 0 or not math.isfinite(T):
        return softmax(x, T, axis)  # invalid T is still refused
    return softmax(x * x.dtype.type(T), 1.0, axis)


def _log(x: np.ndarray, T: float, axis: int, softmax: Callable[..., np.ndarray]) -> np.ndarray:
    return np.log(softmax(x, T, axis))


def _negated(x: np.ndarray, T: float, axis: int, softmax: Callable[..., np.ndarray]) -> np.ndarray:
    return softmax(-x, T, axis)


def _exp2(x: np.ndarray, T: float, axis: int, softmax: Callable[..., np.ndarray]) -> np.ndarray:
    return softmax(x * x.dtype.type(math.log(2)), T, axis)


def _plus_one(x: np.ndarray, T: float, axis: int, softmax: Callable[..., np.ndarray]) -> np.ndarray:
    top = np.maximum(np.max(x, axis=axis, keepdims=True), 0)
    z = np.exp((x - top) / T)
    return z / (np.exp(-top / T) + z.sum(axis=axis, keepdims=True))


TEMPERATURE_MULTIPLIED = cause("temperature-multiplied", "the temperature multiplies the logits (x · T), not divides "
                               "them (x / T)", ("softmax", "next_token_probs", "sample"))(_softmax_of(_times_T))
SOFTMAX_LOG = cause("softmax-log", "softmax returns the log of the probabilities (log-softmax)", SOFTMAX)(
    _softmax_of(_log))
SOFTMAX_NEGATED = cause("softmax-negated", "softmax is taken of −x: the largest logit gets the smallest probability",
                        SOFTMAX)(_softmax_of(_negated))
SOFTMAX_EXP2 = cause("softmax-exp2", "softmax uses 2^x in place of e^x (a base-2 kernel without the log2(e) factor)",
                     SOFTMAX)(_softmax_of(_exp2))
SOFTMAX_PLUS_ONE = cause("softmax-plus-one", "softmax adds 1 to its denominator (exp(x) / (1 + Σ exp(x))): a phantom "
                         "logit 0 absorbs probability", SOFTMAX)(_softmax_of(_plus_one))


@cause("softmax-floor", "softmax adds a floor of {value} to every probability (then renormalises): −∞ gets a "
       "probability", SOFTMAX, Fit(1e-30, 1e-1, 1.0, "floor"))
def _softmax_floor(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    softmax = g["softmax"]

    def floored(x, temperature=1.0, axis=-1):
        z = softmax(x, temperature, axis) + x.dtype.type(p)
        return z / z.sum(axis=axis, keepdims=True)

    return {"softmax": floored}


@cause("softmax-clips-logits", "softmax clips the logits at {value} (a finite stand-in for −∞)", SOFTMAX,
       Fit(1e0, 1e38, -1.0, "clip"))
def _softmax_clips(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    softmax = g["softmax"]

    def clipped(x, temperature=1.0, axis=-1):
        return softmax(np.maximum(x, x.dtype.type(-p)), temperature, axis)

    return {"softmax": clipped}
