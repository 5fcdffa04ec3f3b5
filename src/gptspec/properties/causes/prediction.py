"""Embedding, unembedding, the next-token distribution, cross-attention and sampling."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .base import MODEL, Namespace, cause

__all__ = []

@cause("token-ids-one-based", "embed reads column id + 1 (token ids taken as 1-based)", ("embed", *MODEL))
def _one_based(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    def embed(tokens, W_E):
        return W_E[:, (tokens + 1) % W_E.shape[1]]

    return {"embed": embed}


@cause("unembed-softmaxed", "unembed returns probabilities softmax(W_U E), not the logits W_U E", ("unembed",))
def _unembed_softmaxed(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    softmax = g["softmax"]

    def unembed(E, W_U):
        return softmax(W_U @ E, 1.0, 0)

    return {"unembed": unembed}


@cause("logits-positions-reversed", "the logits come out with the positions in reverse order", ("unembed", "forward"))
def _logits_reversed(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    def unembed(E, W_U):
        return (W_U @ E)[:, ::-1]

    return {"unembed": unembed}


@cause("predicts-from-first-position", "the next-token distribution is read from the first position's logits, not "
       "the last's", ("next_token_probs",))
def _first_position(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    forward, softmax = g["forward"], g["softmax"]

    def next_token_probs(tokens, weights, temperature=1.0):
        return softmax(forward(tokens, weights)[:, 0], temperature)

    return {"next_token_probs": next_token_probs}


@cause("cross-attention-masked", "cross-attention applies the causal mask (key ≤ query) to its keys; it has none",
       ("cross_attention_head",))
def _cross_masked(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    softmax = g["softmax"]

    def cross_attention_head(E_q, E_kv, W_Q, W_K, W_V_down, W_V_up):
        scores = (W_K @ E_kv).T @ (W_Q @ E_q) / math.sqrt(W_Q.shape[0])
        A = softmax(np.where(np.triu(np.ones(scores.shape, dtype=bool)), scores, -np.inf), 1.0, -2)
        return W_V_up @ (W_V_down @ E_kv @ A)

    return {"cross_attention_head": cross_attention_head}


@cause("token-ids-unchecked", "token ids are not checked against [0, vocab): a negative id silently reads a column "
       "from the end (NumPy's wrap-around)", ("embed", *MODEL))
def _ids_unchecked(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    def embed(tokens, W_E):
        return W_E[:, tokens]

    return {"embed": embed}


@cause("sample-zero-as-tiny", "sample treats T = 0 as a tiny temperature and draws (near-ties then go either way), "
       "instead of taking the argmax", ("sample",))
def _zero_as_tiny(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    sample = g["sample"]

    def changed_sample(logits, temperature, rng):
        return sample(logits, temperature or 1e-6, rng)

    return {"sample": changed_sample}


@cause("sample-argmax-half", "sample's greedy argmax (T = 0) is taken on the logits rounded to float16", ("sample",))
def _argmax_half(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    sample = g["sample"]

    def changed_sample(logits, temperature, rng):
        if temperature == 0:
            with np.errstate(all="ignore"):
                return int(np.argmax(logits.astype(np.float16)))
        return sample(logits, temperature, rng)

    return {"sample": changed_sample}


@cause("sample-divides-first", "sample divides the logits by T before subtracting their maximum (softmax(logits / T) "
       "in the logits' dtype): at a tiny T they overflow and the draw reads NaN", ("sample",))
def _divides_first(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    sample = g["sample"]

    def changed_sample(logits, temperature, rng):
        if temperature == 0 or not 0 < temperature <= 2:
            return sample(logits, temperature, rng)
        with np.errstate(all="ignore"):
            z = logits / temperature
            cdf = np.cumsum(np.exp(z - np.max(z)))
        return int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"))

    return {"sample": changed_sample}
