"""The scores' scale, which projection is which, how the heads are merged."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .base import HEADS, MHA, PATTERN, SELF, Change, Namespace, cause

__all__ = ["SCALE_1_D_HEAD", "SCALE_NONE", "SCALE_1_SQRT_D_MODEL", "Q_K_SWAPPED", "SPLIT_Q_V_K", "SPLIT_K_V_Q",
           "SPLIT_V_Q_K", "SPLIT_V_K_Q", "HEADS_INTERLEAVED", "HEADS_REVERSED", "HEAD_DROPPED_LAST",
           "HEAD_DROPPED_FIRST"]

def _scaled(factor: Callable[[int, int], float], pattern_too: bool = True) -> Change:
    """Scores scaled by factor(d_head, d_model) instead of 1/√d_head: Q (or W_Q) multiplied by
    factor · √d_head before the reference's own 1/√d_head."""

    def change(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
        pattern, head, cross, mha = (g[n] for n in ("attention_pattern", "attention_head", "cross_attention_head",
                                                    "multi_head_attention"))

        def k(W_Q: np.ndarray) -> float:
            return factor(W_Q.shape[-2], W_Q.shape[-1]) * math.sqrt(W_Q.shape[-2])

        def attention_head(E, W_Q, W_K, W_V_down, W_V_up, causal=True):
            return head(E, W_Q * k(W_Q), W_K, W_V_down, W_V_up, causal)

        def cross_attention_head(E_q, E_kv, W_Q, W_K, W_V_down, W_V_up):
            return cross(E_q, E_kv, W_Q * k(W_Q), W_K, W_V_down, W_V_up)

        def multi_head_attention(E, W_Q, W_K, W_V_down, W_O, causal=True):
            return mha(E, W_Q * k(W_Q), W_K, W_V_down, W_O, causal)

        new: dict[str, Callable[..., Any]] = {"attention_head": attention_head,
                                              "cross_attention_head": cross_attention_head,
                                              "multi_head_attention": multi_head_attention}
        if pattern_too:  # the pattern knows d_head, not d_model

            def attention_pattern(Q, K, causal=True):
                return pattern(Q * (factor(Q.shape[0], 0) * math.sqrt(Q.shape[0])), K, causal)

            new["attention_pattern"] = attention_pattern
        return new

    return change


SCALE_1_D_HEAD = cause("scale-1/d_head", "the scores are scaled by 1/d_head, not 1/√d_head", PATTERN)(
    _scaled(lambda d_head, d_model: 1 / d_head))
SCALE_NONE = cause("scale-none", "the scores are not scaled: KᵀQ without the 1/√d_head", PATTERN)(
    _scaled(lambda d_head, d_model: 1.0))
SCALE_1_SQRT_D_MODEL = cause("scale-1/sqrt(d_model)", "the scores are scaled by 1/√d_model, not 1/√d_head", HEADS)(
    _scaled(lambda d_head, d_model: 1 / math.sqrt(d_model), pattern_too=False))


@cause("scale-1/sqrt(ctx)", "the scores are scaled by 1/√ctx (the number of queries: a size(-2) for a size(-1)), "
       "not 1/√d_head", PATTERN)
def _scale_by_length(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    pattern, head, cross, mha = (g[n] for n in ("attention_pattern", "attention_head", "cross_attention_head",
                                                "multi_head_attention"))

    def k(d_head: int, ctx_q: int) -> float:
        return math.sqrt(d_head) / math.sqrt(ctx_q)

    def attention_pattern(Q, K, causal=True):
        return pattern(Q * k(Q.shape[0], Q.shape[1]), K, causal)

    def attention_head(E, W_Q, W_K, W_V_down, W_V_up, causal=True):
        return head(E, W_Q * k(W_Q.shape[0], E.shape[1]), W_K, W_V_down, W_V_up, causal)

    def cross_attention_head(E_q, E_kv, W_Q, W_K, W_V_down, W_V_up):
        return cross(E_q, E_kv, W_Q * k(W_Q.shape[0], E_q.shape[1]), W_K, W_V_down, W_V_up)

    def multi_head_attention(E, W_Q, W_K, W_V_down, W_O, causal=True):
        return mha(E, W_Q * k(W_Q.shape[1], E.shape[1]), W_K, W_V_down, W_O, causal)

    return {"attention_pattern": attention_pattern, "attention_head": attention_head,
            "cross_attention_head": cross_attention_head, "multi_head_attention": multi_head_attention}


# ---------------------------------------------------------------------------------------------
# Which projection is which


def _projections(order: tuple[int, int, int]) -> Change:
    """W_Q, W_K, W_V_down read as the ``order`` of the three: (1, 0, 2) takes W_K for queries."""

    def change(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
        pattern, head, mha = g["attention_pattern"], g["attention_head"], g["multi_head_attention"]

        def attention_head(E, W_Q, W_K, W_V_down, W_V_up, causal=True):
            W = (W_Q, W_K, W_V_down)
            return head(E, *(W[i] for i in order), W_V_up, causal)

        def multi_head_attention(E, W_Q, W_K, W_V_down, W_O, causal=True):
            W = (W_Q, W_K, W_V_down)
            return mha(E, *(W[i] for i in order), W_O, causal)

        new: dict[str, Callable[..., Any]] = {"attention_head": attention_head,
                                              "multi_head_attention": multi_head_attention}
        if order[:2] == (1, 0):

            def attention_pattern(Q, K, causal=True):
                return pattern(K, Q, causal)

            new["attention_pattern"] = attention_pattern
        return new

    return change


Q_K_SWAPPED = cause("q-k-swapped", "queries and keys are swapped: the keys are computed with W_Q and the queries "
                    "with W_K (a fused projection split as k, q, v)", ("attention_pattern", *SELF))(
    _projections((1, 0, 2)))
SPLIT_Q_V_K = cause("split-q,v,k", "the fused projection is split as q, v, k, not q, k, v: the keys come from "
                    "W_V_down and the values from W_K", SELF)(_projections((0, 2, 1)))
SPLIT_K_V_Q = cause("split-k,v,q", "the fused projection is split as k, v, q, not q, k, v", SELF)(
    _projections((1, 2, 0)))
SPLIT_V_Q_K = cause("split-v,q,k", "the fused projection is split as v, q, k, not q, k, v", SELF)(
    _projections((2, 0, 1)))
SPLIT_V_K_Q = cause("split-v,k,q", "the fused projection is split as v, k, q, not q, k, v: queries and values are "
                    "swapped", SELF)(_projections((2, 1, 0)))


# ---------------------------------------------------------------------------------------------
# How the heads are merged


def _heads_read(read: Callable[[np.ndarray, int, int], np.ndarray]) -> Change:
    """Multi-head attention whose concatenated heads meet W_O's columns as ``read(W_O, n_heads, d_head)``."""

    def change(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
        mha = g["multi_head_attention"]

        def multi_head_attention(E, W_Q, W_K, W_V_down, W_O, causal=True):
            n_heads, d_head, _ = W_Q.shape
            return mha(E, W_Q, W_K, W_V_down, read(W_O, n_heads, d_head), causal)

        return {"multi_head_attention": multi_head_attention}

    return change


def _interleaved(W_O: np.ndarray, n_heads: int, d_head: int) -> np.ndarray:
    return W_O.reshape(-1, d_head, n_heads).transpose(0, 2, 1).reshape(W_O.shape)


def _reversed(W_O: np.ndarray, n_heads: int, d_head: int) -> np.ndarray:
    return W_O.reshape(-1, n_heads, d_head)[:, ::-1].reshape(W_O.shape)


def _dropped(head: int) -> Callable[[np.ndarray, int, int], np.ndarray]:
    def read(W_O: np.ndarray, n_heads: int, d_head: int) -> np.ndarray:
        blocks = W_O.reshape(-1, n_heads, d_head).copy()
        blocks[:, head] = 0
        return blocks.reshape(W_O.shape)

    return read


HEADS_INTERLEAVED = cause("heads-interleaved", "the heads are merged interleaved (d_head-major, head index fastest), "
                          "not head after head", MHA)(_heads_read(_interleaved))
HEADS_REVERSED = cause("heads-reversed", "the heads are merged in reverse order", MHA)(_heads_read(_reversed))
HEAD_DROPPED_LAST = cause("head-dropped-last", "the last head is dropped (its output never reaches W_O)", MHA)(
    _heads_read(_dropped(-1)))
HEAD_DROPPED_FIRST = cause("head-dropped-first", "the first head is dropped (its output never reaches W_O)", MHA)(
    _heads_read(_dropped(0)))


@cause("heads-share-keys", "every head reads the first head's keys and values (a multi-query broadcast), not its own",
       MHA)
def _heads_share_keys(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    mha = g["multi_head_attention"]

    def multi_head_attention(E, W_Q, W_K, W_V_down, W_O, causal=True):
        first = np.broadcast_to(W_K[:1], W_K.shape), np.broadcast_to(W_V_down[:1], W_V_down.shape)
        return mha(E, W_Q, *first, W_O, causal)

    return {"multi_head_attention": multi_head_attention}
