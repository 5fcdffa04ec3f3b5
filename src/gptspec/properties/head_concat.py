"""Head-concat equivalence: multi-head attention is the sum of its heads.

ΔE = W_O · concat_h(W_V_down[h] E A_h) = Σ_h W_V_up_h W_V_down[h] E A_h, where W_V_up_h is column
block h of W_O (columns h·d_head … (h+1)·d_head − 1). So the heads may be summed one by one,
permuted together with their blocks of W_O, or — with one head — given to attention_head.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from . import expect
from .coded import permutations
from .common import calls, heads_tolerance
from .registry import prop
from .strategies import MultiHead, heads, multi_heads
from .tolerance import head_tolerance

CAUSAL = True


def mha(impl: Any, h: MultiHead) -> np.ndarray:
    return _mha_shape(impl.multi_head_attention(*h.args, CAUSAL), h)


def _mha_shape(result: Any, h: MultiHead) -> np.ndarray:
    return expect.shape("multi_head_attention(E, ...)", result, h.E.shape)


@prop("head_concat.sum_of_heads", needs=("multi_head_attention", "attention_head"),
      statement="multi_head_attention = Σ_h attention_head(E, W_Q[h], W_K[h], W_V_down[h], W_V_up = block h of W_O)",
      strategy=lambda: multi_heads())
def sum_of_heads(impl: Any, h: MultiHead) -> None:
    n_heads = h.W_Q.shape[0]
    made = calls(impl, *(("attention_head", (*h.head(i).args, CAUSAL)) for i in range(n_heads)),
                 ("multi_head_attention", (*h.args, CAUSAL)))
    want = sum(np.asarray(made[i], dtype=np.float64) for i in range(n_heads))
    expect.close(f"multi_head_attention ({n_heads} heads of d_head {h.d_head}, W_O {h.W_O.shape})",
                 _mha_shape(made[n_heads], h), want, heads_tolerance(h), note="compared with the sum of attention_head over heads")


@prop("head_concat.concat_equals_sum", needs=("multi_head_attention", "attention_pattern"),
      statement="W_O · concat_h(W_V_down[h] E A_h) = Σ_h W_V_up_h W_V_down[h] E A_h with A_h = attention_pattern",
      strategy=lambda: multi_heads())
def concat_equals_sum(impl: Any, h: MultiHead) -> None:
    n_heads, d = h.W_Q.shape[0], h.d_head
    want = np.zeros(h.E.shape)
    one_heads = [h.head(i) for i in range(n_heads)]
    made = calls(impl, *(("attention_pattern", (one.W_Q @ one.E, one.W_K @ one.E, CAUSAL)) for one in one_heads),
                 ("multi_head_attention", (*h.args, CAUSAL)))
    for i, one in enumerate(one_heads):
        A = np.asarray(made[i], dtype=np.float64)
        want += one.W_V_up.astype(np.float64) @ (one.W_V_down.astype(np.float64) @ one.E @ A)
    expect.close(f"multi_head_attention = W_O · concat ({n_heads} heads, W_O {h.W_O.shape})", _mha_shape(made[n_heads], h),
                 want, heads_tolerance(h), note=f"compared with Σ_h W_O[:, {d}h:{d}(h+1)] W_V_down[h] E A_h")


@st.composite
def permuted_heads(draw: st.DrawFn) -> tuple[MultiHead, list[int]]:
    h = draw(multi_heads())
    return h, draw(permutations(h.W_Q.shape[0]))


@prop("head_concat.head_permutation", needs=("multi_head_attention",),
      statement="permuting the heads together with their column blocks of W_O leaves multi_head_attention unchanged",
      strategy=permuted_heads)
def head_permutation(impl: Any, example: tuple[MultiHead, list[int]]) -> None:
    h, order = example
    d = h.d_head
    columns = np.concatenate([np.arange(i * d, (i + 1) * d) for i in order]).astype(int)
    permuted = MultiHead(h.E, h.W_Q[order], h.W_K[order], h.W_V_down[order], h.W_O[:, columns], h.magnitude)
    made = calls(impl, ("multi_head_attention", (*permuted.args, CAUSAL)), ("multi_head_attention", (*h.args, CAUSAL)))
    expect.close(f"multi_head_attention with heads in order {order}", _mha_shape(made[0], permuted), _mha_shape(made[1], h),
                 heads_tolerance(h), note="compared with the heads in their original order")


@prop("head_concat.one_head", needs=("multi_head_attention", "attention_head"),
      statement="with one head, multi_head_attention(E, W_Q[None], W_K[None], W_V_down[None], W_V_up) = attention_head",
      strategy=lambda: heads())
def one_head(impl: Any, h: Any) -> None:
    stacked = MultiHead(h.E, h.W_Q[None], h.W_K[None], h.W_V_down[None], h.W_V_up, h.magnitude)
    made = calls(impl, ("attention_head", (*h.args, CAUSAL)), ("multi_head_attention", (*stacked.args, CAUSAL)))
    want = expect.shape("attention_head(E, ...)", made[0], h.E.shape)
    expect.close(f"multi_head_attention with 1 head of d_head {h.W_Q.shape[0]}", _mha_shape(made[1], stacked), want,
                 head_tolerance(h.E, h.E, *h.args[1:]), note="compared with attention_head")
