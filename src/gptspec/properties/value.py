"""Value factorisation: W_V = W_V_up W_V_down has rank at most d_head.

Every column of one head's ΔE = W_V_up (W_V_down E A) lies in the column space of W_V_up, so
rank(ΔE) <= d_head whatever E and A are; multi-head attention adds n_heads such terms, so its ΔE
has rank <= n_heads · d_head. The factorisation is why a head costs 2 · d_head · d_model values
rather than d_model².
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from . import expect
from .domain import NEEDS_HEADS_BELOW
from .registry import prop
from .strategies import UNIT, Head, MultiHead, configs, heads, multi_heads
from .tolerance import tolerance


def low_rank_configs() -> st.SearchStrategy[Any]:
    """Configs where n_heads · d_head can be below d_model and ctx, so the bound has teeth.

    Unit scale only: the rank is a matter of structure, and at extreme scales a bug's extra
    singular values hide under the rounding floor of the value path.
    """
    return configs(max_heads=2, max_d_head=2, uses=("d_model", "n_heads", "d_head"))


def numerical_rank(M: np.ndarray, value_scale: float, dtype: np.dtype) -> tuple[int, np.ndarray]:
    """Singular values above rtol · value scale · √size count; below is rounding."""
    s = np.linalg.svd(M.astype(np.float64), compute_uv=False)
    floor = float(tolerance(dtype).of(value_scale * np.sqrt(M.size)))
    return int(np.sum(s > floor)), s


def _value_scale(E: np.ndarray, W_V_up: np.ndarray, W_V_down: np.ndarray) -> float:
    """max |W_V_up| |W_V_down| |E|: a bound on every ΔE entry (A's columns sum to 1)."""
    a = np.abs
    return float(np.max(a(W_V_up.astype(np.float64)) @ a(W_V_down.astype(np.float64)) @ a(E.astype(np.float64))))


def at_most(what: str, M: Any, shape: tuple[int, ...], limit: int, limit_name: str, scale: float, dtype: np.dtype) -> None:
    M = expect.shape(what, M, shape)
    rank, s = numerical_rank(M, scale, dtype)
    if rank > limit:
        raise expect.fail(
            f"{what} of shape {shape}: expected rank <= {limit_name} = {limit}, got rank {rank} "
            f"(singular value {rank} is {expect.fmt(s[rank - 1])}, largest {expect.fmt(s[0])})"
        )


@prop("value.head_rank_at_most_d_head", needs=("attention_head",),
      statement="rank(attention_head's ΔE) <= d_head: ΔE = W_V_up (W_V_down E A) lives in W_V_up's columns",
      strategy=lambda: heads(config=low_rank_configs(), magnitude=UNIT))
def head_rank_at_most_d_head(impl: Any, h: Head) -> None:
    d_head = h.W_Q.shape[0]
    at_most("attention_head ΔE", impl.attention_head(*h.args, True), h.E.shape, d_head, "d_head",
            _value_scale(h.E, h.W_V_up, h.W_V_down), h.E.dtype)


@prop("value.mha_rank_at_most_heads_times_d_head", needs=("multi_head_attention",),
      statement="rank(multi_head_attention's ΔE) <= n_heads · d_head",
      strategy=lambda: multi_heads(config=low_rank_configs(), magnitude=UNIT), requires=(NEEDS_HEADS_BELOW,))
def mha_rank_at_most_heads_times_d_head(impl: Any, h: MultiHead) -> None:
    n_heads = h.W_Q.shape[0]
    scale = sum(_value_scale(h.E, one.W_V_up, one.W_V_down) for one in map(h.head, range(n_heads)))
    at_most("multi_head_attention ΔE", impl.multi_head_attention(*h.args, True), h.E.shape, n_heads * h.d_head,
            "n_heads · d_head", scale, h.E.dtype)
